"""One fault per broken copy of the examples: each check fires exactly where it should, and nowhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import copy_examples, run_json

ACME = "customers/acme-corp"
HEADER = "# Products this customer subscribes to (all environments unless listed).\nproducts:\n"
SUBS = "- name: billing\n  enabled: true\n- name: search\n  enabled: true\n"


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


MUTATIONS = {
    "unknown product": (
        lambda c, i: _append(c / ACME / "products.yaml", "- name: biling\n"),
        {("consistency/unknown-product", f"{ACME}/products.yaml", 7)}),
    "enabled product without values.yaml": (
        lambda c, i: (c / ACME / "search/values.yaml").unlink(),
        {("consistency/missing-values", f"{ACME}/products.yaml", 5)}),
    "directory nobody subscribes to": (
        lambda c, i: ((c / ACME / "analytics").mkdir(), (c / ACME / "analytics/values.yaml").write_text("a: 1\n")),
        {("consistency/orphan-config", f"{ACME}/analytics", None)}),
    "environment file for an unsubscribed environment": (
        lambda c, i: ((c / ACME / "products.yaml").write_text(
            HEADER + "- name: billing\n- name: search\n  environments: [staging, prod]\n"),
            (c / ACME / "search/environments/dev.yaml").write_text("replicaCount: 1\n")),
        {("consistency/orphan-config", f"{ACME}/search/environments/dev.yaml", None)}),
    "unknown environment": (
        lambda c, i: (c / ACME / "products.yaml").write_text(
            HEADER + "- name: billing\n- name: search\n  environments: [dev, staging, prod, prd]\n"),
        {("consistency/environments", f"{ACME}/products.yaml", 5)}),
    "product listed twice": (
        lambda c, i: _append(c / ACME / "products.yaml", "- name: search\n"),
        {("consistency/subscriptions", f"{ACME}/products.yaml", 7)}),
    "metadata id differs from the directory": (
        lambda c, i: (c / ACME / "metadata.yaml").write_text("id: acme\nname: Acme Corp\n"),
        {("consistency/metadata", f"{ACME}/metadata.yaml", 1)}),
    "metadata missing": (
        lambda c, i: (c / ACME / "metadata.yaml").unlink(),
        {("consistency/metadata", ACME, None)}),
    "metadata of the wrong shape": (
        lambda c, i: (c / ACME / "metadata.yaml").write_text(
            (c / ACME / "metadata.yaml").read_text().replace("- acme-corp.example.com", "- not a host!")),
        {("schema/metadata", f"{ACME}/metadata.yaml", 9)}),
    "products.yaml of the wrong shape": (
        lambda c, i: (c / ACME / "products.yaml").write_text(HEADER.replace("products:\n", "products: billing\n")),
        {("schema/products", f"{ACME}/products.yaml", 2),
         # consequences: nothing is subscribed, so both product directories deploy nothing
         ("consistency/orphan-config", f"{ACME}/billing", None),
         ("consistency/orphan-config", f"{ACME}/search", None)}),
    "base values without a chart": (
        lambda c, i: (i / "products/notifications/Chart.yaml").unlink(),
        {("consistency/product-pairing", "products/notifications/base-values.yaml", 1)}),
    "chart without base values": (
        lambda c, i: ((i / "products/extra").mkdir(), (i / "products/extra/Chart.yaml").write_text(
            "apiVersion: v2\nname: extra\nversion: 1.0.0\n")),
        {("consistency/product-pairing", "products/extra/Chart.yaml", 1)}),
    "prod-only schema break in a product environment": (
        lambda c, i: (c / "products/billing/environments/prod.yaml").write_text(
            (c / "products/billing/environments/prod.yaml").read_text().replace("logLevel: warn", "logLevel: loud")),
        {("schema/values", "products/billing/environments/prod.yaml", 9)}),
    "invalid customer name": (
        lambda c, i: (c / "customers/acme-corp").rename(c / "customers/ACME_corp"),
        {("consistency/names", "customers/ACME_corp", None)}),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_one_fault_fires_exactly_where_it_should(tmp_path: Path, name: str):
    configs, infra = copy_examples(tmp_path)
    mutate, expected = MUTATIONS[name]
    mutate(configs, infra)
    # policies and ApplicationSets react to the same faults by design (their own tests cover them)
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--skip", "policy", "--skip", "appset",
                                  tmp=tmp_path)
    got = {(f["check"], f["path"], f["line"]) for f in report["findings"]}
    assert got == expected, proc.stdout
    assert code == (1 if any(f["severity"] == "error" for f in report["findings"]) else 0)


def test_prod_only_break_is_one_finding_for_every_affected_unit(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    MUTATIONS["prod-only schema break in a product environment"][0](configs, infra)
    _, report, _ = run_json("--configs", configs, "--infra", infra, "--skip", "policy", "--skip", "appset",
                            tmp=tmp_path)
    (f,) = report["findings"]
    assert f["environment"] == "prod" and f["product"] == "billing" and f["customer"] is None
    assert '"loud" is not one of' in f["message"] and "units of" in f["message"]


def test_subscriptions_lines_are_only_worked_out_for_a_finding(tmp_path: Path):
    """A products.yaml is read without positions; consistency/unknown-product asks for a line only
    to report one (asking parses the file again)."""
    from harness import context

    from checks.runner.registry import all_checks
    from checks.runner.run import run_checks

    configs, infra = copy_examples(tmp_path)
    with context(configs, infra) as ctx:
        result = run_checks(ctx, [all_checks()["consistency/unknown-product"]({})], workers=False)
        assert result.findings == []
        products = [p for p in ctx.store.parsed() if p.path.endswith("/products.yaml")]
        assert products
        assert all(d._positions is None for p in products for d in p.documents)
    _append(configs / ACME / "products.yaml", "- name: biling\n")
    with context(configs, infra) as ctx:
        result = run_checks(ctx, [all_checks()["consistency/unknown-product"]({})], workers=False)
        assert [(f.path, f.line) for f in result.findings] == [(f"{ACME}/products.yaml", 7)]
