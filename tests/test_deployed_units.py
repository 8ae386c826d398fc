"""Deployed units: each generated Application's own values (its value files, its order, at the revision
its `$values` ref names) go through policy (`appset/deployed-policy`), schema (`appset/deployed-values`) and
the secrets scan (`appset/deployed-secrets`); where they equal the four-layer unit's, only the unit
checks report. Real git repositories in temporary folders, the command line as CI runs it."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import commit_all, findings_of, git, init_repo, run_cli, run_json

CONFIGS_URL = "http://localhost:7990/scm/test/customer-configs.git"
INFRA_URL = "http://localhost:7990/scm/test/platform-infrastructure.git"
SCHEMA = '{"type": "object", "properties": {"replicaCount": {"type": "integer", "minimum": 1}}}'
# a private key block as detect-secrets' PrivateKeyDetector finds it (its own test fixtures' shape)
SECRET_LINE = "-----BEGIN RSA PRIVATE KEY-----"


def appset(value_files: list[str], ref_revision: str = "main", name: str = "per-env") -> str:
    """Pattern 2 of the architecture: customers' value files x a list of environments (Go templates)."""
    files = "".join(f"              - '{f}'\n" for f in value_files)
    return f"""apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: {name}
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - matrix:
        generators:
          - git:
              repoURL: {CONFIGS_URL}
              revision: main
              files:
                - path: "customers/*/*/values.yaml"
          - list:
              elements:
                - env: prod
  template:
    metadata:
      name: '{{{{ index .path.segments 1 }}}}-{{{{ index .path.segments 2 }}}}-{{{{ .env }}}}'
    spec:
      project: default
      sources:
        - repoURL: {INFRA_URL}
          targetRevision: main
          path: 'products/{{{{ index .path.segments 2 }}}}'
          helm:
            ignoreMissingValueFiles: true
            valueFiles:
{files}        - repoURL: {CONFIGS_URL}
          targetRevision: {ref_revision}
          ref: values
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{{{ index .path.segments 1 }}}}-{{{{ .env }}}}'
"""


FOUR_LAYERS = ["$values/products/{{ index .path.segments 2 }}/base-values.yaml",
               "$values/products/{{ index .path.segments 2 }}/environments/{{ .env }}.yaml",
               "$values/{{ .path.path }}/values.yaml",
               "$values/{{ .path.path }}/environments/{{ .env }}.yaml"]


def repos(tmp: Path, appset_text: str, prod_replicas: int = 3, customer: str = "image: {tag: '1.0'}\n",
          ) -> tuple[Path, Path]:
    configs = init_repo(tmp / "customer-configs", {
        "products/billing/base-values.yaml": "replicaCount: 1\n",
        "products/billing/values.schema.json": SCHEMA,
        "products/billing/environments/prod.yaml": f"replicaCount: {prod_replicas}\n",
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products:\n  - name: billing\n    environments: [prod]\n",
        "customers/acme/billing/values.yaml": customer,
    })
    infra = init_repo(tmp / "platform-infrastructure", {
        "applicationsets/set.yaml": appset_text,
        "products/billing/Chart.yaml": "apiVersion: v2\nname: billing\nversion: 0.1.0\n",
        "products/billing/values.yaml": "replicaCount: 1\n"})
    return configs, infra


def test_policy_runs_on_what_an_application_deploys(tmp_path: Path):
    # the product's prod file first, its base last: in Helm the base's replicaCount: 1 wins in prod
    files = [FOUR_LAYERS[1], FOUR_LAYERS[0], FOUR_LAYERS[2]]
    configs, infra = repos(tmp_path, appset(files))
    code, report, proc = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    # the four-layer unit (base, prod: 3 replicas) passes the policy; what is deployed does not
    assert [f for f in findings_of(report, "policy/rego") if "replica" in f["message"]] == []
    deployed = findings_of(report, "appset/deployed-policy")
    assert code == 1 and len(deployed) == 1, deployed
    f = deployed[0]
    assert "deny_prod_replicas" in f["message"] and "acme-billing-prod" in f["message"]
    assert "ApplicationSet per-env" in f["message"]
    assert (f["repo"], f["path"], f["line"]) == ("customer-configs", "products/billing/base-values.yaml", 1)


