"""Validate every Kubernetes object of an offline plan against the cluster version's OpenAPI schema.

The recorded inputs of a ``kubernetes:<group>/<version>:<Kind>`` resource are the object in
Kubernetes JSON shape (camelCase), so they are checked as-is with ``kubernetes-validate`` in strict
mode (unknown fields are errors, as the API server's strict field validation makes them). A kind the
target version does not serve (a removed beta API such as ``policy/v1beta1``) is an error too, unless
it is a custom resource the caller names in ``custom_kinds``.

``kubernetes-validate`` is a development dependency; it is imported on first use.
"""

from collections.abc import Collection
from typing import Any

from genai_platform.components.aws.eks.cluster import DEFAULT_KUBERNETES_VERSION
from genai_platform.crd_schema import has_vendored_schema, validate_custom_resource
from genai_platform.mockcloud.plan import Plan, RecordedResource

# Pulumi types under the kubernetes provider that are not API objects: Helm/YAML/Kustomize wrappers.
_NOT_API_OBJECTS = ("helm.sh/", "yaml", "kustomize")


def supported_versions() -> list[str]:
    """Kubernetes minor versions (``"1.36"``) whose schemas the installed kubernetes-validate ships."""
    from kubernetes_validate import utils

    return sorted({utils.major_minor(version) for version in utils.all_versions()},
                  key=lambda version: tuple(int(part) for part in version.split(".")))


def manifest_of(resource: RecordedResource) -> dict[str, Any] | None:
    """The Kubernetes object a recorded resource declares, or None when it is not one.

    Skipped: components, providers, Helm/YAML/Kustomize wrappers, ``*Patch`` resources (partial by
    design) and ``*List`` kinds.
    """
    if not resource.custom or not resource.type.startswith("kubernetes:"):
        return None
    _, group_version, kind = resource.type.split(":", 2)
    if group_version.startswith(_NOT_API_OBJECTS) or kind.endswith(("Patch", "List")):
        return None
    group, _, version = group_version.rpartition("/")
    api_version = version if group in ("core", "") else f"{group}/{version}"
    return {"apiVersion": api_version, "kind": kind, **resource.inputs}


def validate_manifest(manifest: dict[str, Any], version: str = DEFAULT_KUBERNETES_VERSION) -> str | None:
    """The first schema violation of one object (``"spec.replicas: ..."``), or None when it is valid."""
    import kubernetes_validate

    _check_version(version)
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(item) for item in error.path) or "<root>"
        return f"{path}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError:
        return f"Kubernetes {version} serves no {manifest['kind']} in {manifest['apiVersion']}"
    return None


def validate_plan_manifests(plan: Plan, version: str = DEFAULT_KUBERNETES_VERSION, *,
                            custom_kinds: Collection[str] = ()) -> list[str]:
    """One line per invalid Kubernetes object of ``plan``: ``"<logical name> (<apiVersion> <kind>): <error>"``.

    Custom resources with a vendored CRD schema (Karpenter's NodePool and EC2NodeClass) are checked against it.
    ``custom_kinds`` lists ``"<apiVersion>/<kind>"`` of other custom resources that have no schema here; they are
    skipped instead of reported. An empty list means all valid.
    """
    errors = []
    for resource in plan.resources:
        manifest = manifest_of(resource)
        if manifest is None or f"{manifest['apiVersion']}/{manifest['kind']}" in custom_kinds:
            continue
        error = validate_custom_resource(manifest) if has_vendored_schema(manifest) else validate_manifest(manifest, version)
        if error:
            errors.append(f"{resource.name} ({manifest['apiVersion']} {manifest['kind']}): {error}")
    return errors


def _check_version(version: str) -> None:
    supported = supported_versions()
    if version not in supported:
        raise ValueError(
            f"Kubernetes version {version!r} has no schemas in the installed kubernetes-validate: "
            f"use one of {supported[0]} to {supported[-1]} (major.minor, e.g. '{DEFAULT_KUBERNETES_VERSION}')."
        )
