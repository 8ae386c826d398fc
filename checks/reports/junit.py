"""JUnit XML (junit-xml's non-deprecated API): one suite per check, with stable test case names so CI
trends work across builds. Errors are failures, warnings and notices are printed in the case's
system-out without failing it, tool errors (`internal/*`) are `<error>`s. Control characters are
removed so the XML is always well formed.

Two granularities. `coarse` (the default): one case per check and customer (`customers/acme`), one per
file outside the customers' folders that has findings, and `all` for the rest -- small enough for
Jenkins to keep for every build (1,000 customers: a few MB instead of 45). `fine`: one case per unit
or file examined."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TextIO

from junit_xml import TestCase, TestSuite, to_xml_report_string

from checks.core.findings import Finding, Severity
from checks.model.platform import CONFIGS
from checks.reports.base import ReportContext
from checks.reports.console import clean

_INVALID_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(text: str) -> str:
    return _INVALID_XML.sub("", clean(text))


def _targets(f: Finding, subject: str, names: list[str]) -> list[str]:
    if subject == "unit" and (f.customer or f.product or f.environment):
        matched = [n for n in names if _unit_matches(n, f)]
        if matched:
            return matched
    if subject == "customer" and f.customer:
        return [f.customer]
    if f.repo and f.path:
        return [f"{f.repo}/{f.path}"]
    return ["all"]


def _unit_matches(label: str, f: Finding) -> bool:
    customer, product, environment = label.split("/")
    return (f.customer in (None, customer)) and (f.product in (None, product)) and \
        (f.environment in (None, environment))


GRANULARITIES = ("coarse", "fine")
ALL = "all"


def _customer_of_path(name: str) -> str | None:
    """`customer-configs/customers/acme/...` -> acme."""
    parts = name.split("/")
    if len(parts) > 3 and parts[0] == CONFIGS and parts[1] == "customers":
        return parts[2]
    return None


def _coarse_names(subject: str, names: list[str]) -> list[str]:
    customers: set[str] = set()
    for name in names:
        if subject == "unit":
            customers.add(name.split("/", 1)[0])
        elif subject == "customer":
            customers.add(name)
        else:
            c = _customer_of_path(name)
            if c is not None:
                customers.add(c)
    return [f"customers/{c}" for c in sorted(customers)] + [ALL]


def _coarse_target(f: Finding) -> str:
    customer = f.customer or (_customer_of_path(f"{f.repo}/{f.path}") if f.repo and f.path else None)
    if customer:
        return f"customers/{customer}"
    if f.repo and f.path:
        return f"{f.repo}/{f.path}"
    return ALL


def build(ctx: ReportContext) -> list[TestSuite]:
    result = ctx.result
    coarse = ctx.junit_granularity != "fine"
    by_check: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_check.setdefault(f.check, []).append(f)
    suites = []
    for check in sorted(set(result.checks_run) | set(by_check)):
        subject = result.subjects.get(check, "file")
        names = list(result.examined.get(subject, []))
        case_names = _coarse_names(subject, names) if coarse else names
        cases: dict[str, TestCase] = {n: TestCase(n, classname=check) for n in case_names}
        notes: dict[str, list[str]] = {}
        for f in by_check.get(check, []):
            where = f"{f.repo}/{f.path}:{f.line or '?'}" if f.path else "(run)"
            line = _text(f"{where}: {f.message}")
            for target in ([_coarse_target(f)] if coarse else _targets(f, subject, names)):
                case = cases.setdefault(target, TestCase(target, classname=check))
                if f.check.startswith("internal/"):
                    case.add_error_info(message=_text(f.message)[:500], output=line, error_type=f.check)
                elif f.severity == Severity.ERROR:
                    case.add_failure_info(message=_text(f.message)[:500], output=line, failure_type=f.check)
                else:
                    notes.setdefault(target, []).append(f"{f.severity}: {line}")
        for target, lines in notes.items():
            cases[target].stdout = "\n".join(lines)
        if not cases:
            cases[ALL] = TestCase(ALL, classname=check)
        suites.append(TestSuite(check, [cases[k] for k in sorted(cases)]))
    return suites


# junit-xml adds `disabled`, which Jenkins xUnit's schema (junit-10.xsd) does not allow.
_ALLOWED = {
    "testsuites": {"name", "time", "tests", "failures", "errors"},
    "testsuite": {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id",
                  "package", "file", "log", "url", "version"},
    "testcase": {"name", "time", "classname", "group"},
}


def render(ctx: ReportContext) -> str:
    xml_text = to_xml_report_string(build(ctx), prettyprint=False, encoding="utf-8")
    root = ET.fromstring(xml_text)  # noqa: S314 - our own output, not untrusted input
    for element in root.iter():
        allowed = _ALLOWED.get(element.tag)
        if allowed is not None:
            for attr in [a for a in element.attrib if a not in allowed]:
                del element.attrib[attr]
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(ctx: ReportContext, out: TextIO) -> None:
    out.write(render(ctx))
