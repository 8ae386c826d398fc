"""JUnit XML (junit-xml's non-deprecated API): one suite per check, one test case per unit or
file examined, with stable names so CI trends work across builds. Errors are failures,
warnings and notices are printed in the case's system-out without failing it, tool errors
(`internal/*`) are `<error>`s. Control characters are removed so the XML is always well formed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TextIO

from junit_xml import TestCase, TestSuite, to_xml_report_string

from checks.core.findings import Finding, Severity
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


def build(ctx: ReportContext) -> list[TestSuite]:
    result = ctx.result
    by_check: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_check.setdefault(f.check, []).append(f)
    suites = []
    for check in sorted(set(result.checks_run) | set(by_check)):
        subject = result.subjects.get(check, "file")
        names = list(result.examined.get(subject, []))
        cases: dict[str, TestCase] = {n: TestCase(n, classname=check) for n in names}
        notes: dict[str, list[str]] = {}
        for f in by_check.get(check, []):
            where = f"{f.repo}/{f.path}:{f.line or '?'}" if f.path else "(run)"
            line = _text(f"{where}: {f.message}")
            for target in _targets(f, subject, names):
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
            cases["all"] = TestCase("all", classname=check)
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
