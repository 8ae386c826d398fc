"""What ArgoCD's API server and its production rules say about each generated Application:
`appset/crd` (the CRDs of ArgoCD v3.5 and Kubernetes' metadata rules) and
`appset/prod-auto-sync` (production is synced by hand)."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from checks.core.findings import Finding, KeyPath, Severity
from checks.engines.appsets import GeneratedApp, Generation
from checks.engines.k8s_crd import object_meta_problems, packaged_schema, prune_nulls
from checks.rules.appset_checks import _apps_text, _AppsetCheck, generations
from checks.runner.registry import register

if TYPE_CHECKING:
    from checks.runner.context import Context


def _validator(kind: str) -> Any:
    import jsonschema

    return jsonschema.Draft7Validator(packaged_schema(kind))


def _templated_keys(value: Any, path: KeyPath = ()) -> bool:
    """Whether a template has a templated map key outside labels and annotations (then the shape
    of its Applications can differ from one to the next)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and "{{" in k and path[-1:] not in (("labels",), ("annotations",)):
                return True
            if _templated_keys(v, (*path, k)):
                return True
    elif isinstance(value, list):
        return any(_templated_keys(v, path) for v in value)
    return False


@register
class Crd(_AppsetCheck):
    """ApplicationSets and every Application they generate pass ArgoCD's CRDs and Kubernetes' metadata rules.

    The ApplicationSet against ArgoCD v3.5's ApplicationSet CRD, each generated Application
    against the Application CRD (unknown fields rejected, as `kubectl apply` does), and the
    metadata as the API server checks it (name a DNS-1123 subdomain, valid label keys and
    values): the API server rejects anything else, and ArgoCD then creates none of it.

    Passes:   spec: {syncPolicy: {automated: {prune: true}}}
    Fails:    spec: {syncPolicy: {automated: {prune: 'false'}}}    (a string where a boolean goes)
    Fails:    spec: {plugin: {name: envsubst}}                    (plugin belongs under source)
    Fails:    metadata: {labels: {tier: 'gold tier'}}              (no label value; nor is `{{tier}}`, kept verbatim)
    """

    id = "appset/crd"

    def run(self, ctx: Context) -> Iterator[Finding]:
        from checks.engines.jsonschemas import explain

        gens = generations(ctx)
        if not gens:
            return
        appset_validator = _validator("applicationset")
        app_validator = _validator("application")
        for gen in gens:
            for error in appset_validator.iter_errors(prune_nulls(gen.appset.value)):
                path, message, keyword = explain(error)
                yield self.at(gen, path, f"ApplicationSet CRD: {message}", discriminator=f"set|{keyword}|{path}")
            for path, message in object_meta_problems(gen.appset.value.get("metadata")):
                yield self.at(gen, path, f"ApplicationSet {message}", discriminator=f"setmeta|{path}")
            yield from self._applications(gen, app_validator, explain)

    def _applications(self, gen: Generation, validator: Any, explain) -> Iterator[Finding]:
        by_template: dict[KeyPath, list[GeneratedApp]] = defaultdict(list)
        for app in gen.apps:
            by_template[app.template_path].append(app)
        for template_path, apps in by_template.items():
            template = _get(gen.appset.value, template_path)
            # Templates render strings into strings: one Application shows every schema error of its
            # template, unless map keys are templated (then each is checked)
            sample = apps if _templated_keys(template) else apps[:1]
            schema_errors: dict[tuple, list[GeneratedApp]] = defaultdict(list)
            for app in sample:
                for error in validator.iter_errors(prune_nulls(app.manifest)):
                    path, message, keyword = explain(error)
                    schema_errors[(path, message, keyword)].append(app)
            for (path, message, keyword), bad in schema_errors.items():
                shown = apps if len(sample) == 1 else bad
                yield self.at(gen, (*template_path, *path), f"Application CRD: {message} ({_apps_text(shown)}); the "
                              "API server rejects them", discriminator=f"app|{template_path}|{keyword}|{path}")
            both = [a for a in sample if isinstance(_get(a.manifest, ("spec", "sources")), list)
                    and _get(a.manifest, ("spec", "source")) is not None]
            if both:
                # ApplicationSpec.HasMultipleSources: `sources` wins, `source` is silently ignored
                yield self.at(gen, (*template_path, "spec", "source"), "both source and sources are set: ArgoCD "
                              f"uses sources and ignores source ({_apps_text(apps)})", severity=Severity.WARNING,
                              discriminator=f"both|{template_path}")
            meta_problems: dict[tuple, list[GeneratedApp]] = defaultdict(list)
            for app in apps:
                for path, message in object_meta_problems(app.metadata):
                    meta_problems[(path, message)].append(app)
            for (path, message), bad in meta_problems.items():
                yield self.at(gen, (*template_path, *path), f"{message} for {_apps_text(bad)}; the API server "
                              "rejects them", discriminator=f"meta|{template_path}|{path}|{message}")


