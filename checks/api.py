"""The plugin API: what a check, built in or third-party, imports. Kept small and stable.

    from checks.api import Check, Context, Finding, Severity, register

A check subclasses `Check` (an `id` of `family/name`, a docstring, `options` declared with
their types as `Option`s, one `run(ctx)` generator of findings) and is registered with `@register` or through
the entry-point group `gitops_checks.checks`.
"""

from __future__ import annotations

from checks.core.findings import Finding, KeyPath, Severity
from checks.model.platform import CONFIGS, INFRA, Unit
from checks.runner.context import Context, Shared
from checks.runner.registry import Check, Option, register

__all__ = ["CONFIGS", "INFRA", "Check", "Context", "Finding", "KeyPath", "Option", "Severity", "Shared", "Unit",
           "register"]
