"""Parsing: line maps, duplicate keys, tags, limits, encodings -- each a finding, never a crash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import DATA

from checks.repo.documents import DocumentStore, Limits, decode_text, parse_yaml_text
from checks.repo.source import WorkingTreeSource


def problems(text: str, limits: Limits | None = None) -> list[tuple[str, int | None, int | None]]:
    _, found = parse_yaml_text(text, limits or Limits())
    return [(p.check, p.line, p.column) for p in found]


def test_positions_of_every_key_path_and_list_item():
    docs, found = parse_yaml_text("a: 1\nb:\n  c:\n    - x\n    - {d: 2}\n", Limits())
    assert not found
    pos = docs[0].positions
    assert pos[("a",)] == (1, 1)
    assert pos[("b", "c")] == (3, 3)
    assert pos[("b", "c", 1)] == (5, 7)
    assert pos[("b", "c", 1, "d")] == (5, 8)
    assert docs[0].locate(("b", "c", 1, "missing")) == (5, 7)


def test_syntax_error_has_libyaml_line_and_column():
    assert problems("a: 1\nb: c: d\n") == [("yaml/syntax", 2, 5)]


def test_duplicate_key_reported_at_second_occurrence_and_last_wins():
    docs, found = parse_yaml_text("image:\n  tag: '1.2'\n  pull: Always\n  tag: '1.3'\n", Limits())
    assert [(p.check, p.line, p.key_path) for p in found] == [("yaml/duplicate-key", 4, ("image", "tag"))]
    assert "first at line 2" in found[0].message
    assert docs[0].value["image"]["tag"] == "1.3"


def test_python_tags_are_never_constructed(tmp_path: Path):
    marker = tmp_path / "pwned"
    text = f'a: !!python/object/apply:os.system ["touch {marker}"]\n'
    assert problems(text) == [("yaml/unsafe-tag", 1, 4)]
    assert not marker.exists()


def test_unknown_tags_are_warned_and_read_as_plain_data():
    docs, found = parse_yaml_text("password: !vault secret/acme\nlist: !custom [1]\n", Limits())
    assert [(p.check, p.fatal) for p in found] == [("yaml/unknown-tag", False), ("yaml/unknown-tag", False)]
    assert docs[0].value == {"password": "secret/acme", "list": [1]}


def test_billion_laughs_is_rejected_quickly():
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    found = problems("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0
    assert found and found[0][0] == "yaml/limits"


def test_shared_aliases_within_limits_are_fine():
    docs, found = parse_yaml_text("d: &d {cpu: 1}\nprod: *d\nstaging: *d\n", Limits())
    assert not found
    assert docs[0].value["prod"] == {"cpu": 1}


def test_deep_block_nesting_is_rejected_at_the_depth_limit():
    text = "".join("  " * i + "a:\n" for i in range(150)) + "  " * 150 + "leaf\n"
    found = problems(text)
    assert found == [("yaml/limits", 101, 201)]


def test_deep_flow_nesting_is_rejected_quickly():
    started = time.perf_counter()
    found = problems("a: " + "[" * 50_000)
    assert time.perf_counter() - started < 1.0
    # libyaml's own depth guard or ours, whichever comes first: a finding, never a crash.
    assert len(found) == 1 and found[0][0] in ("yaml/limits", "yaml/syntax")


def test_merge_keys_follow_yaml_rules():
    docs, found = parse_yaml_text("base: &b {cpu: 1, mem: 2}\nprod:\n  <<: *b\n  cpu: 4\n", Limits())
    assert not found
    assert docs[0].value["prod"] == {"cpu": 4, "mem": 2}


def test_scalars_are_read_as_go_yaml_hands_them_to_helm():
    docs, _ = parse_yaml_text("date: 2024-01-02\nsexagesimal: 1:30\nyes_: yes\nnum: 0x1F\nkey: {1: a, true: b}\n",
                              Limits())
    v = docs[0].value
    assert v["date"] == "2024-01-02"
    assert v["sexagesimal"] == "1:30"
    assert v["yes_"] is True
    assert v["num"] == 31
    assert v["key"] == {"1": "a", "true": "b"}


def test_multi_document_files_keep_every_document():
    docs, found = parse_yaml_text("a: 1\n---\na: 2\n---\n", Limits())
    assert not found
    assert [d.value for d in docs] == [{"a": 1}, {"a": 2}, None]


def test_control_characters_are_a_syntax_finding():
    assert problems("a: \x1b[31mred\n")[0][0] == "yaml/syntax"


@pytest.mark.parametrize("data, line", [(b"a: caf\xe9\n", 1), (b"a: 1\nb: \xff\n", 2)])
def test_non_utf8_is_an_encoding_problem(data, line):
    text, problem = decode_text(data)
    assert text is None and problem is not None
    assert (problem.check, problem.line) == ("yaml/encoding", line)


def test_binary_and_bom():
    assert decode_text(b"\x00\x01")[1].check == "yaml/encoding"
    assert decode_text("\ufeffa: 1\n".encode())[0] == "a: 1\n"


def test_store_limits_size_and_symlinks(tmp_path: Path):
    (tmp_path / "big.yaml").write_text("a: " + "x" * 2000 + "\n")
    (tmp_path / "ok.yaml").write_text("a: 1\n")
    (tmp_path / "inside.yaml").symlink_to("ok.yaml")
    (tmp_path / "outside.yaml").symlink_to("/etc/hostname")
    (tmp_path / "up.yaml").symlink_to("../../x.yaml")
    store = DocumentStore({"r": WorkingTreeSource(tmp_path, "r")}, Limits(max_file_bytes=1000))
    assert [p.check for p in store.get("r", "big.yaml").problems] == ["yaml/too-large"]
    assert store.get("r", "inside.yaml").first.value == {"a": 1}
    assert [p.check for p in store.get("r", "outside.yaml").problems] == ["yaml/symlink"]
    assert [p.check for p in store.get("r", "up.yaml").problems] == ["yaml/symlink"]
    assert store.get("r", "missing.yaml") is None


# -- the yaml-test-suite's error cases (tests/data/yaml-bad, sources in SOURCES.tsv) --------
YAML_BAD = sorted((DATA / "yaml-bad").glob("*.yaml"))
# libyaml (and go-yaml, which Helm uses, a port of it) accepts these invalid inputs.
LIBYAML_ACCEPTS = {"9C9N", "DK95-01", "G5U8", "QB6E", "RHX7", "S98Z", "SU5Z", "X4QW"}


@pytest.mark.parametrize("path", [p for p in YAML_BAD if p.stem not in LIBYAML_ACCEPTS], ids=lambda p: p.stem)
def test_yaml_test_suite_error_cases_are_syntax_findings(path: Path):
    text, problem = decode_text(path.read_bytes())
    assert problem is None
    found = problems(text)
    assert found and found[0][0] == "yaml/syntax"
    assert found[0][1] is not None and found[0][1] >= 1


@pytest.mark.parametrize("path", [p for p in YAML_BAD if p.stem in LIBYAML_ACCEPTS], ids=lambda p: p.stem)
def test_yaml_test_suite_cases_libyaml_accepts_do_not_crash(path: Path):
    text, _ = decode_text(path.read_bytes())
    parse_yaml_text(text, Limits())  # documented leniency of libyaml: parsed, never a crash


def test_scalars_resolved_as_go_reads_them():
    # `=` resolves to YAML 1.1's value tag, which has no constructor: a string, as in Go (found by hypothesis)
    docs, problems = parse_yaml_text("a: =\nb: '='\nc: 0x1F\nd: yes\ne: 1:30\nf: ~\ng: 2026-01-01\n", Limits())
    assert problems == []
    assert docs[0].value == {"a": "=", "b": "=", "c": 31, "d": True, "e": "1:30", "f": None, "g": "2026-01-01"}
    # the same spellings again come from the per-process cache of plain scalars, unchanged
    again, _ = parse_yaml_text("a: =\nc: 0x1F\nd: yes\n", Limits())
    assert again[0].value == {"a": "=", "c": 31, "d": True}


def _yaml_files_of(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def test_positions_recorded_on_demand_are_those_of_a_recording_parse():
    """A file is parsed without positions; they are recorded from its text when first asked for,
    per document, the same as a parse recording them all along (every YAML file of the corpus)."""
    from checks.repo.documents import _YamlBuilder

    corpus = Path("/work/shared/corpus")
    files = _yaml_files_of(*(r for r in (corpus, DATA) if r.exists()))
    assert len(files) > 100
    compared = 0
    for path in files:
        text, _ = decode_text(path.read_bytes())
        if text is None:
            continue
        docs, found = parse_yaml_text(text, Limits())
        recording = _YamlBuilder(text, Limits(), record=True)
        recording.run()
        assert [d.value for d in docs] == [d.value for d in recording.documents]
        assert found == recording.problems
        assert [d.positions for d in docs] == [d.positions for d in recording.documents], path
        compared += sum(1 for d in docs if d.positions)
    assert compared > 100


def test_a_document_with_another_value_keeps_the_positions_of_its_text():
    docs, _ = parse_yaml_text('{"a": {"b": [1, 2]}}', Limits())
    moved = docs[0].with_value({"a": {"b": [1.0, 2.0]}})
    assert moved.value == {"a": {"b": [1.0, 2.0]}}
    assert moved.locate(("a", "b", 1)) == (1, 17)
    assert docs[0].positions == moved.positions


@pytest.mark.parametrize(("text", "kind"), [("a: !!bool maybe\n", "bool"), ("a: !!int ''\n", "int"),
                                            ("a: !!float ''\n", "float")])
def test_explicit_core_tags_on_values_they_cannot_hold_are_syntax_findings(text: str, kind: str):
    # PyYAML's constructors raise KeyError / IndexError here (found by a mutation fuzz of the yaml-test-suite)
    docs, found = parse_yaml_text(text, Limits())
    assert docs == []
    assert [(p.check, p.line, p.column, p.key_path) for p in found] == [("yaml/syntax", 1, 4, ("a",))]
    assert found[0].message.startswith("cannot read ") and found[0].message.endswith(f"as {kind}")


def test_alias_expansion_counts_a_mapping_without_its_merge_keys():
    # &a holds 6 nodes (the `<<` key is not one of them): 1 + 1 + 1 + 6 before the alias, + 1 + 6 with it
    text = "a: &a {<<: {x: 1}, y: 2}\nb: *a\n"
    assert problems(text, Limits(max_nodes=16)) == []
    assert problems(text, Limits(max_nodes=15)) == [("yaml/limits", 2, 4)]


@pytest.mark.parametrize(("text", "path"), [
    ("a: [{b: !foo x}]\n", ("a", 0, "b")),
    ("a:\n  - 1\n  - {c: [x, !foo y]}\n", ("a", 1, "c", 1)),
    ("<<: {a: !foo 1}\n", ("<<", "a")),  # was the text of a sentinel object, its memory address
    ("? !foo x\n: 1\n", ()),
    ("1: {true: {~: !foo v}}\n", ("1", "true", "null")),
])
def test_problems_carry_the_key_path_of_their_node(text: str, path: tuple):
    _, found = parse_yaml_text(text, Limits())
    assert [(p.check, p.key_path) for p in found] == [("yaml/unknown-tag", path)]


def test_problem_paths_inside_collections_and_after_siblings():
    _, found = parse_yaml_text("x: 1\nm:\n  k: [a, b]\n  k: [c]\n  l:\n    - {? [z] : 1}\n", Limits())
    assert [(p.check, p.line, p.column, p.key_path, p.fatal) for p in found] == [
        ("yaml/duplicate-key", 4, 3, ("m", "k"), False),
        ("yaml/syntax", 6, 10, ("m", "l", 0), True)]
    assert "first at line 3" in found[0].message


def test_yaml_checks_report_each_problem_once_under_its_own_check(tmp_path: Path):
    """The eight yaml/* problem checks share one pass over the files (grouped by check id)."""
    from harness import run

    files: dict[str, str | bytes] = {
        "customers/a/configs/syntax.yaml": "a: [1\n",
        "customers/a/configs/dup.yaml": "a: 1\nb: 2\na: 3\nb: 4\n",
        "customers/a/configs/unsafe.yaml": "a: !!python/object:os.system x\n",
        "customers/a/configs/tags.yaml": "a: !vault x\nb: !Ref y\n",
        "customers/a/configs/latin1.yaml": b"drink: caf\xe9\n",
        "customers/b/configs/clean.yaml": "a: 1\n",
        "customers/b/configs/dup.yml": "- {x: 1, x: 2}\n",
        "customers/a/metadata.yaml": "- not a mapping\n",
    }
    checks = ["yaml/syntax", "yaml/duplicate-key", "yaml/unsafe-tag", "yaml/unknown-tag", "yaml/limits",
              "yaml/encoding", "yaml/too-large", "yaml/symlink", "yaml/not-a-mapping"]
    found = sorted((f.check, f.path, f.line) for f in run(tmp_path, checks, files=files).findings)
    assert found == [
        ("yaml/duplicate-key", "customers/a/configs/dup.yaml", 3),
        ("yaml/duplicate-key", "customers/a/configs/dup.yaml", 4),
        ("yaml/duplicate-key", "customers/b/configs/dup.yml", 1),
        ("yaml/encoding", "customers/a/configs/latin1.yaml", 1),
        ("yaml/not-a-mapping", "customers/a/metadata.yaml", 1),
        ("yaml/syntax", "customers/a/configs/syntax.yaml", 2),
        ("yaml/unknown-tag", "customers/a/configs/tags.yaml", 1),
        ("yaml/unknown-tag", "customers/a/configs/tags.yaml", 2),
        ("yaml/unsafe-tag", "customers/a/configs/unsafe.yaml", 1),
    ]
