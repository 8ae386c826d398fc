"""The run service (runner/session.py) without the command line: what a request becomes."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import commit_all, git, init_repo, write_tree

from checks.core.findings import Severity
from checks.core.settings import Settings
from checks.model.platform import CONFIGS, Model
from checks.repo.history import History
from checks.repo.source import changed_paths, commits_between, open_source
from checks.runner.registry import RegistryError
from checks.runner.session import RunRequest, baseline_path, choose_checks, effective_settings, open_store, prepare
from checks.scope.selection import scope_for_changes

FILES = {
    "customers/acme/metadata.yaml": "name: acme\n", "customers/acme/products.yaml": "products: [web]\n",
    "customers/acme/web/values.yaml": "a: 1\n",
    "customers/globex/metadata.yaml": "name: globex\n", "customers/globex/products.yaml": "products: [web]\n",
    "customers/globex/web/values.yaml": "a: 1\n",
    "products/web/base-values.yaml": "a: 0\n",
}


def test_a_run_over_a_changes_scope(tmp_path: Path) -> None:
    configs = init_repo(tmp_path / "c", FILES)
    git(configs, "checkout", "-q", "-b", "change")
    write_tree(configs, {"customers/acme/web/values.yaml": "a: 1\na: 2\n"})
    head = commit_all(configs, "dup")
    request = RunRequest(configs, only=["yaml"], shard=None)
    settings = Settings()
    source = open_source(configs, CONFIGS, None)
    try:
        store = open_store({CONFIGS: source}, settings, None)
        scope = scope_for_changes(changed_paths(configs, "main", None))
        history = History(configs, commits_between(configs, "main", None))
        model = Model(store, settings.environments, set(scope.customers))
        session = prepare(request, settings, store, choose_checks(settings, request), scope, model, history)
        ctx = session.ctx
        assert ctx.history is not None and ctx.history.commits == (head,)
        assert ctx.scope is scope and scope.customers == {"acme"} and set(ctx.model.customers) == {"acme"}
        result = session.run()
    finally:
        source.close()
    assert [(f.check, f.path, f.line) for f in result.findings] == [
        ("yaml/duplicate-key", "customers/acme/web/values.yaml", 2)]
    assert result.units == 3 and {c.split("/")[0] for c in result.checks_run} == {"yaml"}


def test_options_over_settings_and_the_baseline_path(tmp_path: Path) -> None:
    settings = Settings(baseline="baseline.json")
    request = RunRequest(tmp_path, fail_on="warning", policy_engine="regorus")
    chosen = effective_settings(settings, request)
    assert (chosen.fail_on, chosen.policy_engine) == (Severity.WARNING, "regorus")
    assert settings.fail_on == Severity.ERROR  # the settings read from the file are left as they were
    assert baseline_path(request, settings) == tmp_path / "baseline.json"
    assert baseline_path(RunRequest(tmp_path, baseline=Path("/b.json")), settings) == Path("/b.json")
    assert baseline_path(request, Settings()) is None


def test_a_request_that_selects_no_check_is_refused() -> None:
    with pytest.raises(RegistryError, match="no check selected"):
        choose_checks(Settings(), RunRequest(Path("."), only=["yaml"], skip=["yaml"]))
