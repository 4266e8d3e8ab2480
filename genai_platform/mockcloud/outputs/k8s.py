"""Kubernetes objects of the workload components: provider-style ids and the ALB an Ingress gets."""

from typing import Any

from genai_platform.mockcloud.cloud import MockContext, computes

_NAMESPACED = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:batch/v1:CronJob",
]


def _object_name(context: MockContext) -> tuple[str, str]:
    metadata = context.inputs.get("metadata") or {}
    # Without metadata.name the provider auto-names the object: logical name + random suffix.
    return metadata.get("namespace") or "default", metadata.get("name") or f"{context.name}-{context.hex_id(8)}"


@computes(*_NAMESPACED)
def _namespaced(context: MockContext) -> dict[str, Any]:
    namespace, name = _object_name(context)
    return {"id": f"{namespace}/{name}"}  # the provider's id of a namespaced object


@computes("kubernetes:core/v1:Namespace")
def _namespace(context: MockContext) -> dict[str, Any]:
    return {"id": _object_name(context)[1]}


@computes("kubernetes:networking.k8s.io/v1:Ingress")
def _ingress(context: MockContext) -> dict[str, Any]:
    # The AWS Load Balancer Controller names the ALB k8s-<namespace>-<ingress>-<hash> (or
    # k8s-<group>-<hash> for an Ingress group); internal ones get an 'internal-' DNS prefix.
    namespace, name = _object_name(context)
    annotations = (context.inputs.get("metadata") or {}).get("annotations") or {}
    group = annotations.get("alb.ingress.kubernetes.io/group.name")
    stem = f"k8s-{group[:17]}" if group else f"k8s-{namespace[:8]}-{name[:8]}"
    prefix = "internal-" if annotations.get("alb.ingress.kubernetes.io/scheme", "internal") == "internal" else ""
    digits = int(context.hex_id(8), 16) % 10**10
    hostname = f"{prefix}{stem}-{context.hex_id(10)}-{digits:010d}.{context.region}.elb.amazonaws.com"
    return {"id": f"{namespace}/{name}", "status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}}
