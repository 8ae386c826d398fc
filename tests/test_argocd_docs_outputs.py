"""`python -m checks apps --format json` against what ArgoCD's own documentation states it generates.

Each case of tests/data/argocd-docs/cases.yaml is an ApplicationSet copied from
docs/operator-manual/applicationset/*.md (argoproj/argo-cd, the commit in SOURCES.tsv), with the
output the docs state next to it: Applications (every field they show: name, project, source
repoURL/path/targetRevision, destination, syncPolicy), the names of all Applications, or the
parameter sets a generator yields. The repositories the generators read are built as real git
repositories from the docs' own tree drawings or copied files; the CLI runs in a new process."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import DATA, init_repo, run_cli, run_json

DOCS = DATA / "argocd-docs"
CASES = yaml.safe_load((DOCS / "cases.yaml").read_text())


def tree_files(drawing: str) -> dict[str, str]:
    """The files of a docs tree drawing (`├── name`, a file's content on the lines under it; a name
    with a dot is a file). Nesting is read from the column of each `├──`, as drawn."""
    files: dict[str, list[str]] = {}
    stack: list[tuple[int, str]] = []
    current: str | None = None
    for line in drawing.replace("\xa0", " ").splitlines():
        m = re.search(r"(├── |└── )(\S.*?)\s*$", line)
        if m:
            column, name = m.start(), m.group(2).rstrip("/")
            while stack and stack[-1][0] >= column:
                stack.pop()
            stack.append((column, name))
            current = "/".join(n for _, n in stack) if "." in name else None
            if current is not None:
                files[current] = []
        elif current is not None and line.strip(" │"):
            files[current].append(line.strip(" │"))
    return {path: "\n".join(body) + ("\n" if body else "") for path, body in files.items()}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Parameters as the docs write them: nested keys joined by dots, and `path.path` as `path`
    (ArgoCD's flat names: `path`, `path.basename`, `app.path`)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and k == "path" and "path" in v:
                out[key] = v["path"]
                rest = flatten({x: y for x, y in v.items() if x != "path"})
                out.update({f"{key}.{kk}": vv for kk, vv in rest.items()})
            else:
                out.update(flatten(v, key))
    else:
        out[prefix] = value
    return out


def stated_parameters(name: str) -> list[dict[str, Any]]:
    text = (DOCS / name).read_text()
    if name.endswith(".txt"):  # `key: value` lines, untyped
        return [dict(line.split(": ", 1) for line in text.splitlines() if line.strip())]
    return yaml.safe_load(text)


def build(tmp: Path, case: dict) -> tuple[Path, Path]:
    if case.get("appset"):
        appset = yaml.safe_load((DOCS / case["appset"]).read_text())
    else:
        appset = copy.deepcopy(case["appset_inline"])
    if "files" in case:  # a docs block holding a git files generator's `path:`
        appset["spec"]["generators"][0]["git"]["files"] = [yaml.safe_load((DOCS / case["files"]).read_text())]
    if "generators" in case:
        appset["spec"]["generators"] = yaml.safe_load((DOCS / case["generators"]).read_text())["spec"]["generators"]
    if "template" in case:
        appset["spec"]["template"] = case["template"]
    files: dict[str, str] = {}
    repo = case.get("repo", {})
    if "tree" in repo:
        under = repo.get("under", "")
        drawn = tree_files((DOCS / repo["tree"]).read_text())
        files.update({f"{under}/{p}".lstrip("/"): body for p, body in drawn.items()})
    files.update({path: (DOCS / source).read_text() for path, source in repo.get("files", {}).items()})
    repos = {url: "customer-configs" for url in repo.get("urls", [])}
    settings = {"appsets": {**case.get("appsets", {}), "repos": repos}}
    files[".gitops-checks.yaml"] = yaml.safe_dump(settings)
    files["products/example/.gitkeep"] = ""  # a customer-configs root, as a full run wants one
    configs = init_repo(tmp / "customer-configs", files)
    infra = init_repo(tmp / "platform-infrastructure",
                      {f"applicationsets/{case['id']}.yaml": yaml.safe_dump(appset, sort_keys=False)})
    return configs, infra


def generate(tmp: Path, case: dict) -> dict:
    configs, infra = build(tmp, case)
    proc = run_cli("apps", "--configs", configs, "--infra", infra, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def shown_fields(stated: Any, generated: Any, where: str = "") -> list[str]:
    """Every leaf the docs show, compared with the generated Application: the differences."""
    if isinstance(stated, dict):
        if not isinstance(generated, dict):
            return [f"{where}: docs {stated!r}, generated {generated!r}"]
        return [d for k, v in stated.items() for d in shown_fields(v, generated.get(k), f"{where}.{k}")]
    return [] if stated == generated else [f"{where}: docs {stated!r}, generated {generated!r}"]


def compare_parameters(stated: list[dict], generated: list[dict], differ: dict) -> list[str]:
    """Each stated set matched with a generated one on the keys it shows (the order of sets is not
    ArgoCD's business to keep: it sorts the files a git generator reads); as many of each."""
    out = []
    if len(stated) != len(generated):
        out.append(f"{len(generated)} parameter sets generated, the docs state {len(stated)}")
    left = [flatten(g) for g in generated]
    for i, want in enumerate(stated):
        for key, value in want.items():
            if key in differ:
                assert value in differ[key]["values"], f"the docs no longer say {value!r} for {key}"
        want = {k: differ[k]["values"][v] if k in differ else v for k, v in want.items()}
        match = next((g for g in left if all(str(g.get(k)) == str(v) for k, v in want.items())), None)
        if match is None:
            out.append(f"stated set {i} {want} is not generated; generated: {left}")
        else:
            left.remove(match)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_apps_output_equals_what_the_argocd_docs_state(tmp_path: Path, case: dict):
    out = generate(tmp_path, case)
    apps = out["applications"]
    expect = case["expect"]
    if "not_emulated" in expect:
        name = yaml.safe_load((DOCS / case["appset"]).read_text())["metadata"]["name"]
        assert apps == [] and out["incomplete"] == [name]
        return
    if "error" in expect:
        assert apps == [], [a["name"] for a in apps]
        _, report, _ = run_json("--configs", tmp_path / "customer-configs", "--infra",
                                tmp_path / "platform-infrastructure", "--check", "appset", tmp=tmp_path)
        errors = [f for f in report["findings"] if f["severity"] == "error"]
        assert errors and all(f["path"] == f"applicationsets/{case['id']}.yaml" for f in errors), errors
        return
    differences: list[str] = []
    if "names" in expect:
        assert sorted(a["name"] for a in apps) == sorted(expect["names"])
    stated_apps = expect.get("applications")
    if isinstance(stated_apps, str):
        stated_apps = list(yaml.safe_load_all((DOCS / stated_apps).read_text()))
    by_name = {a["name"]: a["application"] for a in apps}
    for stated in stated_apps or []:
        name = stated["metadata"]["name"]
        assert name in by_name, f"{name} not generated: {sorted(by_name)}"
        differences += shown_fields({k: v for k, v in stated.items() if k not in ("apiVersion", "kind")},
                                    by_name[name], name)
        assert stated.get("kind", "Application") == by_name[name]["kind"] == "Application"
    if "parameters" in expect:
        differences += compare_parameters(stated_parameters(expect["parameters"]), [a["parameters"] for a in apps],
                                          case.get("docs_differ", {}))
    if "same_as" in expect:
        other = generate(tmp_path / "same-as", {**case, "appset": expect["same_as"]})["applications"]
        assert [a["application"] for a in sorted(other, key=lambda a: a["name"])] == \
            [a["application"] for a in sorted(apps, key=lambda a: a["name"])] != []
    if "parameters_include" in expect:
        flats = [flatten(a["parameters"]) for a in apps]
        for want in stated_parameters(expect["parameters_include"]):
            assert any(all(str(f.get(k)) == str(v) for k, v in want.items()) for f in flats), (want, flats)
    assert differences == []


def test_the_tree_drawings_are_read_as_the_docs_draw_them():
    files = tree_files((DOCS / "matrix-override.tree.txt").read_text())
    assert files == {"test/stage.values.yaml": "stageName: test\ncpuRequest: 100m\ndebugEnabled: true\n",
                     "staging/stage.values.yaml": "stageName: staging\n",
                     "production/stage.values.yaml": "stageName: production\nmemoryLimit: 512Mi\ndebugEnabled: false\n",
                     "global.values.yaml": "cpuRequest: 200m\nmemoryLimit: 256Mi\ndebugEnabled: true\n"}
    assert sorted(tree_files((DOCS / "git-directories.tree.txt").read_text())) == [
        "argo-workflows/kustomization.yaml", "argo-workflows/namespace-install.yaml", "prometheus-operator/Chart.yaml",
        "prometheus-operator/README.md", "prometheus-operator/requirements.yaml", "prometheus-operator/values.yaml"]


# GoTemplate.md's table of the git generators' path parameters: the same value in every column, as
# the docs state -- except where ArgoCD's code gives another (the emulator must give the code's)
TABLE_DIFFERS = {
    # `normalize` sanitizes the whole path (utils.SanitizeName): slashes become dashes; only
    # basenameNormalized is the basename's; the docs' third column would need `normalize (base .path.path)`
    3: "applicationset-examples-git-generator-files-discovery-cluster-config-engineering-dev",
}


def test_gotemplate_path_parameter_table(tmp_path: Path):
    rows = [re.findall(r"`([^`]*)`", line) for line in (DOCS / "gotemplate-path-table.md").read_text().splitlines()[2:]]
    assert len(rows) == 6 and all(len(r) == 3 for r in rows)
    files_case = next(c for c in CASES if c["id"] == "git-files")
    seen: list[list[str | None]] = []
    for column, go in ((0, False), (1, True), (2, True)):
        annotations = {f"row{i}": row[column].replace("[N]", "[1]").replace(" N}}", " 1}}")
                       for i, row in enumerate(rows) if row[column] != "-"}
        appset = yaml.safe_load((DOCS / files_case["appset"]).read_text())
        appset["spec"]["goTemplate"] = go
        appset["spec"].pop("goTemplateOptions", None)
        appset["spec"]["template"]["metadata"] = {"name": "{{path.basename}}" if not go else "{{ .path.basename }}",
                                                  "annotations": annotations}
        appset["spec"]["template"]["spec"]["destination"]["server"] = "https://kubernetes.default.svc"
        out = generate(tmp_path / str(column), {**files_case, "appset_inline": appset, "appset": None})
        dev = next(a for a in out["applications"] if a["name"] == "dev")["application"]["metadata"]["annotations"]
        seen.append([dev.get(f"row{i}") for i in range(len(rows))])
    path = "applicationset/examples/git-generator-files-discovery/cluster-config/engineering/dev"
    expected = [path, "dev", "config.json", "dev", "config.json", "examples"]
    for i, want in enumerate(expected):
        fast, go, sprig = (column[i] for column in seen)
        assert (fast, go, sprig) == (want, want if rows[i][1] != "-" else None, TABLE_DIFFERS.get(i, want)), rows[i]
