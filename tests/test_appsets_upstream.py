"""ArgoCD's own ApplicationSet generator tests (argoproj/argo-cd v3.5.1,
`applicationset/generators/*_test.go`), ported as tables: each case names the upstream file,
test function and case. Inputs are the upstream ones; files a git generator reads are real
files in a temporary repository (where upstream mocks the repo server with a path list,
the same paths are created). Expected outputs are copied from upstream, with the order
ArgoCD produces where upstream compares as a set.

Cases that need a cluster (cluster, cluster-decision-resource generators), an SCM or
pull-request API, or a plugin are not ported: the suite reports those generators as not
evaluated (tested at the end).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_tree

from checks.engines.appsets import AppSet, Emulator, GenerationError, default_repo_for_url
from checks.engines.gotemplate import NotEvaluated
from checks.model.platform import CONFIGS
from checks.repo.documents import DocumentStore, Limits, YamlDocument
from checks.repo.source import WorkingTreeSource

REPO = "RepoURL"  # the upstream tests' repoURL, mapped to the temporary repository


def emulator(tmp: Path, files: dict[str, str] | None = None) -> Emulator:
    root = tmp / "repo"
    write_tree(root, files or {"README.md": "x\n"})
    store = DocumentStore({CONFIGS: WorkingTreeSource(root, CONFIGS)}, Limits())
    return Emulator(store, default_repo_for_url({REPO: CONFIGS}))


def appset(go: bool = False, options: list[str] | None = None, **spec) -> AppSet:
    body = {"goTemplate": go, **({"goTemplateOptions": options} if options else {}), **spec}
    return AppSet("platform-infrastructure", "applicationsets/x.yaml",
                  YamlDocument({"kind": "ApplicationSet", "metadata": {"name": "set"}, "spec": body}), 0)


def params(tmp: Path, generator: dict, go: bool = False, files: dict[str, str] | None = None,
           options: list[str] | None = None) -> list[dict]:
    return emulator(tmp, files).generator_params(appset(go, options), generator)


def lst(*elements: dict) -> dict:
    return {"list": {"elements": list(elements)}}


APPS = {"app1/x.yaml": "a: 1\n", "app2/x.yaml": "a: 1\n"}  # what upstream's repo-server mock lists
GIT_DIRS = {"git": {"repoURL": REPO, "revision": "Revision", "directories": [{"path": "*"}]}}


# -- list_test.go -------------------------------------------------------------------------
@pytest.mark.parametrize(("go", "element", "expected"), [
    # list_test.go TestGenerateListParams, case 1
    (False, {"cluster": "cluster", "url": "url"}, {"cluster": "cluster", "url": "url"}),
    # list_test.go TestGenerateListParams, case 2
    (False, {"cluster": "cluster", "url": "url", "values": {"foo": "bar"}},
     {"cluster": "cluster", "url": "url", "values.foo": "bar"}),
    # list_test.go TestGenerateListParamsGoTemplate, case 1
    (True, {"cluster": "cluster", "url": "url"}, {"cluster": "cluster", "url": "url"}),
    # list_test.go TestGenerateListParamsGoTemplate, case 2
    (True, {"cluster": "cluster", "url": "url", "values": {"foo": "bar"}},
     {"cluster": "cluster", "url": "url", "values": {"foo": "bar"}}),
])
def test_list_generator(tmp_path, go, element, expected):
    assert params(tmp_path, lst(element), go) == [expected]


def test_list_generator_fasttemplate_rejects_non_string_values(tmp_path):
    # list.go GenerateParams: "error parsing value as string" outside Go-template mode
    with pytest.raises(GenerationError, match="not a string"):
        params(tmp_path, lst({"replicas": 3}), go=False)


def test_list_generator_appends_elements_yaml_after_elements(tmp_path):
    # list.go GenerateParams: ElementsYaml unmarshalled and appended to Elements
    gen = {"list": {"elements": [{"a": "1"}], "elementsYaml": "- a: '2'\n- a: '3'\n"}}
    assert [p["a"] for p in params(tmp_path, gen, go=True)] == ["1", "2", "3"]


# -- matrix_test.go ---------------------------------------------------------------------------
LIST_TEMPLATED = lst({"cluster": "Cluster", "url": "Url", "templated": "test-{{path.basenameNormalized}}"})
TWO_LISTS = [lst({"a": "1"}, {"a": "2"}), lst({"b": "1"}, {"b": "2"})]
FOUR = [{"a": "1", "b": "1"}, {"a": "1", "b": "2"}, {"a": "2", "b": "1"}, {"a": "2", "b": "2"}]


@pytest.mark.parametrize(("children", "expected"), [
    # matrix_test.go TestMatrixGenerate "happy flow - generate params"
    ([GIT_DIRS, LIST_TEMPLATED], [
        {"path": "app1", "path.basename": "app1", "path.basenameNormalized": "app1", "path[0]": "app1",
         "cluster": "Cluster", "url": "Url", "templated": "test-app1"},
        {"path": "app2", "path.basename": "app2", "path.basenameNormalized": "app2", "path[0]": "app2",
         "cluster": "Cluster", "url": "Url", "templated": "test-app2"}]),
    # matrix_test.go TestMatrixGenerate "happy flow - generate params from two lists"
    (TWO_LISTS, FOUR),
])
def test_matrix_fasttemplate(tmp_path, children, expected):
    # upstream's git mock returns no path[n] parameters; the real git generator adds them
    assert params(tmp_path, {"matrix": {"generators": children}}, files=APPS) == expected


@pytest.mark.parametrize(("children", "message"), [
    # matrix_test.go TestMatrixGenerate "returns error if there is less than two base generators"
    ([GIT_DIRS], "less than two"),
    # matrix_test.go TestMatrixGenerate "returns error if there is more than two base generators"
    ([LIST_TEMPLATED, LIST_TEMPLATED, LIST_TEMPLATED], "more than two"),
    # matrix_test.go TestMatrixGenerate "... more than one inner generator in the first base generator"
    ([{**GIT_DIRS, **LIST_TEMPLATED}, GIT_DIRS], "more than one generator"),
    # matrix_test.go TestMatrixGenerate "... more than one inner generator in the second base generator"
    ([LIST_TEMPLATED, {**GIT_DIRS, **LIST_TEMPLATED}], "more than one generator"),
])
@pytest.mark.parametrize("go", [False, True])  # and the same four in TestMatrixGenerateGoTemplate
def test_matrix_errors(tmp_path, children, message, go):
    if go:  # TestMatrixGenerateGoTemplate's list has no fasttemplate element
        plain = lst({"cluster": "Cluster", "url": "Url"})
        children = [{**c, **plain} if "list" in c else c for c in children]
    with pytest.raises(GenerationError, match=message):
        params(tmp_path, {"matrix": {"generators": children}}, go=go, files=APPS)


def test_matrix_go_template(tmp_path):
    # matrix_test.go TestMatrixGenerateGoTemplate "happy flow - generate params"
    got = params(tmp_path, {"matrix": {"generators": [GIT_DIRS, lst({"cluster": "Cluster", "url": "Url"})]}},
                 go=True, files=APPS)
    assert got == [
        {"path": {"path": "app1", "basename": "app1", "basenameNormalized": "app1", "segments": ["app1"]},
         "cluster": "Cluster", "url": "Url"},
        {"path": {"path": "app2", "basename": "app2", "basenameNormalized": "app2", "segments": ["app2"]},
         "cluster": "Cluster", "url": "Url"}]
    # matrix_test.go TestMatrixGenerateGoTemplate "happy flow - generate params from two lists"
    assert params(tmp_path, {"matrix": {"generators": TWO_LISTS}}, go=True) == FOUR


def test_matrix_go_template_first_child_wins(tmp_path):
    # matrix_test.go TestMatrixGenerateGoTemplate "parameter override: first list elements take precedence"
    first = lst({"booleanFalse": False, "booleanTrue": True, "stringFalse": "false", "stringTrue": "true"})
    second = lst({"booleanFalse": True, "booleanTrue": False, "stringFalse": "true", "stringTrue": "false"})
    assert params(tmp_path, {"matrix": {"generators": [first, second]}}, go=True) == [
        {"booleanFalse": False, "booleanTrue": True, "stringFalse": "false", "stringTrue": "true"}]


def test_matrix_elements_yaml_from_first_child(tmp_path):
    # matrix_test.go TestMatrixGenerateListElementsYaml "happy flow - generate params"
    files = {"path/dir/file_name.yaml": "foo:\n  bar:\n    - chart: a\n      version: '1'\n"
                                        "    - chart: b\n      version: '2'\n"}
    git = {"git": {"repoURL": REPO, "revision": "Revision", "files": [{"path": "path/dir/file_name.yaml"}]}}
    listing = {"list": {"elements": [], "elementsYaml": "{{ .foo.bar | toJson }}"}}
    got = params(tmp_path, {"matrix": {"generators": [git, listing]}}, go=True, files=files)
    bar = [{"chart": "a", "version": "1"}, {"chart": "b", "version": "2"}]
    path = {"basename": "dir", "basenameNormalized": "dir", "filename": "file_name.yaml",
            "filenameNormalized": "file-name.yaml", "path": "path/dir", "segments": ["path", "dir"]}
    assert got == [{"chart": "a", "version": "1", "foo": {"bar": bar}, "path": path},
                   {"chart": "b", "version": "2", "foo": {"bar": bar}, "path": path}]


def test_matrix_list_x_git_interpolates_the_git_path(tmp_path):
    # matrix_test.go TestGitGenerator_GenerateParams_list_x_git_matrix_generator: the list's
    # element names the folder the git files generator reads
    files = {"some-folder/a.yaml": "x: 1\n", "other/b.yaml": "x: 2\n"}
    gen = {"matrix": {"generators": [
        lst({"some": "value", "folder": "some-folder"}),
        {"git": {"repoURL": REPO, "files": [{"path": "{{folder}}/*.yaml"}]}}]}}
    got = params(tmp_path, gen, files=files)
    assert [(p["folder"], p["path.filename"], p["x"]) for p in got] == [("some-folder", "a.yaml", "1")]


def test_matrix_values_of_second_child_see_the_first(tmp_path):
    # matrix_test.go TestGitGenerator_GenerateParams_list_x_git_matrix_generator_go_templates_values
    gen = {"matrix": {"generators": [
        lst({"some": "value"}),
        {"git": {"repoURL": REPO, "files": [{"path": "some/path.json"}], "values": {"foo": "{{.path.basename}}"}}}]}}
    got = params(tmp_path, gen, go=True, files={"some/path.json": "test: content"})
    assert got == [{"path": {"basename": "some", "basenameNormalized": "some", "filename": "path.json",
                             "filenameNormalized": "path.json", "path": "some", "segments": ["some"]},
                    "some": "value", "test": "content", "values": {"foo": "some"}}]


# -- merge_test.go ------------------------------------------------------------------------------
def _merge(children: list, keys: list[str]) -> dict:
    return {"merge": {"generators": children, "mergeKeys": keys}}


def _as_set(items: list[dict]) -> list[str]:
    return sorted(repr(sorted(i.items())) for i in items)


@pytest.mark.parametrize(("children", "keys", "expected"), [
    # merge_test.go TestMergeGenerate "happy flow - generate paramSets"
    ([lst({"a": "1_1", "b": "same", "c": "1_3"}), lst({"a": "2_1", "b": "same"}),
      lst({"a": "3_1", "b": "different", "c": "3_3"})], ["b"], [{"a": "2_1", "b": "same", "c": "1_3"}]),
    # merge_test.go TestMergeGenerate "merge keys absent - do not merge"
    ([lst({"a": "a"}), lst({"a": "a"})], ["b"], [{"a": "a"}]),
    # merge_test.go TestMergeGenerate "merge key present in first set, absent in second - do not merge"
    ([lst({"a": "a"}), lst({"b": "b"})], ["b"], [{"a": "a"}]),
    # merge_test.go TestMergeGenerate "merge nested matrix with some lists"
    ([{"matrix": {"generators": [lst({"a": "1"}, {"a": "2"}), lst({"b": "1"}, {"b": "2"})]}},
      lst({"a": "1", "b": "1", "c": "added"})], ["a", "b"],
     [{"a": "1", "b": "1", "c": "added"}, {"a": "1", "b": "2"}, {"a": "2", "b": "1"}, {"a": "2", "b": "2"}]),
    # merge_test.go TestMergeGenerate "merge nested merge with some lists"
    ([_merge([lst({"a": "1", "b": "1"}, {"a": "2", "b": "2"}),
              lst({"a": "1", "b": "3", "c": "added"}, {"a": "3", "b": "2"})], ["a"]),
      lst({"a": "1", "b": "3", "d": "added"})], ["a", "b"],
     [{"a": "1", "b": "3", "c": "added", "d": "added"}, {"a": "2", "b": "2"}]),
])
def test_merge(tmp_path, children, keys, expected):
    assert _as_set(params(tmp_path, _merge(children, keys))) == _as_set(expected)


@pytest.mark.parametrize(("children", "keys", "message"), [
    # merge_test.go TestMergeGenerate "no generators"
    ([], ["b"], "less than two"),
    # merge_test.go TestMergeGenerate "one generator"
    ([lst({"a": "1_1", "b": "same", "c": "1_3"})], ["b"], "less than two"),
    # merge.go getParamSetsByMergeKey: ErrNoMergeKeys
    ([lst({"a": "1"}), lst({"a": "1"})], [], "no merge keys"),
    # merge_test.go TestParamSetsAreUniqueByMergeKeys "Duplicate sets with one key"
    ([lst({"a": "1"}, {"a": "1"}), lst({"a": "1"})], ["a"], "not unique"),
    # merge_test.go TestParamSetsAreUniqueByMergeKeys "Duplicate sets with two keys"
    ([lst({"a": "1", "b": "2"}, {"a": "1", "b": "2"}), lst({"a": "1"})], ["a", "b"], "not unique"),
])
def test_merge_errors(tmp_path, children, keys, message):
    with pytest.raises(GenerationError, match=message):
        params(tmp_path, _merge(children, keys))


def test_merge_unique_with_duplicate_merge_keys(tmp_path):
    # merge_test.go TestParamSetsAreUniqueByMergeKeys "Unique sets with duplicate keys": ["a", "a"] is ["a"]
    got = params(tmp_path, _merge([lst({"a": "1"}, {"a": "2"}), lst({"a": "1", "x": "y"})], ["a", "a"]))
    assert _as_set(got) == _as_set([{"a": "1", "x": "y"}, {"a": "2"}])


def test_nested_three_levels_is_an_error(tmp_path):
    # ApplicationSetTerminalGenerator has no matrix or merge: ArgoCD drops the third level and the
    # child then "generated no parameters"
    third = {"matrix": {"generators": [lst({"a": "1"}), lst({"b": "1"})]}}
    gen = {"matrix": {"generators": [lst({"x": "1"}), {"matrix": {"generators": [lst({"y": "1"}), third]}}]}}
    with pytest.raises(GenerationError, match="generated no parameters"):
        params(tmp_path, gen)


# -- git_test.go ----------------------------------------------------------------------------------
DEFAULT = "\nfoo:\n  bar: baz\n"
FLAT_PATH = {"path": "path/dir", "path.basename": "dir", "path.filename": "file_name.yaml",
             "path.basenameNormalized": "dir", "path.filenameNormalized": "file-name.yaml",
             "path[0]": "path", "path[1]": "dir"}
GO_PATH = {"path": "path/dir", "basename": "dir", "filename": "file_name.yaml", "basenameNormalized": "dir",
           "filenameNormalized": "file-name.yaml", "segments": ["path", "dir"]}


def _git_file(content: str, go: bool, values: dict | None = None, prefix: str = "") -> dict:
    return {"git": {"repoURL": REPO, "files": [{"path": "path/dir/file_name.yaml"}],
                    **({"values": values} if values else {}), **({"pathParamPrefix": prefix} if prefix else {})}}


@pytest.mark.parametrize(("content", "go", "values", "prefix", "expected"), [
    # git_test.go Test_generateParamsFromGitFile "empty file returns path parameters"
    ("", False, None, "", [FLAT_PATH]),
    # git_test.go Test_generateParamsFromGitFile "file parameters are added to params"
    (DEFAULT, False, None, "", [{"foo.bar": "baz", **FLAT_PATH}]),
    # git_test.go Test_generateParamsFromGitFile "path parameter are prefixed"
    (DEFAULT, False, None, "myRepo", [{"foo.bar": "baz", **{f"myRepo.{k}": v for k, v in FLAT_PATH.items()}}]),
    # git_test.go Test_generateParamsFromGitFile "file parameters are added to params with go template"
    (DEFAULT, True, {"somekey": "{{.path.basename}}"}, "",
     [{"values": {"somekey": "dir"}, "foo": {"bar": "baz"}, "path": GO_PATH}]),
    # git_test.go Test_generateParamsFromGitFile "path parameter are prefixed with go template"
    (DEFAULT, True, None, "myRepo", [{"foo": {"bar": "baz"}, "myRepo": {"path": GO_PATH}}]),
    # git_test.go Test_generateParamsFromGitFile "file with array of objects" (a list yields one set per item)
    ("- foo: a\n- foo: b\n", False, None, "", [{"foo": "a", **FLAT_PATH}, {"foo": "b", **FLAT_PATH}]),
])
def test_git_file_params(tmp_path, content, go, values, prefix, expected):
    got = params(tmp_path, _git_file(content, go, values, prefix), go=go,
                 files={"path/dir/file_name.yaml": content})
    assert got == expected


def test_git_file_that_is_not_json_or_yaml_is_an_error(tmp_path):
    # git_test.go Test_generateParamsFromGitFile "invalid json/yaml file returns error"
    with pytest.raises(GenerationError, match="unable to process file"):
        params(tmp_path, _git_file("", False), files={"path/dir/file_name.yaml": "this is not json or yaml"})


def test_git_file_numbers_and_lists_flatten_as_argocd(tmp_path):
    # git.go generateParamsFromGitFile: flatten.Flatten (dot style, lists by index) then fmt's %v of
    # JSON-decoded values (numbers are float64: 1000000 prints as 1e+06)
    got = params(tmp_path, _git_file("", False), files={
        "path/dir/file_name.yaml": "n: 3\nbig: 1000000\nok: true\nlist: [a, b]\nnothing: null\nempty: {}\n"})
    assert {k: v for k, v in got[0].items() if not k.startswith("path")} == {
        "n": "3", "big": "1e+06", "ok": "true", "list.0": "a", "list.1": "b", "nothing": "<nil>"}


def _d(path: str) -> dict:
    segs = path.split("/")
    return {"path": path, "path.basename": segs[-1], "path.basenameNormalized": segs[-1].replace("_", "-"),
            **{f"path[{i}]": s for i, s in enumerate(segs)}}


# git_test.go TestGitGenerateParamsFromDirectories. Upstream mocks the repo server with the leaf folders
# (`repoApps`); a real repository also lists their parents, so a pattern matching a parent ("p1" for
# "*") yields it too: `parents` are those extra results, in the order ArgoCD walks the tree.
@pytest.mark.parametrize(("patterns", "repo_apps", "expected", "parents"), [
    # "happy flow - created apps"
    ([{"path": "*"}], ["app1", "app2", "app_3", "p1/app4"], ["app1", "app2", "app_3"], ["p1"]),
    # "It filters application according to the paths"
    ([{"path": "p1/*"}, {"path": "p1/*/*"}], ["app1", "p1/app2", "p1/p2/app3", "p1/p2/p3/app4"],
     ["p1/app2", "p1/p2/app3"], ["p1/p2", "p1/p2/p3"]),
    # "It filters application according to the paths with Exclude"
    ([{"path": "p1/*", "exclude": True}, {"path": "*"}, {"path": "*/*"}],
     ["app1", "app2", "p1/app2", "p1/app3", "p2/app3"], ["app1", "app2", "p2/app3"], ["p1", "p2"]),
    # "Expecting same exclude behavior with different order"
    ([{"path": "*"}, {"path": "*/*"}, {"path": "p1/*", "exclude": True}],
     ["app1", "app2", "p1/app2", "p1/app3", "p2/app3"], ["app1", "app2", "p2/app3"], ["p1", "p2"]),
])
def test_git_directories(tmp_path, patterns, repo_apps, expected, parents):
    files = {f"{d}/x.yaml": "a: 1\n" for d in repo_apps}
    got = params(tmp_path, {"git": {"repoURL": REPO, "directories": patterns}}, files=files)
    walk = sorted(expected + parents, key=lambda d: d.split("/"))
    assert got == [_d(d) for d in walk]


def test_git_directories_values(tmp_path):
    # git_test.go TestGitGenerateParamsFromDirectories "Value variable interpolation"
    files = {"app1/x.yaml": "a: 1\n", "p1/app2/x.yaml": "a: 1\n"}
    gen = {"git": {"repoURL": REPO, "directories": [{"path": "*"}, {"path": "*/*"}],
                   "values": {"foo": "bar", "aaa": "{{ path[0] }}", "no-op": "{{ this-does-not-exist }}"}}}
    got = [p for p in params(tmp_path, gen, files=files) if p["path"] != "p1"]
    assert got == [
        {"values.foo": "bar", "values.no-op": "{{ this-does-not-exist }}", "values.aaa": "app1", **_d("app1")},
        {"values.foo": "bar", "values.no-op": "{{ this-does-not-exist }}", "values.aaa": "p1", **_d("p1/app2")}]


def test_git_directories_params(tmp_path):
    # git_test.go TestGitGenerateParamsFromDirectories / ...GoTemplate: the parameters of one folder
    files = {"app_3/x.yaml": "a: 1\n"}
    flat = params(tmp_path, {"git": {"repoURL": REPO, "directories": [{"path": "*"}]}}, files=files)
    assert flat == [{"path": "app_3", "path.basename": "app_3", "path.basenameNormalized": "app-3",
                     "path[0]": "app_3"}]
    go = params(tmp_path, {"git": {"repoURL": REPO, "directories": [{"path": "*"}]}}, go=True, files=files)
    assert go == [{"path": {"path": "app_3", "basename": "app_3", "basenameNormalized": "app-3",
                            "segments": ["app_3"]}}]


def test_git_file_at_the_repository_root(tmp_path):
    # git.go: path.Dir("config.yaml") is "."; SanitizeName(".") is ""
    got = params(tmp_path, {"git": {"repoURL": REPO, "files": [{"path": "config.yaml"}]}}, go=True,
                 files={"config.yaml": "a: b\n"})
    assert got[0]["path"] == {"path": ".", "basename": ".", "basenameNormalized": "", "segments": ["."],
                              "filename": "config.yaml", "filenameNormalized": "config.yaml"}


def test_git_json_file_is_read_as_yaml(tmp_path):
    # ArgoCD reads every matched file with sigs.k8s.io/yaml: YAML in a .json file is fine
    got = params(tmp_path, {"git": {"repoURL": REPO, "files": [{"path": "c/config.json"}]}},
                 files={"c/config.json": "cluster:\n  name: dev\n"})
    assert got[0]["cluster.name"] == "dev"


# -- value_interpolation_test.go -------------------------------------------------------------------
@pytest.mark.parametrize(("go", "values", "params_in", "expected"), [
    # value_interpolation_test.go TestValueInterpolation "Simple interpolation"
    (False, {"hello": "{{ world }}"}, {"world": "world!"}, {"world": "world!", "values.hello": "world!"}),
    # "Non-existent" (fasttemplate leaves an unknown key verbatim)
    (False, {"non-existent": "{{ non-existent }}"}, {}, {"values.non-existent": "{{ non-existent }}"}),
    # "Values cannot be used in values" ({{ values.hello }} is not a parameter yet)
    (False, {"hello": "{{ values.world }}"}, {}, {"values.hello": "{{ values.world }}"}),
    # TestValueInterpolationWithGoTemplating "Simple interpolation"
    (True, {"hello": "{{ .world }}"}, {"world": "world!"}, {"world": "world!", "values": {"hello": "world!"}}),
    # TestValueInterpolationWithGoTemplating "Non-existent to default"
    (True, {"non_existent": "{{ default \"bar\" .non_existent }}"}, {},
     {"values": {"non_existent": "bar"}}),
    # TestValueInterpolationWithGoTemplating "Non-existent to empty string"
    (True, {"non_existent": "{{ default \"\" .non_existent }}"}, {}, {"values": {"non_existent": ""}}),
])
def test_value_interpolation(tmp_path, go, values, params_in, expected):
    from checks.engines.gotemplate import MISSING_DEFAULT
    em = emulator(tmp_path)
    got = em._with_values(dict(params_in), values, appset(go), MISSING_DEFAULT, ("spec",))
    assert got == expected


# -- generator_spec_processor_test.go -----------------------------------------------------------------
@pytest.mark.parametrize(("go", "elements", "selector", "expected"), [
    # generator_spec_processor_test.go TestMatchValues "no filter"
    (False, [{"name": "a"}, {"name": "b"}], {}, ["a", "b"]),
    # "nil" (no selector at all: everything)
    (False, [{"name": "a"}, {"name": "b"}], None, ["a", "b"]),
    # "values.foo should be foo but is ignore element"
    (False, [{"name": "a", "values": {"foo": "bar"}}, {"name": "b", "values": {"foo": "foo"}}],
     {"matchLabels": {"values.foo": "foo"}}, ["b"]),
    # "values.foo should be bar"
    (False, [{"name": "a", "values": {"foo": "bar"}}, {"name": "b", "values": {"foo": "foo"}}],
     {"matchLabels": {"values.foo": "bar"}}, ["a"]),
    # TestMatchValuesGoTemplate "values.foo should be bar"
    (True, [{"name": "a", "values": {"foo": "bar"}}, {"name": "b", "values": {"foo": "foo"}}],
     {"matchLabels": {"values.foo": "bar"}}, ["a"]),
    # matchExpressions
    (True, [{"name": "a", "env": "prod"}, {"name": "b", "env": "dev"}, {"name": "c"}],
     {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}, ["b", "c"]),
])
def test_selector(tmp_path, go, elements, selector, expected):
    gen = {"list": {"elements": elements}, **({"selector": selector} if selector is not None else {})}
    assert [p["name"] for p in params(tmp_path, gen, go=go)] == expected


@pytest.mark.parametrize(("go", "body", "expected"), [
    # generator_spec_processor_test.go TestInterpolateGeneratorValuesHandling "Generator with values set"
    (True, {"repoURL": "https://somewhere.com/per-cluster/{{.name}}.git", "files": [{"path": "somedir/*"}],
            "revision": "main", "values": {"appname": "{{ .path.basenameNormalized }}"}},
     {"repoURL": "https://somewhere.com/per-cluster/in-cluster.git", "files": [{"path": "somedir/*"}],
      "revision": "main", "values": {"appname": "{{ .path.basenameNormalized }}"}}),
    # "Generator with no values set"
    (True, {"repoURL": "https://somewhere.com/per-cluster/{{.name}}.git", "files": [{"path": "somedir/*"}],
            "revision": "main", "values": {}},
     {"repoURL": "https://somewhere.com/per-cluster/in-cluster.git", "files": [{"path": "somedir/*"}],
      "revision": "main", "values": {}}),
    # "Generator with values set without go templates"
    (False, {"repoURL": "https://somewhere.com/per-cluster/{{name}}.git", "files": [{"path": "somedir/*"}],
             "revision": "main", "values": {"appname": "{{ .path.basenameNormalized }}"}},
     {"repoURL": "https://somewhere.com/per-cluster/in-cluster.git", "files": [{"path": "somedir/*"}],
      "revision": "main", "values": {"appname": "{{ .path.basenameNormalized }}"}}),
])
def test_interpolate_generator_values_handling(tmp_path, go, body, expected):
    from checks.engines.gotemplate import MISSING_DEFAULT
    parent = {"name": "in-cluster", "server": "https://kubernetes.default.svc"}
    got = emulator(tmp_path)._interpolate(body, parent, appset(go), MISSING_DEFAULT, ("spec",))
    assert got == expected


def test_matrix_second_child_missing_key_under_missingkey_error_is_no_crash(tmp_path):
    # divergence 1 of issue 16: a matrix whose second child's values refer to a parameter the first
    # child lacks, under missingkey=error, is left for the child to resolve (no exception escapes)
    files = {"some-folder/a.yaml": "x: 1\n"}
    gen = {"matrix": {"generators": [
        lst({"folder": "some-folder"}),
        {"git": {"repoURL": REPO, "files": [{"path": "{{ .folder }}/*.yaml"}],
                 "values": {"app": "{{ .path.basename }}"}}}]}}
    got = params(tmp_path, gen, go=True, files=files, options=["missingkey=error"])
    assert got[0]["values"] == {"app": "some-folder"} and got[0]["folder"] == "some-folder"


# -- what needs a cluster or an API ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["clusters", "scmProvider", "pullRequest", "clusterDecisionResource", "plugin"])
def test_external_generators_are_not_evaluated(tmp_path, kind):
    with pytest.raises(NotEvaluated, match=kind):
        params(tmp_path, {kind: {}})
