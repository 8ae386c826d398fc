"""What people read: the PR comment as Bitbucket Data Center renders it (CommonMark + tables, every HTML
tag escaped), who does not get a default's change, the promotion view, added Applications, plurals,
every unit of a group reachable, and the changed-files counts."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from bitbucket_server import FakeBitbucket
from helpers import ROOT, commit_all, copy_examples, git, init_repo, run_cli, write_tree
from markdown_it import MarkdownIt

from checks.publish.bitbucket import COMMENT_TITLE

ARTIFACTS = ROOT / "tests" / "artifacts"
TOKEN = "t0k3n-never-print-me"
# the constructs Bitbucket Data Center would show as literal text
HTML_TAG = re.compile(r"<\s*/?\s*(details|summary|b|i|br|p|div|span|table|code)\b[^>]*>|<!--", re.IGNORECASE)


def bitbucket_markdown(text: str) -> str:
    """CommonMark with tables and strikethrough and raw HTML off: what Bitbucket Data Center renders."""
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).render(text)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.parts.append(data)


def rendered(markdown: str) -> tuple[str, list[str], str]:
    """The text a reader sees, the HTML elements the renderer made, and the HTML."""
    out = bitbucket_markdown(markdown)
    parser = _Text()
    parser.feed(out)
    return "".join(parser.parts), parser.tags, out


def history(tmp: Path) -> tuple[Path, Path]:
    configs, infra = copy_examples(tmp)
    init_repo(configs)
    git(configs, "checkout", "-q", "-b", "feature")
    return configs, infra


def typical_change(configs: Path) -> None:
    """A default change some customers override, a removed subscription and an odd value."""
    base = configs / "products/search/base-values.yaml"
    base.write_text(base.read_text().replace("newCheckout: false", "newCheckout: true")
                    .replace("logLevel: info", "logLevel: debug"))
    products = configs / "customers/globex/products.yaml"
    products.write_text(products.read_text().replace("- name: notifications\n  enabled: true\n", ""))
    values = configs / "customers/initech/billing/values.yaml"
    values.write_text(values.read_text() + "banner: '<details><summary>x</summary> | `tick` *star* &amp;'\n")
    commit_all(configs, "typical change")


def diff_files(configs: Path, infra: Path, tmp: Path, *extra: str) -> dict[str, str]:
    out = {fmt: tmp / f"diff.{fmt}" for fmt in ("json", "markdown", "html", "text")}
    proc = run_cli("diff", "--configs", configs, "--infra", infra, *extra,
                   *(x for fmt, path in out.items() for x in ("--report", f"{fmt}={path}")))
    assert proc.returncode == 0, proc.stderr
    return {fmt: path.read_text() for fmt, path in out.items()}


def test_markdown_renders_as_commonmark_with_html_escaped(tmp_path: Path):
    configs, infra = history(tmp_path)
    typical_change(configs)
    reports = diff_files(configs, infra, tmp_path, "--base", "main", "--head", "HEAD")
    md = reports["markdown"]
    assert md.startswith("### Effective values")
    text, tags, html = rendered(md)
    # nothing of ours is HTML: no tag survives as text, and what the reader sees is tables and headings
    ours = text.replace("<details><summary>x</summary> | `tick` *star* &amp;", "")
    assert not HTML_TAG.search(ours), HTML_TAG.search(ours)
    assert "details" not in tags and "summary" not in tags
    assert tags.count("table") >= 3 and "h4" in tags and "blockquote" in tags
    # a hostile value shows literally, in one cell, without breaking its table row
    assert '"<details><summary>x</summary> | `tick` *star* &amp;"' in text
    row = next(r for r in html.split("<tr>") if "<code>banner</code>" in r)
    assert row.count("<td") == 5 and "&lt;details&gt;" in row  # five columns, the tag escaped
    # removed first, with every unit named; plurals right
    assert text.index("removed") < text.index('changed: logLevel: "info" → "debug"')
    assert "3 units removed:" in text and "1 unit:" in text
    assert " 1 units" not in text and " 1 customers" not in text
    # the default change names every unit it reaches, not "and N more"
    section = md.split('logLevel: "info" → "debug"', 1)[1].split("\n---", 1)[0]
    reached = {u["customer"] for u in json.loads(reports["json"])["units"]
               if any(c["path"] == ["logLevel"] for c in u["changes"])}
    assert len(reached) > 6
    for customer in reached:
        assert f"{customer} (staging)" in section
    assert "more" not in section
    # "set in" names the repository
    assert "customer-configs/products/search/base-values.yaml:" in text


def test_pr_comment_screenshot_in_chromium(tmp_path: Path):
    from selenium.webdriver.common.by import By
    from test_diff import _chrome

    configs, infra = history(tmp_path)
    typical_change(configs)
    md = diff_files(configs, infra, tmp_path, "--base", "main", "--head", "HEAD")["markdown"]
    page = tmp_path / "comment.html"
    page.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><style>body{font:14px system-ui;"
                    "max-width:1100px;margin:1rem} table{border-collapse:collapse} td,th{border:1px solid #ccc;"
                    "padding:2px 6px}</style></head><body>" + bitbucket_markdown(md) + "</body></html>")
    browser = _chrome()
    try:
        browser.get(page.as_uri())
        body = browser.find_element(By.TAG_NAME, "body").text
        assert body.startswith("Effective values")
        assert "<details>" not in body.replace("<details><summary>x</summary>", "") and "<!--" not in body
        assert len(browser.find_elements(By.CSS_SELECTOR, "table")) >= 3
        assert browser.find_element(By.CSS_SELECTOR, "h4").is_displayed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "pr-comment.png"))
    finally:
        browser.quit()
    assert (ARTIFACTS / "pr-comment.png").stat().st_size > 1000


def test_bitbucket_comment_is_found_by_its_visible_first_line(tmp_path: Path):
    configs, infra = history(tmp_path)
    typical_change(configs)
    args = ["--configs", configs, "--infra", infra, "--base", "main", "--report", "bitbucket",
            "--bitbucket-project", "TEST", "--bitbucket-repo", "customer-configs", "--commit", "a" * 40, "--pr", "5"]
    with FakeBitbucket(TOKEN) as bb:
        # a reviewer's comment that talks about the suite is not ours; an older version's comment is
        bb.comments[1] = {"id": 1, "version": 0, "text": "Why does **gitops-checks** fail here?"}
        bb.comments[2] = {"id": 2, "version": 3, "text": "<!-- gitops-checks -->\nold body"}
        for _ in range(2):
            proc = run_cli(*args, "--bitbucket-url", bb.url, env={"BITBUCKET_TOKEN": TOKEN})
            assert proc.returncode == 0, proc.stderr
        assert bb.violations == []
        assert bb.calls("POST", r"/pull-requests/5/comments$") == []
        assert len(bb.calls("PUT", r"/pull-requests/5/comments/2$")) == 2
        assert bb.comments[1]["text"] == "Why does **gitops-checks** fail here?"
        ours = bb.comments[2]["text"]
        assert ours.splitlines()[0] == COMMENT_TITLE and "<!--" not in ours and "old body" not in ours
        text, _, _ = rendered(ours)
        assert not HTML_TAG.search(text.replace("<details><summary>x</summary>", ""))
        # a fresh PR gets one comment, found again by its first line on the next build
        bb.comments.clear()
        for _ in range(2):
            run_cli(*args, "--bitbucket-url", bb.url, env={"BITBUCKET_TOKEN": TOKEN})
        assert len(bb.calls("POST", r"/pull-requests/5/comments$")) == 1 and len(bb.comments) == 1
        assert bb.violations == []


def test_who_does_not_get_a_default_change_in_every_format(tmp_path: Path):
    configs, infra = history(tmp_path)
    typical_change(configs)
    reports = diff_files(configs, infra, tmp_path, "--base", "main", "--head", "HEAD")
    data = json.loads(reports["json"])
    by_key = {tuple(s["path"]): s for s in data["not_receiving"]}
    # globex overrides newCheckout in its own values: none of its search units get the new default
    keep = by_key[("featureFlags", "newCheckout")]
    assert {u for u in keep["units"] if u.startswith("globex/")} == {"globex/search/dev", "globex/search/staging",
                                                                      "globex/search/prod"}
    assert "customers/globex/search/values.yaml:9" in keep["overridden_in"]
    assert keep["new_default"] is True and keep["default_file"] == "products/search/base-values.yaml"
    # logLevel: prod keeps the product environment's warn; those units are not in the diff's changes
    log = by_key[("logLevel",)]
    assert any(u.endswith("/prod") for u in log["units"])
    assert "products/search/environments/prod.yaml:9" in log["overridden_in"]
    changed = {f"{u['customer']}/{u['product']}/{u['environment']}" for u in data["units"]
               if any(c["path"] == ["logLevel"] for c in u["changes"])}
    assert not changed & set(log["units"])
    assert "Not receiving a default's change" in reports["markdown"]
    assert "globex (dev, prod, staging)" in reports["markdown"]
    assert "not receiving the new default featureFlags.newCheckout" in reports["text"]
    assert "id='not-receiving'" in reports["html"] and "globex/search/values.yaml:9" in reports["html"]


def test_promotion_view_reads_as_prod_now_to_prod_after(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    (configs / ".gitops-checks.yaml").write_text("diff:\n  ignore: [replicaCount]\n")
    reports = diff_files(configs, infra, tmp_path, "--from-env", "staging", "--to-env", "prod",
                         "--customer", "globex", "--ignore", "resources")
    data = json.loads(reports["json"])
    assert (data["base"], data["head"]) == ("prod now", "prod after")
    assert data["promotion"]["from"] == "staging" and data["promotion"]["to"] == "prod"
    assert data["promotion"]["ignore"] == ["replicaCount", "resources"]
    ignored = data["promotion"]["ignored"]
    assert ignored["replicaCount"]["units"] == 3 and "resources.limits.cpu" in ignored
    changes = [c for u in data["units"] for c in u["changes"]]
    assert changes and not any(c["path"][0] in ("replicaCount", "resources") for c in changes)
    log = next(c for c in changes if c["path"] == ["logLevel"])
    assert (log["before"], log["after"]) == ("warn", "info")  # prod's value now, then staging's
    # both sides' files: where prod's value is set now, and where the promoted value comes from
    assert log["before_source"]["path"].endswith("/environments/prod.yaml")
    assert log["source"]["path"].endswith("base-values.yaml")
    assert "**Promotion view**" in reports["markdown"] and "`prod now` → `prod after`" in reports["markdown"]
    assert "Meant to differ (replicaCount, resources)" in reports["markdown"]
    assert "now: customer-configs/products/" in reports["markdown"]
    assert "promotion view at working tree: what prod becomes if it takes staging's values" in reports["text"]
    assert "id='ignored'" in reports["html"] and "Promotion view" in reports["html"]
    assert run_cli("diff", "--configs", configs, "--base", "main", "--ignore", "x").returncode == 2


def test_added_applications_changed_file_counts_and_plurals(tmp_path: Path):
    configs, infra = history(tmp_path)
    shutil.copytree(configs / "customers/globex", configs / "customers/zenith")
    meta = configs / "customers/zenith/metadata.yaml"
    meta.write_text(meta.read_text().replace("globex", "zenith").replace("Globex", "Zenith"))
    write_tree(configs, {"customers/zenith/terraform/extra.tf": "# nothing for Helm here\n"})
    commit_all(configs, "onboard zenith")
    reports = diff_files(configs, infra, tmp_path, "--base", "main", "--head", "HEAD")
    data = json.loads(reports["json"])
    files = data["summary"]["changed_files"]
    assert files["customers/zenith/terraform/extra.tf"] == 0  # no value diff from a Terraform file
    assert files["customers/zenith/products.yaml"] == data["summary"]["units_added"] > 0
    added = [a["name"] for a in data["applications"]["added"]]
    assert added and all("zenith" in name for name in added)
    md = reports["markdown"]
    assert f"Application{'s' if len(added) > 1 else ''} added" in md and added[0] in md
    assert "`customers/zenith/terraform/extra.tf`: 0 units" in md
    assert "application added (ArgoCD creates it): " + added[0] in reports["text"]
    assert "ArgoCD creates it" in reports["html"]


def test_who_does_not_get_a_chart_default_change_in_an_infra_pr(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    init_repo(configs)
    init_repo(infra)
    chart = infra / "products/billing/values.yaml"
    chart.write_text(chart.read_text().replace("maxReplicas: 3", "maxReplicas: 5"))
    commit_all(infra, "billing chart: maxReplicas 5")
    data = json.loads(diff_files(configs, infra, tmp_path, "--infra-base", "main~1", "--infra-head", "HEAD")["json"])
    (keep,) = [s for s in data["not_receiving"] if s["path"] == ["autoscaling", "maxReplicas"]]
    assert keep["default_file"] == "platform-infrastructure/products/billing/values.yaml"
    assert keep["new_default"] == 5
    # acme-corp sets its own autoscaling in its billing values: none of its units get the new default
    assert {"acme-corp/billing/dev", "acme-corp/billing/prod", "acme-corp/billing/staging"} <= set(keep["units"])
    assert any(src.startswith("customers/acme-corp/billing/values.yaml:") for src in keep["overridden_in"])
    got = {f"{u['customer']}/{u['product']}/{u['environment']}" for u in data["units"]
           if any(c["path"] == ["autoscaling", "maxReplicas"] for c in u["changes"])}
    assert got and not got & set(keep["units"])