def test_values_equal_to_the_unit_are_reported_once(tmp_path: Path):
    # prod has one replica in the four-layer model too; the Application layers the same files plus an
    # empty one: its values equal the unit's, so policy/rego reports it and appset/deployed-policy does not
    files = [*FOUR_LAYERS[:3], "$values/{{ .path.path }}/extra.yaml"]
    configs, infra = repos(tmp_path, appset(files), prod_replicas=1)
    (configs / "customers/acme/billing/extra.yaml").write_text("{}\n")
    commit_all(configs, "an empty extra layer")
    code, report, proc = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    unit = [f for f in findings_of(report, "policy/rego") if "deny_prod_replicas" in f["message"]]
    assert code == 1 and len(unit) == 1, proc.stderr
    assert findings_of(report, "appset/deployed-policy") == []
    # values that differ (the Application leaves out the product's prod file): only what differs is
    # reported -- the prod policies both fail (resources, probes...) stay policy/rego's findings
    configs2, infra2 = repos(tmp_path / "b", appset([FOUR_LAYERS[0], FOUR_LAYERS[2]]))
    _, report2, _ = run_json("--configs", configs2, "--infra", infra2, tmp=tmp_path)
    unit = findings_of(report2, "policy/rego")
    assert unit and not [f for f in unit if "deny_prod_replicas" in f["message"]]
    deployed = findings_of(report2, "appset/deployed-policy")
    assert len(deployed) == 1 and "deny_prod_replicas" in deployed[0]["message"]
    assert deployed[0]["path"] == "products/billing/base-values.yaml"


def test_values_read_at_the_ref_revision(tmp_path: Path):
    # the prod Application reads its values from branch `release`: its replicaCount 0 is deployed, while
    # the tree checked (main) has 2
    configs, infra = repos(tmp_path, appset(FOUR_LAYERS, ref_revision="release"), customer="replicaCount: 0\n")
    git(configs, "branch", "release")
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 2\n")
    commit_all(configs, "fix replicas on main")
    code, report, proc = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert findings_of(report, "schema/values") == [], proc.stderr
    deployed = findings_of(report, "appset/deployed-values")
    assert code == 1 and len(deployed) == 1, deployed
    f = deployed[0]
    assert f["path"] == "customers/acme/billing/values.yaml" and f["line"] == 1
    assert "read at release" in f["message"] and "acme-billing-prod" in f["message"]
    assert findings_of(report, "appset/value-revision") == []

    # the other way round: release is valid and main (the tree checked) is not -- the unit check
    # reports main's values, the release Application deploys valid ones
    git(configs, "checkout", "-q", "release")
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 4\n")
    commit_all(configs, "release fixed")
    git(configs, "checkout", "-q", "main")
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 0\n")  # not even committed
    _, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert len(findings_of(report, "schema/values")) == 1
    assert findings_of(report, "appset/deployed-values") == []


def test_the_tree_checked_stands_for_the_configured_branch(tmp_path: Path):
    # a staging-branch checkout whose Applications read values from main: GITOPS_CHECKS_BRANCH says the
    # tree checked is staging, so main's committed values are the ones deployed and validated
    configs, infra = repos(tmp_path, appset(FOUR_LAYERS), customer="replicaCount: 0\n")
    git(configs, "checkout", "-q", "-b", "staging")
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 2\n")
    env = {"GITOPS_CHECKS_BRANCH": "staging"}
    _, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path, env=env)
    deployed = findings_of(report, "appset/deployed-values")
    assert len(deployed) == 1 and "read at main" in deployed[0]["message"]
    # by default the tree checked stands for main: the working tree's values are the deployed ones
    _, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert findings_of(report, "appset/deployed-values") == []


def test_a_ref_revision_git_does_not_have_is_an_error(tmp_path: Path):
    configs, infra = repos(tmp_path, appset(FOUR_LAYERS, ref_revision="release-9"))
    code, report, proc = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    found = findings_of(report, "appset/value-revision")
    assert code == 1 and len(found) == 1, proc.stderr
    f = found[0]
    assert f["severity"] == "error" and f["path"] == "applicationsets/set.yaml" and f["line"]
    assert "release-9" in f["message"] and "acme-billing-prod" in f["message"]
    # nothing validated against values that are not the deployed ones
    assert findings_of(report, "appset/deployed-values") == []


def test_secrets_in_values_read_at_another_revision(tmp_path: Path):
    key = (f"{SECRET_LINE}\n"
           "MIIEowIBAAKCAQEAsU1vWPmu6BbnpQIMvZpg1GoqMsr1oP1ZyFbmsKnIcwEU7pmC\n"
           "-----END RSA PRIVATE KEY-----\n")
    block = "".join(f"    {line}\n" for line in key.splitlines())
    configs, infra = repos(tmp_path, appset(FOUR_LAYERS, ref_revision="release"),
                           customer=f"replicaCount: 2\ntls:\n  key: |\n{block}")
    git(configs, "branch", "release")
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 2\ntls:\n  existingSecret: acme-tls\n")
    commit_all(configs, "the key moved to a Secret on main")
    code, report, proc = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    # the tree checked is clean; release, which the Application deploys, is not
    assert findings_of(report, "secrets/plaintext") == [], proc.stderr
    found = findings_of(report, "appset/deployed-secrets")
    assert code == 1 and len(found) == 1
    f = found[0]
    assert f["path"] == "customers/acme/billing/values.yaml" and f["line"] == 4  # the first line of the block
    assert "as at release" in f["message"] and "acme-billing-prod" in f["message"]
    assert "MIIEowIBAAKCAQEA" not in (tmp_path / "report.json").read_text()


