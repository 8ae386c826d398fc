"""One secret per detect-secrets detector type, planted where a user might leak it; no output may show one."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import copy_examples, findings_of, init_repo, run_cli

# Made-up values shaped to trigger each detector (none is a real credential).
# ruff: noqa: E501 - tokens are long by nature
PLANTED = {
    "AWS Access Key": ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLF"),
    "Azure Storage Account access key": ("conn", "AccountKey=lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NGe170Xu592euJv2wYUtBlV8z+qnlcNQSnIYVTkLWntUO1F8j8rQ=="),
    "Basic Auth Credentials": ("url", "https://deployer:Wh4tAP4ssw0rdThis1s@git.example.com/repo.git"),
    "Cloudant Credentials": ("cloudant", "https://myaccount:c2b30f5e4a51e8e6d39cb7a0a1b3c4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1@myaccount.cloudant.com"),
    "Discord Bot Token": ("discord", "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"),
    "GitHub Token": ("gh", "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"),
    "GitLab Token": ("gl", "glpat-abcdefghijkLMNOPQRst"),
    "Base64 High Entropy String": ("blob", "c2VjcmV0IG1lc3NhZ2Ugc28geW91J2xsIG5ldmVyIGd1ZXNzIG15IHBhc3N3b3Jk"),
    "Hex High Entropy String": ("session_value", "8b1118b376c313ed420e5133ba91307817ed52c2"),
    "IBM Cloud IAM Key": ("ibm_cloud_iam_api_key", "abcd1234abcd1234abcd1234ABCD1234abcd1234--__"),
    "JSON Web Token": ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
    "Secret Keyword": ("db_password", "Pl4nt3d-k3yw0rd-v4lu3"),
    "Mailchimp Access Key": ("mc", "343ea45721923ed956e2b38c31db76aa-us30"),
    "NPM tokens": ("npmrc", "//registry.npmjs.org/:_authToken=npm_Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789"),
    "OpenAI Token": ("openai", "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"),
    "Private Key": ("pem", "-----BEGIN RSA PRIVATE KEY-----"),
    "PyPI Token": ("pypi", "pypi-AgEIcHlwaS5vcmcCJDkwNzYwNzU1LWMwOTUtNGNkOC1iYjQzLTU3OWNhZjI1NDQ1MwACJXsicGVybWlzc2lvbnMiOiAidXNlciIsICJ2ZXJzaW9uIjogMX0AAAYgSpW5PAywXvchMUQnkF5H6-SolJysfUvIWopMsxE4hCM"),
    "SendGrid API Key": ("sg", "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"),
    "Slack Token": ("slack", "xoxb-2234567890-2234567890-AbCdEfGhIjKlMnOpQrStUvWx"),
    "Square OAuth Secret": ("square", "sq0csp-ABCDEFGHIJK_LMNOPQRSTUVWXYZ-0123456789\\abcd"),
    "Stripe Access Key": ("stripe", "sk_live_Ab3dEfGhIjKlMnOpQrStUvWx"),
    "Telegram Bot Token": ("telegram", "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX"),
    "Twilio API Key": ("twilio", "SK3f9a1c7e5b2d8f4a6c0e9b7d1f3a5c8e"),  # SKxxxx... is a placeholder
    "Artifactory Credentials": ("artifactory", "AKCp8jQ8tvY7p9QkzZ3dXC2VQq4m7YbQ8v4xTZ6kF3tYb9gL1xH2jR5nK8pW"),
}


def _plant(tmp_path: Path) -> tuple[Path, Path]:
    configs, infra = copy_examples(tmp_path)
    items = list(PLANTED.items())
    values = "".join(f"{key}: {json.dumps(value)}\n" for _, (key, value) in items[:12])
    env = "env:\n" + "".join(f"  - name: {key.upper()}\n    value: {json.dumps(value)}\n"
                             for _, (key, value) in items[12:18])
    (configs / "customers/acme-corp/billing/values.yaml").write_text(values + env)
    (configs / "customers/acme-corp/configs/app.env").write_text(
        "".join(f"{key.upper()}={value}\n" for _, (key, value) in items[18:]))
    # a plaintext secrets file where SOPS is required, and a broken file with a secret on the bad line
    (configs / "customers/acme-corp/search/secrets.yaml").write_text(f"token: {items[5][1][1]}\n")
    (configs / "customers/acme-corp/configs/broken.yaml").write_text(f"a: b: {items[20][1][1]}\n")
    return configs, infra


def test_no_planted_secret_appears_in_any_output(tmp_path: Path):
    configs, infra = _plant(tmp_path)
    out = tmp_path / "out"
    init_repo(configs)  # committed as the base; the planted head below is the working tree
    (configs / "customers/acme-corp/billing/environments/dev.yaml").write_text(
        f"db_password: {PLANTED['Secret Keyword'][1][::-1]}X\n")
    proc = run_cli("--configs", configs, "--infra", infra, "--base", "HEAD", "--report", f"json={out}/r.json",
                   "--report", f"console={out}/console.txt", "--report", "console",
                   "--report", f"junit={out}/j.xml", "--report", f"sarif={out}/s.sarif",
                   *[f"--report=diff-{fmt}={out}/d.{fmt}" for fmt in ("text", "markdown", "html", "json")],
                   env={"FORCE_COLOR": "1"})
    assert proc.returncode == 1
    report = json.loads((out / "r.json").read_text())
    found = {d for f in findings_of(report, "secrets/plaintext") for d in f["detectors"]}
    missing = sorted(set(PLANTED) - found)
    assert not missing, f"detectors that did not fire: {missing}"
    assert findings_of(report, "secrets/encryption") and findings_of(report, "yaml/syntax")
    outputs = {"stdout": proc.stdout, "stderr": proc.stderr, **{p.name: p.read_text() for p in out.iterdir()}}
    assert len(outputs) == 10  # console x2, json, junit, sarif, four diff formats
    rotated = PLANTED["Secret Keyword"][1][::-1] + "X"
    assert all(rotated not in text for text in outputs.values())
    for detector, (_, value) in PLANTED.items():
        for name, text in outputs.items():
            assert value not in text, f"{detector} value leaked into {name}"
            # nor a recognisable piece of it
            assert value[-16:] not in text, f"{detector} value tail leaked into {name}"


def test_no_secret_in_values_schema_messages_or_baselines(tmp_path: Path):
    configs, infra = _plant(tmp_path)
    baseline = tmp_path / "baseline.json"
    proc = run_cli("--configs", configs, "--infra", infra, "--write-baseline", baseline)
    assert proc.returncode == 0
    text = baseline.read_text() + proc.stdout + proc.stderr
    for _, value in PLANTED.values():
        assert value not in text
