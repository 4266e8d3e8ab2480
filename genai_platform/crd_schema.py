"""Validate custom resources of an offline plan against the CRD schemas vendored with the components.

Built-in kinds are checked by :mod:`genai_platform.k8s_schema` (kubernetes-validate); the Karpenter kinds the
components write (``NodePool``, ``EC2NodeClass``) are checked here against the ``openAPIV3Schema`` of the
pinned Karpenter release (:mod:`genai_platform.components.aws.capacity.karpenter_crds`), the KEDA kinds (``ScaledObject``,
``TriggerAuthentication``) against the pinned KEDA release's (:mod:`genai_platform.components.k8s.keda_crds`). As strict as the API server with strict field
validation: an unknown field is an error, except where the schema preserves unknown fields. The CRDs' CEL rules
(``x-kubernetes-validations``) are not evaluated offline; the components validate what they set themselves.
"""

import copy
from functools import cache
from typing import Any

from genai_platform.components.aws.capacity import karpenter_crds
from genai_platform.components.k8s import keda_crds

_SCHEMA_SOURCES = {kind: source.CRDS for source in (karpenter_crds, keda_crds) for kind in source.CRDS.files}

VENDORED_KINDS = tuple(_SCHEMA_SOURCES)
"""``<apiVersion>/<kind>`` of every custom resource with a vendored schema."""


def has_vendored_schema(manifest: dict[str, Any]) -> bool:
    return f"{manifest.get('apiVersion')}/{manifest.get('kind')}" in _SCHEMA_SOURCES


def validate_custom_resource(manifest: dict[str, Any]) -> str | None:
    """The first schema violation of one custom resource (``"spec.limits.cpu: ..."``), or None when valid."""
    validator = _validator(f"{manifest['apiVersion']}/{manifest['kind']}")
    errors = sorted(validator.iter_errors(manifest), key=lambda error: list(error.absolute_path))
    if not errors:
        return None
    error = errors[0]
    path = ".".join(str(item) for item in error.absolute_path) or "<root>"
    return f"{path}: {error.message}"


@cache
def _validator(api_version_kind: str):
    import jsonschema  # imported on first use

    schema = _strict(copy.deepcopy(_SCHEMA_SOURCES[api_version_kind].openapi_schema(api_version_kind)))
    return jsonschema.Draft7Validator(schema)


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Make every object with declared properties refuse undeclared ones, as strict field validation does."""
    if isinstance(schema.get("properties"), dict):
        if not schema.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for child in schema["properties"].values():
            _strict(child)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _strict(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key) or []:
            _strict(child)
    return schema
