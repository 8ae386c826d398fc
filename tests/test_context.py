"""The context checks are given: read-only, its services computed once, reached through checks.api."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from harness import context, run_check
from helpers import EXAMPLES

import checks.api as api
from checks.runner.context import Shared

PACKAGE = Path(__file__).resolve().parent.parent / "checks"


def test_what_the_run_is_about_cannot_be_replaced_by_a_check(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    with context(tmp_path / "c") as ctx:
        for name in ("settings", "sources", "store", "scope", "history", "model"):
            with pytest.raises(AttributeError):
                setattr(ctx, name, None)
        with pytest.raises(TypeError):
            ctx.sources["customer-configs"] = ctx.sources["customer-configs"]  # type: ignore[index]


def test_services_are_computed_once_and_shared() -> None:
    with context(EXAMPLES / "customer-configs", EXAMPLES / "platform-infrastructure") as ctx:
        assert ctx.terraform() is ctx.terraform()
        assert ctx.sops_config() is ctx.sops_config()
        assert ctx.secret_detectors() is ctx.secret_detectors()
        generations = ctx.appset_generations()
        assert generations and generations is ctx.appset_generations()
        assert sum(len(g.apps) for g in generations) > 0
        schema = ctx.product_schema("customer-configs", "billing")
        assert schema is not None and schema is ctx.product_schema("customer-configs", "billing")
        unit = ctx.units()[0]
        assert ctx.values(unit) is ctx.values(unit)
        assert ctx.model is ctx.model
        calls = []
        key: Shared[list[int]] = Shared("test")
        first = ctx.shared(key, lambda: calls.append(1) or [1])
        assert ctx.shared(key, lambda: calls.append(2) or [2]) is first and calls == [1]


def test_a_worker_keeps_the_kept_slots_after_the_whole_platform_checks() -> None:
    # the policy results per unit (policy_checks.EVALUATOR) outlive release_other_parts: the part's
    # policy/rego reuses what appset/deployed-policy evaluated; other slots are let go
    from checks.rules.policy_checks import EVALUATOR

    with context(EXAMPLES / "customer-configs", EXAMPLES / "platform-infrastructure") as ctx:
        held = ctx.holdings()
        dropped: Shared[list[int]] = Shared("dropped")
        kept: Shared[list[int]] = Shared("kept", kept=True)
        first_dropped, first_kept = ctx.shared(dropped, lambda: [1]), ctx.shared(kept, lambda: [1])
        ctx.release_other_parts(held)
        assert ctx.shared(kept, lambda: [2]) is first_kept
        assert ctx.shared(dropped, lambda: [2]) is not first_dropped
    assert EVALUATOR.kept


def test_no_module_outside_the_runner_assigns_to_a_context() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "runner":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            for target in targets:
                while isinstance(target, (ast.Attribute, ast.Subscript)):
                    if isinstance(target.value, ast.Name) and target.value.id == "ctx":
                        offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
                    target = target.value
    assert offenders == []


def test_checks_read_no_private_context_state_and_need_no_type_ignores() -> None:
    for path in (PACKAGE / "rules").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "ctx._" not in text and "ctx.cache" not in text, path.name
        assert "type: ignore" not in text, path.name
        assert "import subprocess" not in text, path.name  # repository access goes through checks.repo


def test_the_plugin_api_runs_a_third_party_check(tmp_path: Path) -> None:
    class OneFindingPerCustomer(api.Check):
        """Test plugin: a finding for every customer."""

        id = "consistency/test-one-per-customer"

        def run(self, ctx: api.Context):
            for customer in sorted(ctx.model.customers):
                yield self.finding(f"hello {customer}", repo=api.CONFIGS, path=f"customers/{customer}/metadata.yaml",
                                   customer=customer)

    found = run_check(OneFindingPerCustomer, tmp_path, files={
        "customers/acme/metadata.yaml": "name: acme\n", "customers/acme/products.yaml": "products: []\n"})
    assert [(f.check, f.message, f.severity) for f in found] == [
        ("consistency/test-one-per-customer", "hello acme", api.Severity.ERROR)]
    assert set(api.__all__) >= {"Check", "register", "Finding", "Severity", "Context"}
