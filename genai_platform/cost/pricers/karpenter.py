"""Karpenter NodePools: priced at their expected floor (in the total) and at their ceiling (beside it).

A NodePool has no minimum size: Karpenter launches nodes only for pending pods. Its floor is one node per
replica that always runs on it (a Deployment selecting the pool, at its HPA minimum or fixed replica count),
at the cheapest allowed instance type that fits the pod; an idle pool costs nothing. Its ceiling is its
``limits`` filled with one allowed instance type, whichever makes that most expensive, at the dearest
capacity type it allows (on-demand when allowed, else Spot): what Karpenter may spend without any change.
"""

import math
from typing import Any

from genai_platform.components.aws.capacity.karpenter_node_pool import InstanceShape, instance_shape
from genai_platform.cost.pricers.compute import _instance_hourly, _node_parts
from genai_platform.cost.pricers.context import PricingContext
from genai_platform.cost.pricers.quantities import gib, number, vcpus
from genai_platform.cost.pricers.registry import Ceiling, NotPriced, Priced, pricer_for
from genai_platform.mockcloud import RecordedResource

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
_HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
_GPU = "nvidia.com/gpu"
_LIMIT_NAMES = {"vcpus": "cpu", "memory_gib": "memory GiB", "gpus": _GPU}


def _requirement(template_spec: dict[str, Any], key: str) -> list[str]:
    for requirement in template_spec.get("requirements") or []:
        if requirement.get("key") == key and requirement.get("operator") == "In":
            return list(requirement.get("values") or [])
    raise NotPriced(f"the pool has no '{key} In [...]' requirement, so any instance type may launch and its "
                    "ceiling is unbounded: list the families and sizes it may use")


def _shapes(template_spec: dict[str, Any]) -> list[InstanceShape]:
    families = _requirement(template_spec, "karpenter.k8s.aws/instance-family")
    sizes = _requirement(template_spec, "karpenter.k8s.aws/instance-size")
    try:
        return [instance_shape(family, size) for family in families for size in sizes]
    except ValueError as error:
        raise NotPriced(str(error)) from None


def _limits(spec: dict[str, Any]) -> dict[str, float]:
    limits = spec.get("limits") or {}
    found = {}
    if "cpu" in limits:
        found["vcpus"] = vcpus(limits["cpu"], "limits.cpu")
    if "memory" in limits:
        found["memory_gib"] = gib(limits["memory"], "limits.memory")
    if _GPU in limits:
        found["gpus"] = number(limits[_GPU], f"limits[{_GPU}]")
    if not found:
        raise NotPriced("the pool sets no limits, so nothing caps how many nodes it launches")
    return found


def _nodes_within(shape: InstanceShape, limits: dict[str, float]) -> int:
    """How many nodes of ``shape`` fit the limits: Karpenter launches none that would exceed one."""
    fits = [math.floor(limit / getattr(shape, resource)) for resource, limit in limits.items()
            if getattr(shape, resource)]
    return min(fits) if fits else 0


def _disk(context: PricingContext, resource: RecordedResource, template_spec: dict[str, Any]) -> tuple[float, str]:
    """GiB and type of one node's EBS volumes, from the pool's EC2NodeClass."""
    name = (template_spec.get("nodeClassRef") or {}).get("name")
    node_class = next((c for c in context.plan.of_type(NODE_CLASS) if (c.inputs.get("metadata") or {}).get("name") == name),
                      None)
    if node_class is None:
        raise NotPriced(f"its EC2NodeClass {name!r} is not in the plan, so the node volumes are unknown")
    volumes = [m.get("ebs") or {} for m in (node_class.inputs.get("spec") or {}).get("blockDeviceMappings") or []]
    if not volumes:
        return 20.0, "gp3"  # Karpenter's AL2023 default: one 20 GiB gp3 root volume
    types = {v.get("volumeType", "gp3") for v in volumes}
    if len(types) > 1:
        raise NotPriced(f"its node volumes mix types {sorted(types)}")
    return sum(gib(v.get("volumeSize", "20Gi"), "volumeSize") for v in volumes), types.pop()


