"""Effective-value diffs on real git histories: fan-out, environments, subscriptions, identity
matching, masking in every format, and the HTML report in a real headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import ROOT, commit_all, copy_examples, git, init_repo, run_cli

from checks.diffing.values_diff import diff_values

ARTIFACTS = ROOT / "tests" / "artifacts"


def history(tmp: Path) -> tuple[Path, Path]:
    configs, infra = copy_examples(tmp)
    init_repo(configs)
    git(configs, "checkout", "-q", "-b", "feature")
    return configs, infra


def diff_json(configs: Path, infra: Path, *extra: str) -> dict:
    out = configs.parent / "diff.json"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--report", f"json={out}", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def subscribers(configs: Path, product: str) -> set[str]:
    return {p.parent.parent.name for p in configs.glob(f"customers/*/{product}/values.yaml")}


def test_product_base_change_fans_out_to_every_subscriber(tmp_path: Path):
    configs, infra = history(tmp_path)
    base = configs / "products/search/base-values.yaml"
    base.write_text(base.read_text().replace("betaSearch: false", "betaSearch: true"))
    commit_all(configs, "enable beta search")
    data = diff_json(configs, infra, "--base", "main", "--head", "HEAD")
    assert data["version"] == 1 and data["head"] == "HEAD"
    units = data["units"]
    assert {u["customer"] for u in units} == subscribers(configs, "search")
    assert len(units) == 3 * len(subscribers(configs, "search"))
    for u in units:
        assert u["status"] == "changed" and u["product"] == "search"
        (change,) = u["changes"]
        assert change == {"path": ["featureFlags", "betaSearch"], "kind": "changed", "before": False, "after": True,
                          "source": {"repo": "customer-configs", "path": "products/search/base-values.yaml",
                                     "line": 26}}
    assert data["summary"]["changed_files"] == {"products/search/base-values.yaml": len(units)}


def test_environment_only_change_touches_only_that_environment(tmp_path: Path):
    configs, infra = history(tmp_path)
    (configs / "products/billing/environments/staging.yaml").write_text("replicaCount: 5\n")
    data = diff_json(configs, infra, "--base", "main")  # head: the working tree
    envs = {u["environment"] for u in data["units"]}
    assert envs == {"staging"} and {u["product"] for u in data["units"]} == {"billing"}
    assert all(u["status"] == "changed" for u in data["units"])


def test_new_subscription_adds_three_units_and_removal_is_highlighted(tmp_path: Path):
    configs, infra = history(tmp_path)
    products = configs / "customers/acme-corp/products.yaml"
    products.write_text(products.read_text() + "- name: analytics\n  enabled: true\n")
    (configs / "customers/acme-corp/analytics").mkdir()
    (configs / "customers/acme-corp/analytics/values.yaml").write_text("replicaCount: 2\n")
    data = diff_json(configs, infra, "--base", "main")
    added = [u for u in data["units"] if u["status"] == "added"]
    assert sorted(u["environment"] for u in added) == ["dev", "prod", "staging"]
    assert all(u["customer"] == "acme-corp" and u["product"] == "analytics" for u in added)
    # removing a subscription: ArgoCD will delete a running app
    products.write_text(products.read_text().replace("- name: search\n  enabled: true\n", ""))
    out = tmp_path / "d.md"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--base", "main", "--report", f"markdown={out}",
                   "--report", "text")
    md = out.read_text()
    assert "**3 units removed:** merging makes ArgoCD delete the running apps of acme-corp/search/dev" in md
    assert "[removed] 1 unit: acme-corp/search/dev" in proc.stdout


def test_list_reordering_with_stable_names_is_not_a_change(tmp_path: Path):
    configs, infra = history(tmp_path)
    base = configs / "products/billing/base-values.yaml"
    text = base.read_text()
    swapped = text.replace("- name: LOG_FORMAT\n  value: json\n- name: PRODUCT\n  value: billing\n",
                           "- name: PRODUCT\n  value: billing\n- name: LOG_FORMAT\n  value: json\n")
    assert swapped != text
    base.write_text(swapped)
    assert diff_json(configs, infra, "--base", "main")["units"] == []
    base.write_text(swapped.replace("value: billing", "value: billing-v2"))
    data = diff_json(configs, infra, "--base", "main")
    paths = {tuple(c["path"]) for u in data["units"] for c in u["changes"]}
    assert paths == {("env", "name=PRODUCT", "value")}


def test_secret_values_are_masked_in_every_format(tmp_path: Path):
    configs, infra = history(tmp_path)
    old, new = "Xk29fjQ0pLm3aQ7wZr", "Yb83kdP2mQ9xWv1uTs"
    base = configs / "products/billing/base-values.yaml"
    base.write_text(base.read_text() + f"dbPassword: {old}\n")
    commit_all(configs, "old secret")
    git(configs, "branch", "-f", "main", "HEAD")
    base.write_text(base.read_text().replace(old, new))
    out = tmp_path / "out"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--base", "main", "--report", "text",
                   *[f"--report={fmt}={out}/d.{fmt}" for fmt in ("markdown", "html", "json")])
    assert proc.returncode == 0
    reports = [proc.stdout, *(p.read_text() for p in out.iterdir())]
    assert len(reports) == 4
    for text in [*reports, proc.stderr]:
        assert old not in text and new not in text
    for text in reports:
        assert "*** (sha256:" in text
    data = json.loads((out / "d.json").read_text())
    change = data["units"][0]["changes"][0]
    assert change["masked"] is True and change["before"] != change["after"]


def test_promotion_view_between_environments(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    data = diff_json(configs, infra, "--from-env", "staging", "--to-env", "prod", "--customer", "globex",
                     "--product", "search")
    (unit,) = data["units"]
    assert (unit["customer"], unit["product"], unit["environment"]) == ("globex", "search", "prod")
    rc = next(c for c in unit["changes"] if c["path"] == ["replicaCount"])
    assert (rc["before"], rc["after"]) == (3, 2)


def test_diff_reports_from_the_main_run(tmp_path: Path):
    configs, infra = history(tmp_path)
    (configs / "products/billing/environments/staging.yaml").write_text("replicaCount: 5\n")
    out = tmp_path / "out"
    proc = run_cli("--configs", configs, "--infra", infra, "--base", "main", "--report", f"json={out}/f.json",
                   "--report", f"diff-json={out}/d.json", "--report", f"diff-markdown={out}/d.md")
    assert proc.returncode == 0, proc.stdout
    assert json.loads((out / "f.json").read_text())["findings"] == []
    assert json.loads((out / "d.json").read_text())["summary"]["units_changed"] > 0
    assert (out / "d.md").read_text().startswith("### Effective values")


def test_markdown_is_capped_with_a_note(tmp_path: Path):
    configs, infra = history(tmp_path)
    for path in configs.glob("customers/*/*/values.yaml"):
        path.write_text(path.read_text() + f"note: {'x' * 60}-{path.parent.parent.name}\n")
    out = tmp_path / "d.md"
    run_cli("diff", "--configs", configs, "--infra", infra, "--base", "main", "--report", f"markdown={out}")
    md = out.read_text()
    assert len(md) <= 30_000
    assert "**Truncated:**" in md and "HTML diff report" in md


def test_bad_revision_exits_2(tmp_path: Path):
    configs, _ = history(tmp_path)
    proc = run_cli("diff", "--configs", configs, "--base", "no-such-rev")
    assert proc.returncode == 2 and "unknown revision" in proc.stderr


# -- value diff semantics ------------------------------------------------------------
def test_value_diff_kinds_and_null():
    changes = diff_values({"a": 1, "b": "x", "c": None, "d": {"e": 1}, "gone": 1},
                          {"a": "1", "b": "y", "c": 2, "d": {"e": 1}, "new": [1]})
    got = {(tuple(c.path), c.kind) for c in changes}
    assert got == {(("a",), "type"), (("b",), "changed"), (("c",), "changed"), (("new",), "added"),
                   (("gone",), "removed")}
    (null_change,) = [c for c in changes if c.path == ("c",)]
    assert null_change.before is None and null_change.after == 2


def test_value_diff_identity_falls_back_to_position_when_names_repeat():
    before = [{"name": "a", "v": 1}, {"name": "a", "v": 2}]
    after = [{"name": "a", "v": 2}, {"name": "a", "v": 1}]
    assert {c.path for c in diff_values(before, after)} == {("0", "v"), ("1", "v")}
    keyed = diff_values([{"key": "x", "v": 1}, {"key": "y", "v": 2}], [{"key": "y", "v": 3}, {"key": "x", "v": 1}])
    assert [c.path for c in keyed] == [("key=y", "v")]


# -- the HTML report in a real browser ---------------------------------------------------
def _chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        pytest.fail("chromium and chromedriver are required (make test installs Debian's chromium and "
                    "chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1280,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_html_report_groups_expands_and_filters_in_a_real_browser(tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    configs, infra = history(tmp_path)
    for product in ("search", "billing"):
        base = configs / f"products/{product}/base-values.yaml"
        base.write_text(base.read_text().replace("logLevel: info", "logLevel: warn"))
    products = configs / "customers/globex/products.yaml"
    products.write_text(products.read_text().replace("- name: notifications\n  enabled: true\n", ""))
    page = tmp_path / "diff.html"
    out = tmp_path / "diff.json"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--base", "main", "--report", f"html={page}",
                   "--report", f"json={out}")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    html = page.read_text()
    assert "http://" not in html.replace("http://localhost:7990", "") and "<link" not in html  # self-contained
    browser = _chrome()
    try:
        browser.get(page.as_uri())
        groups = browser.find_elements(By.CSS_SELECTOR, "details.group")
        # one row per identical change: fewer groups than units, every unit listed once in some group
        assert 0 < len(groups) < len(data["units"])
        total = sum(int(g.get_attribute("data-units")) for g in groups)
        assert total == len(data["units"]) == len(browser.find_elements(By.CSS_SELECTOR, "li.unit"))
        assert browser.find_element(By.ID, "shown").text == str(total)
        # removed units first, then removed Applications first in their list
        assert groups[0].get_attribute("data-status") == "removed"
        apps = browser.find_elements(By.CSS_SELECTOR, "#applications li")
        assert apps and "removed" in apps[0].text
        assert [g.get_attribute("data-status") for g in groups[:3]] == ["removed"] * 3
        log = next(g for g in groups if 'logLevel: "info" → "warn"' in g.find_element(By.TAG_NAME, "summary").text)
        assert "units of" in log.find_element(By.TAG_NAME, "summary").text
        # collapsed: no change row shows; expand-all opens every group and its unit list
        assert not any(r.is_displayed() for r in browser.find_elements(By.CSS_SELECTOR, "tr.k-changed"))
        browser.find_element(By.ID, "expand-all").click()
        assert all(g.get_attribute("open") is not None for g in groups)
        assert all(u.is_displayed() for u in browser.find_elements(By.CSS_SELECTOR, "li.unit"))
        row = log.find_element(By.CSS_SELECTOR, "tr.k-changed")
        assert row.is_displayed() and "logLevel" in row.text
        # filters hide units inside groups, and groups left empty
        Select(browser.find_element(By.ID, "f-product")).select_by_value("search")
        shown = [u for u in browser.find_elements(By.CSS_SELECTOR, "li.unit") if u.is_displayed()]
        assert shown and all(u.get_attribute("data-product") == "search" for u in shown)
        assert browser.find_element(By.ID, "shown").text == str(len(shown)) and len(shown) < total
        assert not groups[0].is_displayed()  # the removed notifications units are not search
        Select(browser.find_element(By.ID, "f-environment")).select_by_value("staging")
        shown = [u for u in browser.find_elements(By.CSS_SELECTOR, "li.unit") if u.is_displayed()]
        assert shown and all(u.get_attribute("data-environment") == "staging" for u in shown)
        Select(browser.find_element(By.ID, "f-kind")).select_by_value("removed")
        assert browser.find_element(By.ID, "shown").text == "0"
        Select(browser.find_element(By.ID, "f-product")).select_by_value("")
        Select(browser.find_element(By.ID, "f-environment")).select_by_value("")
        assert browser.find_element(By.ID, "shown").text == "3" and groups[0].is_displayed()
        Select(browser.find_element(By.ID, "f-kind")).select_by_value("")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "diff-report.png"))
        browser.find_element(By.ID, "collapse-all").click()
        assert all(g.get_attribute("open") is None for g in groups)
    finally:
        browser.quit()
    assert (ARTIFACTS / "diff-report.png").stat().st_size > 1000
