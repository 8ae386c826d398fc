"""Kubernetes' own validation of a custom resource, offline: the CRD's structural schema
(`openAPIV3Schema`) as a JSON Schema, and the API server's checks of `metadata`.

`json_schema()` turns a structural schema into a JSON Schema the API server would agree
with under strict field validation (what `kubectl apply` asks for): an object with
`properties` takes no other field unless `x-kubernetes-preserve-unknown-fields`, and
`nullable` allows null. `object_meta_problems()` is `ValidateObjectMetaAccessor` for a
custom resource: the name a DNS-1123 subdomain, label keys qualified names and values
label values, annotation keys qualified names.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from checks.core.findings import KeyPath

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def json_schema(node: Any) -> Any:
    """A structural schema (descriptions dropped) as a strict JSON Schema."""
    if isinstance(node, list):
        return [json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("description", "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type",
                   "format", "nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string"):
            continue
        if key == "properties":
            out[key] = {k: json_schema(v) for k, v in value.items()}
        else:
            out[key] = json_schema(value)
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in node and "additionalProperties" not in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
    return out


def crd_schema(crd: dict) -> dict:
    """The JSON Schema of a CRD's first served version."""
    versions = crd["spec"]["versions"]
    version = next((v for v in versions if v.get("served", True)), versions[0])
    schema = json_schema(version["schema"]["openAPIV3Schema"])
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return schema


@functools.cache
def packaged_schema(kind: str) -> dict:
    """`application` or `applicationset`: converted by tools/argocd_crd_schemas.py from ArgoCD's CRDs."""
    text = resources.files("checks.schemas").joinpath("argocd").joinpath(f"{kind}.schema.json").read_text()
    return json.loads(text)


def prune_nulls(value: Any) -> Any:
    """The API server drops null fields a schema does not mark nullable before validating
    (none of ArgoCD's are nullable): a copy without them."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(v) for v in value]
    return value


def _qualified(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))


def object_meta_problems(meta: Any) -> list[tuple[KeyPath, str]]:
    """What the API server rejects in a custom resource's metadata (no values shown: a
    parameter may have put a secret there)."""
    out: list[tuple[KeyPath, str]] = []
    if not isinstance(meta, dict):
        return out
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        out.append((("metadata", "name"), "metadata.name is required"))
    elif len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        out.append((("metadata", "name"), "metadata.name is not a DNS-1123 subdomain (lowercase letters, digits, "
                                          "'-' and '.', at most 253 characters)"))
    labels = meta.get("labels")
    if isinstance(labels, dict):
        for key, value in labels.items():
            if not _qualified(str(key)):
                out.append((("metadata", "labels"), "a label key is not a qualified name"))
            if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                out.append((("metadata", "labels", str(key)),
                            f"label {key if _qualified(str(key)) else '?'}: the value is not a valid label value "
                            "(at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends)"))
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in annotations:
            if not _qualified(str(key)):
                out.append((("metadata", "annotations"), "an annotation key is not a qualified name"))
    return out