def _pods_on_pool(context: PricingContext, pool: RecordedResource) -> list[tuple[str, int, dict[str, float]]]:
    """(deployment, always-running replicas, one pod's requests) of every Deployment pinned to the pool."""
    name = (pool.inputs.get("metadata") or {}).get("name")
    labels = ((pool.inputs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    minimum_by_target = {(h.inputs.get("spec") or {}).get("scaleTargetRef", {}).get("name"):
                         (h.inputs.get("spec") or {}).get("minReplicas", 1) for h in context.plan.of_type(_HPA)}
    found = []
    for deployment in context.plan.of_type(_DEPLOYMENT):
        spec = deployment.inputs.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        selector = pod.get("nodeSelector") or {}
        pinned = selector.get("karpenter.sh/nodepool") == name or (
            selector and all(labels.get(key) == value for key, value in selector.items()))
        if not pinned:
            continue
        deployment_name = (deployment.inputs.get("metadata") or {}).get("name")
        replicas = minimum_by_target.get(deployment_name, spec.get("replicas", 1))
        requests = {"vcpus": 0.0, "memory_gib": 0.0, "gpus": 0.0}
        for container in pod.get("containers") or []:
            resources = container.get("resources") or {}
            wanted = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
            requests["vcpus"] += vcpus(wanted.get("cpu", 0), "cpu request")
            requests["memory_gib"] += gib(wanted.get("memory", "0"), "memory request")
            requests["gpus"] += number((resources.get("limits") or {}).get(_GPU, 0), f"{_GPU} limit")
        found.append((deployment.name, int(number(replicas, "replicas")), requests))
    return found


@pricer_for(NODE_POOL)
def _node_pool(resource: RecordedResource, context: PricingContext) -> Priced:
    spec = resource.inputs.get("spec") or {}
    template_spec = (spec.get("template") or {}).get("spec") or {}
    shapes, limits = _shapes(template_spec), _limits(spec)
    capacity_types = _requirement(template_spec, "karpenter.sh/capacity-type")
    spot = "on-demand" not in capacity_types  # with both allowed, Spot may run out: the ceiling is on-demand
    disk_gib, disk_type = _disk(context, resource, template_spec)
    market = "Spot" if spot else "on-demand"

    floor: list[tuple[float, str]] = []
    for deployment, replicas, requests in _pods_on_pool(context, resource):
        fitting = [s for s in shapes if all(getattr(s, k) >= v for k, v in requests.items())]
        if not replicas:
            continue
        if not fitting:
            raise NotPriced(f"no allowed instance type fits one pod of {deployment}")
        cheapest = min(fitting, key=lambda s: (_instance_hourly(context, s.instance_type), s.instance_type))
        floor += _node_parts(context, count=replicas, instance_type=cheapest.instance_type, spot=spot,
                             count_note=f"floor: one node per always-running replica of {deployment}",
                             disk_gib=disk_gib, disk_type=disk_type)
    if not floor:
        floor = [(0.0, "floor: no node while idle (nothing pinned to the pool always runs; Karpenter launches "
                       "nodes only for pending pods)")]

    def ceiling_of(shape: InstanceShape) -> list[tuple[float, str]]:
        count = _nodes_within(shape, limits)
        return _node_parts(context, count=count, instance_type=shape.instance_type, spot=spot,
                           count_note="ceiling: the pool's limits filled", disk_gib=disk_gib, disk_type=disk_type)

    costliest = max(shapes, key=lambda s: (sum(a for a, _ in ceiling_of(s)), s.instance_type))
    parts = ceiling_of(costliest)
    shown = ", ".join(f"{_LIMIT_NAMES[k]} {v:g}" for k, v in limits.items())
    ceiling = Ceiling(
        monthly=sum(amount for amount, _ in parts),
        basis=f"limits {shown}; costliest fill of {len(shapes)} allowed types, {market}: "
              + "; ".join(basis for _, basis in parts),
        gpu="gpus" in limits,
    )
    return Priced(floor, ceiling=ceiling)