def _diff(configs: Path, infra: Path, tmp: Path) -> tuple[dict, str]:
    out, text = tmp / "diff.json", tmp / "diff.txt"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--base", "main", "--head", "HEAD",
                   "--report", f"json={out}", "--report", f"text={text}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), text.read_text()


def test_the_diff_shows_a_deployed_applications_own_values(tmp_path: Path):
    # the Application layers base and customer values only; the four-layer prod unit has the customer's
    # prod file too, which pins replicaCount to 4: raising the customer's 2 to 5 changes only what the
    # Application deploys
    configs, infra = repos(tmp_path, appset([FOUR_LAYERS[0], FOUR_LAYERS[2]]),
                           customer="replicaCount: 2\nimage: {tag: '1.0'}\n")
    (configs / "customers/acme/billing/environments").mkdir()
    (configs / "customers/acme/billing/environments/prod.yaml").write_text("replicaCount: 4\n")
    commit_all(configs, "acme runs 4 in prod")
    git(configs, "checkout", "-q", "-b", "feature")
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 5\nimage: {tag: '1.1'}\n")
    commit_all(configs, "billing 1.1 for acme, 5 replicas")
    data, text = _diff(configs, infra, tmp_path)
    (app,) = data["applications"]["changed"]
    assert app["name"] == "acme-billing-prod" and app["applicationset"] == "per-env"
    # the tag change is the unit's too (shown once, in units); the replica change is the Application's own
    assert app["changes"] == [{"field": "values.replicaCount", "before": 2, "after": 5,
                               "source": {"repo": "customer-configs", "path": "customers/acme/billing/values.yaml",
                                          "line": 1}}]
    assert "application changed: acme-billing-prod: values.replicaCount: 2 -> 5" in text
    assert [c["path"] for u in data["units"] for c in u["changes"]] == [["image", "tag"]]

    # an Application deploying exactly the four-layer files: its values are the unit's, shown once (in units)
    configs2, infra2 = repos(tmp_path / "b", appset(FOUR_LAYERS))
    git(configs2, "checkout", "-q", "-b", "feature")
    (configs2 / "customers/acme/billing/values.yaml").write_text("image: {tag: '1.1'}\n")
    commit_all(configs2, "billing 1.1 for acme")
    data2, _ = _diff(configs2, infra2, tmp_path / "b")
    assert data2["applications"]["changed"] == []
    assert [c["path"] for u in data2["units"] for c in u["changes"]] == [["image", "tag"]]


def envless(appset_text: str) -> str:
    """Pattern 1 of the architecture: one Application per customer and product, no environment."""
    return (appset_text.replace("""    - matrix:
        generators:
          - git:
              repoURL: http://localhost:7990/scm/test/customer-configs.git
              revision: main
              files:
                - path: "customers/*/*/values.yaml"
          - list:
              elements:
                - env: prod""", """    - git:
        repoURL: http://localhost:7990/scm/test/customer-configs.git
        revision: main
        files:
          - path: "customers/*/*/values.yaml\"""")
            .replace("-{{ .env }}'", "'"))


def test_an_application_naming_no_environment_is_compared_with_each_environments_unit(tmp_path: Path):
    # base + customer values, no environment: the customer's `latest` tag is every four-layer unit's
    # problem too (policy/rego reports it); a tag only the base sets, which every environment file
    # overrides, is the Application's own
    text = envless(appset([FOUR_LAYERS[0], FOUR_LAYERS[2]]))
    assert "matrix" not in text and "{{ .env }}" not in text
    configs, infra = repos(tmp_path, text, customer="image: {repository: registry.example.com/billing, tag: latest}\n")
    _, report, proc = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    latest = [f for f in findings_of(report, "policy/rego") if "latest" in f["message"]]
    assert latest and latest[0]["path"] == "customers/acme/billing/values.yaml", proc.stderr
    assert [f for f in findings_of(report, "appset/deployed-policy") if "latest" in f["message"]] == []

    configs2, infra2 = repos(tmp_path / "b", text, customer="image: {repository: registry.example.com/billing}\n")
    (configs2 / "products/billing/base-values.yaml").write_text("replicaCount: 1\nimage: {tag: latest}\n")
    (configs2 / "products/billing/environments/prod.yaml").write_text("replicaCount: 3\nimage: {tag: '2.0'}\n")
    commit_all(configs2, "prod pins its tag; the base does not")
    _, report2, _ = run_json("--configs", configs2, "--infra", infra2, tmp=tmp_path)
    assert [f for f in findings_of(report2, "policy/rego") if "latest" in f["message"]] == []
    own = [f for f in findings_of(report2, "appset/deployed-policy") if "latest" in f["message"]]
    assert len(own) == 1 and own[0]["path"] == "products/billing/base-values.yaml"
    assert "acme-billing" in own[0]["message"] and "ApplicationSet per-env" in own[0]["message"]


