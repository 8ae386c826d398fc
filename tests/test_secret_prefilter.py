"""The secrets prefilter (issue #20) never hides a line a detect-secrets plugin fires on, and
turns most lines away. Lines come from data nobody here wrote: every text file under
tests/data (charts, ApplicationSets, Terraform, detect-secrets' own test data with one secret
of each kind, SOPS and Sealed Secrets examples), each line also read as our scan reads
values: `key: "value"`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checks.engines.secret_prefilter import build, required
from checks.engines.secret_scan import Detectors

DATA = Path(__file__).resolve().parent / "data"


def _corpus_lines() -> list[tuple[str, str]]:
    lines: dict[tuple[str, str], None] = {}
    for path in sorted(DATA.rglob("*")):
        if not path.is_file() or "bench-golden" in path.parts or path.stat().st_size > 1_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        name = path.name if "." in path.name else path.name + ".txt"
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped or len(stripped) > 4000:
                continue
            lines[(stripped, name)] = None
            key, sep, value = stripped.partition(":")
            if sep and value.strip():  # as a YAML value is scanned: `key: "value"`
                quoted = value.strip().strip("'\"").replace("\\", "\\\\").replace('"', '\\"')
                lines[(f'{key.strip()}: "{quoted}"', "values.yaml")] = None
    return list(lines)


@pytest.fixture(scope="module")
def detectors() -> Detectors:
    return Detectors()


def test_no_line_a_plugin_fires_on_is_turned_away(detectors: Detectors) -> None:
    prefilter = build(detectors.plugins)
    assert prefilter is not None
    lines = _corpus_lines()
    fired = [(line, name, detectors.scan_line(line, name)) for line, name in lines]
    fired = [item for item in fired if item[2]]
    kinds = {kind for _, _, found in fired for kind in found}
    # detect-secrets' test data holds secrets of many kinds: the check below means something
    assert len(kinds) >= 5, kinds
    missed = [(name, found) for line, name, found in fired if not prefilter.may_fire(line)]
    assert not missed
    turned_away = sum(1 for line, _ in lines if not prefilter.may_fire(line))
    assert turned_away / len(lines) > 0.6, (turned_away, len(lines))


@pytest.mark.parametrize("line", [
    'aws_key: "AKIAIOSFODNN7EXAMPLE"',
    'token: "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"',
    "-----BEGIN RSA PRIVATE KEY-----",
    'hook: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"',
    'token: "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"',
    'stripe: "sk_live_4eC39HqLyjWDarjtT1zdp7dc"',
    'url: "postgres://app:s3cretpassw0rd@db.example.com:5432/app"',
    'jwt: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.'
    'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"',
    'DB_PASSWORD: "hunter2-Qm4vT9zLp7"',
    'checksum: "8b1118b376c313ed420e5133ba91307817ed52c2"',
    'apiToken: "Xk29fjQ0pLm3aQz7Rt5YbW8nVc2"',
    'ſecret: "ſ3cr3t-vAlue-Xk29fjQ0"',  # not ASCII: Unicode case folding is the plugins' business
])
def test_known_secrets_reach_the_plugins(detectors: Detectors, line: str) -> None:
    assert detectors.scan_line(line, "values.yaml"), "the sample must be a secret to detect-secrets"
    assert build(detectors.plugins).may_fire(line)


@pytest.mark.parametrize("line", [
    'host: "billing.acme-corp.example.com"',
    'repository: "registry.example.com/platform/billing"',
    'className: "nginx"',
    'replicaCount: "3"',
    '  source      = "../../../shared/terraform-modules/customer-namespace"',
])
def test_ordinary_lines_are_turned_away(detectors: Detectors, line: str) -> None:
    assert not detectors.scan_line(line, "values.yaml")
    assert not build(detectors.plugins).may_fire(line)


def test_required_literals_follow_the_parsed_expression() -> None:
    assert required(re.compile(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}")) == [
        {("A3T", False), ("ABIA", False), ("ACCA", False), ("AKIA", False), ("ASIA", False)}]
    # both parts are needed: a conjunction of two sets, case-insensitive
    assert required(re.compile(r"(?:cloudant|cl)(?:key|pwd)", re.IGNORECASE)) == [
        {("cloudant", True), ("cl", True)}, {("key", True), ("pwd", True)}]
    # an optional part or an empty alternative requires nothing
    assert required(re.compile(r"(?:ab)?[0-9]+|x?")) == []


class _CustomPlugin:
    secret_type = "custom"

    def analyze_line(self, **kwargs):  # a plugin the prefilter cannot read
        return set()


def test_a_plugin_it_cannot_read_turns_the_prefilter_off(detectors: Detectors) -> None:
    assert build([*detectors.plugins, _CustomPlugin()]) is None
