"""`values --explain` masks secret-looking values as the diffs do (issue 17, item 11), on the real
Bitnami postgresql chart: a password the customer set is masked, the names of secrets are not."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli
from realworld import PROD_OVERRIDES, build_charts_pair

PASSWORD = "Xk29fjQ0pLm3aQ7wZ"


def test_values_explain_masks_secrets_and_keeps_names(tmp_path: Path):
    configs, infra = build_charts_pair(tmp_path, ["postgresql"])
    (configs / "customers/acme/postgresql/values.yaml").write_text(
        PROD_OVERRIDES["postgresql"].replace("auth:\n", f"auth:\n  postgresPassword: {PASSWORD}\n", 1))
    base = ["values", "acme", "postgresql", "prod", "--configs", configs, "--infra", infra]
    for fmt in ("yaml", "json"):
        proc = run_cli(*base, "--explain", "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert PASSWORD not in proc.stdout and PASSWORD not in proc.stderr
        assert "*** (sha256:" in proc.stdout
        assert "postgres-password" in proc.stdout  # secretKeys.adminPasswordKey names a key: shown
    shown = json.loads(run_cli(*base, "--explain", "--format", "json").stdout)["values"]
    assert shown["auth"]["postgresPassword"].startswith("*** (sha256:")
    assert shown["auth"]["existingSecret"] == "acme-postgresql"
    assert shown["primary"]["resources"]["limits"]["memory"] == "2Gi"
    # without --explain the output is exactly the values, for Helm
    plain = json.loads(run_cli(*base, "--format", "json").stdout)
    assert plain["auth"]["postgresPassword"] == PASSWORD