def test_the_diff_of_a_file_no_generator_reads(tmp_path: Path):
    # the product's base values are read by no generator (the Applications stay the same) but are layered
    # into what they deploy: the prod unit's own prod file pins replicaCount, the Application (base and
    # customer values only) takes the base's change
    configs, infra = repos(tmp_path, appset([FOUR_LAYERS[0], FOUR_LAYERS[2]]))
    git(configs, "checkout", "-q", "-b", "feature")
    (configs / "products/billing/base-values.yaml").write_text("replicaCount: 2\n")
    commit_all(configs, "two replicas by default")
    data, _ = _diff(configs, infra, tmp_path)
    assert data["units"] == []  # prod's own file sets 3: the four-layer unit does not change
    (app,) = data["applications"]["changed"]
    assert app["name"] == "acme-billing-prod"
    assert [(c["field"], c["before"], c["after"]) for c in app["changes"]] == [("values.replicaCount", 1, 2)]


def _policy_run(configs: Path, infra: Path, check_ids: list[str], monkeypatch) -> tuple[list, list[str]]:
    """The checks in one process and one context (as one worker runs them), and every input text
    the engine was asked to evaluate."""
    from harness import context

    from checks.core.settings import Settings
    from checks.engines.rego import RegorusEngine
    from checks.runner.registry import all_checks
    from checks.runner.run import run_checks

    asked: list[str] = []
    original = RegorusEngine.evaluate_texts

    def counting(self, texts):
        asked.extend(texts)
        return original(self, texts)

    monkeypatch.setattr(RegorusEngine, "evaluate_texts", counting)
    settings = Settings()
    settings.policy_engine = "regorus"
    with context(configs, infra, settings) as ctx:
        result = run_checks(ctx, [all_checks()[cid]() for cid in check_ids], workers=False)
    return [(f.check, f.path, f.line, f.message) for f in result.findings], asked


def test_four_layer_units_are_evaluated_once_for_both_checks(tmp_path: Path, monkeypatch):
    # two ApplicationSets deploy the same values in another order than the four-layer model (the base
    # last: its replicaCount 1 wins in prod): the deployed inputs have results, so deployed-policy
    # compares them with the four-layer unit -- which policy/rego evaluates too
    files = [FOUR_LAYERS[1], FOUR_LAYERS[2], FOUR_LAYERS[0]]
    configs, infra = repos(tmp_path, appset(files), customer="image: {tag: latest}\n")
    (infra / "applicationsets/other.yaml").write_text(appset([*files, "$values/none.yaml"], name="other"))
    commit_all(infra, "a second ApplicationSet deploying the same values")
    alone = {cid: _policy_run(configs, infra, [cid], monkeypatch)[0]
             for cid in ("appset/deployed-policy", "policy/rego")}
    assert [m for _, _, _, m in alone["appset/deployed-policy"] if "deny_prod_replicas" in m]
    assert [m for _, _, _, m in alone["policy/rego"] if "deny_image_tag" in m]
    for order in (["appset/deployed-policy", "policy/rego"], ["policy/rego", "appset/deployed-policy"]):
        findings, asked = _policy_run(configs, infra, order, monkeypatch)
        # the same findings as each check alone (another worker, or the other check turned off)
        assert sorted(findings) == sorted(alone["appset/deployed-policy"] + alone["policy/rego"])
        assert len(asked) == len(set(asked)), "an input evaluated twice"
        # the four-layer unit once, and the two Applications' byte-identical values once
        assert sum('"environment": "prod"' in text for text in asked) == 2


def test_a_ref_revision_that_is_not_a_string_is_an_error_not_a_crash(tmp_path: Path):
    # `targetRevision: 2` is a YAML number: the CRD rejects it, and no deployed check crashes on it
    configs, infra = repos(tmp_path, appset(FOUR_LAYERS, ref_revision="2"))
    code, report, proc = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert code == 1, proc.stderr
    assert findings_of(report, "internal/crash") == []
    found = findings_of(report, "appset/value-revision")
    assert len(found) == 1 and "'2'" in found[0]["message"] and "not a string" in found[0]["message"]
    assert "acme-billing-prod" in found[0]["message"]
    assert any("targetRevision" in f["message"] for f in findings_of(report, "appset/crd"))
    assert findings_of(report, "appset/deployed-values") == []
