"""SARIF 2.1.0: one rule per check id with its documentation, results with file, line, column
and a fingerprint that survives line moves."""

from __future__ import annotations

import json
from typing import Any, TextIO

from checks import __version__
from checks.core.findings import Severity
from checks.reports.base import ReportContext
from checks.runner.registry import all_checks

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


def build(ctx: ReportContext) -> dict[str, Any]:
    checks = all_checks()
    ids = sorted(set(ctx.result.checks_run) | {f.check for f in ctx.result.findings})
    rules = []
    for cid in ids:
        cls = checks.get(cid)
        doc = cls.doc() if cls else "Reported by gitops-checks itself."
        rules.append({
            "id": cid, "name": cid.replace("/", "-"),
            "shortDescription": {"text": cls.summary() if cls else cid},
            "fullDescription": {"text": doc},
            "help": {"text": doc},
            "defaultConfiguration": {"level": LEVEL[cls.severity] if cls else "error"},
        })
    index = {cid: i for i, cid in enumerate(ids)}
    results = []
    for f in ctx.result.findings:
        res: dict[str, Any] = {
            "ruleId": f.check, "ruleIndex": index[f.check], "level": LEVEL[f.severity],
            "message": {"text": f.message},
            "partialFingerprints": {"gitopsChecks/v1": f.fingerprint},
        }
        if f.repo and f.path:
            region = {"startLine": f.line} if f.line else {}
            if f.line and f.column:
                region["startColumn"] = f.column
            location: dict[str, Any] = {"artifactLocation": {"uri": f.path, "uriBaseId": f.repo}}
            if region:
                location["region"] = region
            res["locations"] = [{"physicalLocation": location}]
        props = {k: v for k, v in (("customer", f.customer), ("product", f.product),
                                   ("environment", f.environment)) if v}
        if props:
            res["properties"] = props
        results.append(res)
    repos = sorted({f.repo for f in ctx.result.findings if f.repo})
    return {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gitops-checks", "version": __version__, "rules": rules,
                                "informationUri": "https://example.invalid/gitops-checks"}},
            "originalUriBaseIds": {r: {"description": {"text": f"root of the {r} repository"}} for r in repos},
            "results": results,
        }],
    }


def write(ctx: ReportContext, out: TextIO) -> None:
    json.dump(build(ctx), out, indent=2, ensure_ascii=False)
    out.write("\n")