def _get(value: Any, path: KeyPath) -> Any:
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
    return value


def application_environment(app: GeneratedApp, parameters: list[str], environments: set[str]) -> str | None:
    """The environment of a generated Application: a parameter (`env`, `environment`, also under
    `values`) or a value file `.../environments/{env}.yaml` / `values-{env}.yaml` naming one of
    `environments`."""
    params = app.params
    given = params.get("values")
    nested = given if isinstance(given, dict) else {}
    for name in parameters:
        value = params.get(name)
        if isinstance(value, str) and value in environments:
            return value
        value = nested.get(name)
        if isinstance(value, str) and value in environments:
            return value
        value = params.get("values." + name)
        if isinstance(value, str) and value in environments:
            return value
    for _, path in app.value_paths:
        named = _environment_in_path(path)
        if named is not None and named in environments:
            return named
    return None


_ENVIRONMENT_FILE = re.compile(r"(?:^|/)(?:environments/([^/]+)|values-([^/]+))\.ya?ml$")


@functools.lru_cache(maxsize=1 << 16)  # a product's files are the same for thousands of Applications
def _environment_in_path(path: str) -> str | None:
    m = _ENVIRONMENT_FILE.search(path)
    return (m.group(1) or m.group(2)) if m else None


def auto_synced(app: GeneratedApp) -> bool:
    """Whether the Application's spec.syncPolicy has `automated` (not `enabled: false`)."""
    found = app.value_at(("spec", "syncPolicy"))  # read where it is, not from a whole manifest built again
    policy = found if isinstance(found, dict) else {}
    automated = policy.get("automated")
    if automated is None:
        return False
    return not (isinstance(automated, dict) and automated.get("enabled") is False)


@register
class ProdAutoSync(_AppsetCheck):
    """A production Application is synced by hand: no `syncPolicy.automated`.

    The architecture: "Manual sync for production (auto-sync disabled)". A generated
    Application for a production environment has no `syncPolicy.automated` (or sets
    `automated.enabled: false`). The environment is read from the Application's parameters
    (`env`, `environment`) or its value files (`environments/prod.yaml`).

    Options: `environments` (default [prod, production]), `parameters` (default [env, environment]).

    Passes:   syncPolicy: {syncOptions: [CreateNamespace=true]}                    (env: prod)
    Fails:    syncPolicy: {automated: {prune: true, selfHeal: true}}               (env: prod)
    """

    id = "appset/prod-auto-sync"
    options: ClassVar[dict] = {"environments": ["prod", "production"], "parameters": ["env", "environment"]}

    def run(self, ctx: Context) -> Iterator[Finding]:
        environments = {str(e) for e in self.config["environments"]}
        parameters = [str(p) for p in self.config["parameters"]]
        for gen in generations(ctx):
            bad: dict[KeyPath, list[GeneratedApp]] = defaultdict(list)
            for app in gen.apps:
                if auto_synced(app) and application_environment(app, parameters, environments):
                    bad[app.template_path].append(app)
            for template_path, apps in bad.items():
                yield self.at(gen, (*template_path, "spec", "syncPolicy", "automated"),
                              f"production synced automatically for {_apps_text(apps)}: production is synced by "
                              "hand (remove syncPolicy.automated for production, or set automated.enabled: false)",
                              discriminator=str(template_path))
