"""The string walk of secrets/plaintext (engines/secret_scan._walk_values) against a plain recursive
reading of the rules it applies, on real files: every YAML and JSON document in tests/data (real
charts, SOPS files, Sealed Secrets, detect-secrets' test data, ArgoCD's docs; SOURCES files there). The
walk judges each (parent key, key) once per process and skips leaves that cannot hold a secret
before visiting them; neither may change a string it yields, its key, its path or their order."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import DATA

from checks.engines import secret_scan
from checks.engines.secret_scan import (
    _env_name,
    _worth_scanning,
    context_key,
    is_json_schema,
    names_a_secret,
    not_a_secret,
    walk_strings,
)
from checks.repo.documents import Limits, parse_yaml_text


def reference_walk(value: Any, path: tuple, key: str, own: str, skip_sops: bool, sealed: bool,
                   out: list) -> None:
    """The rules of _walk_values written as plainly as they read (document order, recursion)."""
    if isinstance(value, dict):
        env = _env_name(value)
        for k, v in value.items():
            k = str(k)
            if not path and skip_sops and k == "sops" and isinstance(v, dict):
                continue
            if sealed and path == ("spec",) and k == "encryptedData":
                continue
            if names_a_secret(own, k, v):
                continue
            child_key = env if (env and k == "value") else context_key(own, k)
            reference_walk(v, (*path, k), child_key, k, skip_sops, sealed, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            reference_walk(item, (*path, i), key, own, skip_sops, sealed, out)
    elif isinstance(value, str):
        if _worth_scanning(value) and not not_a_secret(key, value):
            out.append((path, key, value))
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and len(str(value)) >= 12:
        out.append((path, key, str(value)))


def documents() -> list[tuple[str, Any]]:
    found = []
    for path in sorted(DATA.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file() or path.is_symlink():
            continue
        docs, problems = parse_yaml_text(path.read_text(encoding="utf-8", errors="replace"), Limits())
        if any(p.fatal for p in problems):
            continue
        found.extend((str(path.relative_to(DATA)), doc) for doc in docs if not is_json_schema(doc.value, path.name))
    return found


DOCUMENTS = documents()


def test_the_real_files_are_many_and_hold_secrets_and_names_of_secrets():
    assert len(DOCUMENTS) > 100
    keys = {key for _, doc in DOCUMENTS for _, key, _ in walk_strings(doc)}
    assert {"password", "existingSecret"} & keys == {"password"}  # a name of a secret is never scanned


@pytest.mark.parametrize("cold", [True, False], ids=["cold memo", "warm memo"])
def test_walk_yields_what_the_plain_reading_does(cold: bool):
    if cold:
        secret_scan._KEY_DECISIONS.clear()
    differ = []
    total = 0
    for name, doc in DOCUMENTS:
        expected: list = []
        value = doc.value
        sealed = isinstance(value, dict) and value.get("kind") == "SealedSecret"
        reference_walk(value, (), "", "", True, sealed, expected)
        got = list(walk_strings(doc))
        total += len(got)
        if got != expected:
            differ.append(name)
    assert differ == []
    assert total > 20000


def test_a_key_judged_once_is_judged_alike_for_every_value():
    """Traefik's `basicAuth.secret` names a secret only when its value is a Kubernetes name: the
    memo keeps the key's judgement, the value is judged each time."""
    secret_scan._KEY_DECISIONS.clear()
    docs, _ = parse_yaml_text("basicAuth:\n  secret: authsecret\n---\nbasicAuth:\n  secret: 'Xk29f jQ0p!Lm3aQ7wZ'\n",
                              Limits())
    first, second = (list(walk_strings(doc)) for doc in docs)
    assert first == []
    assert second == [(("basicAuth", "secret"), "basicAuth_secret", "Xk29f jQ0p!Lm3aQ7wZ")]
    assert list(walk_strings(docs[0])) == []  # with the memo warm


def test_a_root_that_is_not_a_map_is_one_leaf():
    docs, _ = parse_yaml_text("'Xk29fjQ0pLm3aQ7wZq'\n---\n- a: 'Xk29fjQ0pLm3aQ7wZq'\n  b: null\n  c: true\n", Limits())
    assert list(walk_strings(docs[0])) == [((), "", "Xk29fjQ0pLm3aQ7wZq")]
    assert list(walk_strings(docs[1])) == [((0, "a"), "a", "Xk29fjQ0pLm3aQ7wZq")]


def test_sops_ciphertext_is_never_worth_scanning_and_stays_out_of_the_memo():
    before = secret_scan._worth_scanning_memo.cache_info().currsize
    assert not _worth_scanning("ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str]")
    assert secret_scan._worth_scanning_memo.cache_info().currsize == before
    assert _worth_scanning("ENC[not ciphertext")  # only the real shape is skipped

