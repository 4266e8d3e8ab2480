"""The pricing model: a monthly estimate of an offline plan, resource by resource.

Every resource type with a fixed hourly or monthly price has a pricer below. A pricer reads the
engine inputs the plan recorded (camelCase), multiplies by ``prices.json`` and returns the parts
of the resource's monthly price, each with a basis a reader can check by hand. A resource whose
class or size is not in the table is reported as *unpriced* with the reason, never priced at zero;
usage-priced resources (storage, requests, data transfer) are listed with the assumption, not summed.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from genai_infra.cost.prices import PRICES_FILE, cents, load_prices, money, rate
from genai_infra.cost.tree import service_names
from genai_infra.mockcloud import Plan, RecordedResource


class NotPriced(Exception):
    """The resource is of a priced type, but the plan does not say enough (or the table lacks its size)."""


@dataclass
class Priced:
    """What a pricer found: fixed monthly parts ``(amount, basis)`` and an optional usage-priced remark."""

    parts: list[tuple[float, str]] = field(default_factory=list)
    usage: str | None = None


_CLOUD_OF_PACKAGE = {"eks": "aws", "awsx": "aws", "kubernetes": "aws"}


@dataclass
class CostEstimate:
    """A plan's monthly estimate. Amounts are USD, rounded to cents; ``monthly`` is the sum of ``items``."""

    monthly: float
    budget: float | None
    items: list[dict[str, Any]]
    """``{"urn", "type", "monthly", "basis"}`` per priced resource, most expensive first."""
    usage_based: list[dict[str, Any]]
    """``{"urn", "type", "basis"}`` per resource (or part of one) priced by usage: not in ``monthly``."""
    unpriced: list[dict[str, Any]]
    """``{"urn", "type", "reason"}`` per resource of a priced type the table cannot price."""
    services: dict[str, str] = field(default_factory=dict, repr=False)
    """URN -> service (top-level component) name."""
    read_on: str = ""
    """The date the price table was read."""

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.monthly > self.budget

    def by_service(self) -> dict[str, float]:
        """Monthly subtotal per service (the top-level component under the stack root), largest first."""
        totals: dict[str, float] = defaultdict(float)
        for item in self.items:
            totals[self.services.get(item["urn"], item["urn"])] += item["monthly"]
        return {name: cents(total) for name, total in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))}

    def by_cloud(self) -> dict[str, float]:
        """Monthly subtotal per cloud (``aws``, ``gcp``), to hold each against its own budget.

        pulumi-eks components and the load balancers Kubernetes objects create on EKS count as AWS.
        """
        totals: dict[str, float] = defaultdict(float)
        for item in self.items:
            package = item["type"].split(":", 1)[0]
            totals[_CLOUD_OF_PACKAGE.get(package, package)] += item["monthly"]
        return {name: cents(total) for name, total in sorted(totals.items())}

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "monthly": self.monthly,
            "budget": self.budget,
            "items": self.items,
            "usage_based": self.usage_based,
            "unpriced": self.unpriced,
        }


def estimate(plan: Plan, budget_usd: float | None = None, prices: dict[str, Any] | None = None) -> CostEstimate:
    """Price every resource of ``plan`` and hold the total against ``budget_usd`` (None: no budget)."""
    context = _Context(plan, prices or load_prices())
    items, usage_based, unpriced = [], [], []
    for resource in plan.resources:
        pricer = _PRICERS.get(resource.type)
        usage_basis = context.prices["usage_based"].get(resource.type)
        if pricer is None:
            if usage_basis:
                usage_based.append({"urn": resource.urn, "type": resource.type, "basis": usage_basis})
            continue
        try:
            found = pricer(resource, context)
        except NotPriced as reason:
            unpriced.append({"urn": resource.urn, "type": resource.type, "reason": str(reason)})
            continue
        if found is None:
            continue
        if found.parts:
            items.append({
                "urn": resource.urn,
                "type": resource.type,
                "monthly": cents(sum(amount for amount, _ in found.parts)),
                "basis": "; ".join(basis for _, basis in found.parts),
            })
        if found.usage:
            usage_based.append({"urn": resource.urn, "type": resource.type, "basis": found.usage})
    items.sort(key=lambda item: (-item["monthly"], item["urn"]))
    budget = None if budget_usd is None else cents(float(budget_usd))
    return CostEstimate(
        monthly=cents(sum(item["monthly"] for item in items)),
        budget=budget,
        items=items,
        usage_based=usage_based,
        unpriced=unpriced,
        services=service_names(plan),
        read_on=context.prices.get("read_on", ""),
    )


# --------------------------------------------------------------------------------------------- context


class _Context:
    def __init__(self, plan: Plan, prices: dict[str, Any]):
        self.plan = plan
        self.prices = prices
        self.hours = float(prices["hours_per_month"])
        self.by_urn = {r.urn: r for r in plan.resources}
        self.shared_albs: dict[str, str] = {}

    def monthly(self, hourly: float) -> float:
        return hourly * self.hours

    def linked(self, resource: RecordedResource, type_token: str, reference: Any = None) -> RecordedResource | None:
        """The resource of ``type_token`` that ``resource`` refers to.

        Dependencies are transitive through components (a node group depends on every launch template
        of the cluster it joins), so the reference (id, ARN or name) decides first; without a match,
        the only dependency of that type, or the only one beside ``resource``, is taken.
        """
        dependencies = [self.by_urn[u] for u in resource.dependencies
                        if u in self.by_urn and self.by_urn[u].type == type_token]
        if isinstance(reference, str) and reference:
            for candidate in dependencies or self.plan.of_type(type_token):
                arn = str(candidate.outputs.get("arn") or "")
                names = (candidate.urn, arn, candidate.outputs.get("id"), candidate.outputs.get("name"),
                         candidate.inputs.get("name"))
                if reference in names or arn.endswith(f"/{reference}"):
                    return candidate
        beside = [d for d in dependencies if d.parent == resource.parent]
        for choice in (dependencies, beside):
            if len(choice) == 1:
                return choice[0]
        return None


_PRICERS: dict[str, Callable[[RecordedResource, _Context], Priced | None]] = {}


def _prices(*type_tokens: str):
    def register(function):
        for token in type_tokens:
            _PRICERS[token] = function
        return function
    return register


def priced_types() -> list[str]:
    """Type tokens with a pricer (fixed-price types); usage-only types are in ``prices.json``."""
    return sorted(_PRICERS)


# --------------------------------------------------------------------------------------------- parsing


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise NotPriced(f"{what}={value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise NotPriced(f"{what}={value!r} is not known at plan time, so the size cannot be priced")


def _text(value: Any, what: str) -> str:
    if isinstance(value, str) and value and value != "[secret]":
        return value
    raise NotPriced(f"{what}={value!r} is not known at plan time, so the size cannot be priced")


def _count(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


_QUANTITY = re.compile(r"^\s*([0-9.]+)\s*([A-Za-z]*)\s*$")
_BINARY = {"": 1 / 2**30, "Ki": 1 / 2**20, "Mi": 1 / 2**10, "Gi": 1.0, "Ti": 2**10}
_DECIMAL = {"k": 1e3 / 2**30, "K": 1e3 / 2**30, "M": 1e6 / 2**30, "G": 1e9 / 2**30, "T": 1e12 / 2**30}


def _gib(quantity: Any, what: str) -> float:
    """A Kubernetes-style memory quantity (``512Mi``, ``2Gi``, ``1G``) in GiB."""
    match = _QUANTITY.match(str(quantity))
    if not match or match.group(2) not in {**_BINARY, **_DECIMAL}:
        raise NotPriced(f"{what}={quantity!r} is not a memory quantity such as 512Mi or 2Gi")
    return float(match.group(1)) * {**_BINARY, **_DECIMAL}[match.group(2)]


def _cpus(quantity: Any, what: str) -> float:
    """A Kubernetes-style CPU quantity (``1``, ``2``, ``1000m``) in vCPUs."""
    text = str(quantity).strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise NotPriced(f"{what}={quantity!r} is not a CPU quantity such as 1 or 1000m") from None


# --------------------------------------------------------------------------------------------- compute


def _instance_hourly(context: _Context, instance_type: str) -> float:
    table = context.prices["ec2"]["on_demand_hourly"]
    if instance_type not in table:
        raise NotPriced(f"instance type {instance_type!r} is not in the price table ({PRICES_FILE}): "
                        "add its us-east-1 on-demand price")
    return table[instance_type]


def _node_parts(context: _Context, *, count: float, instance_type: str, spot: bool, count_note: str,
                disk_gib: float | None, disk_type: str | None, public_ip: bool = False) -> list[tuple[float, str]]:
    """Monthly parts of ``count`` identical nodes: instance hours, root volumes, public IPv4s."""
    hourly = _instance_hourly(context, instance_type)
    discount = context.prices["ec2_spot"]["discount"]
    effective = hourly * (1 - discount) if spot else hourly
    market = f"Spot at {rate(hourly)}/h less {discount:.0%} (assumed Spot discount)" if spot else \
        f"on-demand at {rate(hourly)}/h"
    amount = count * context.monthly(effective)
    parts = [(amount, f"{_count(count)} x {instance_type} {market} ({count_note}) x {context.hours:g} h = {money(amount)}")]
    if disk_gib and count:
        volume = disk_type or context.prices["ebs"]["default_volume_type"]
        assumed = "" if disk_type else " (type assumed)"
        per_gb = context.prices["ebs"]["gb_month"].get(volume)
        if per_gb is None:
            raise NotPriced(f"EBS volume type {volume!r} is not in the price table ({PRICES_FILE})")
        disks = count * disk_gib * per_gb
        parts.append((disks, f"root volumes {_count(count)} x {_count(disk_gib)} GiB {volume}{assumed} "
                             f"x {rate(per_gb)}/GB-month = {money(disks)}"))
    if public_ip and count:
        parts.append(_public_ips(context, count, "node public IPv4"))
    return parts


def _public_ips(context: _Context, count: float, what: str) -> tuple[float, str]:
    hourly = context.prices["vpc"]["public_ipv4_hourly"]
    amount = count * context.monthly(hourly)
    return amount, f"{what} {_count(count)} x {rate(hourly)}/h x {context.hours:g} h = {money(amount)}"


def _control_plane(context: _Context, resource: RecordedResource) -> tuple[float, str]:
    prices = context.prices["eks"]
    amount = context.monthly(prices["control_plane_hourly"])
    support = ((resource.inputs.get("upgradePolicy") or {}).get("supportType")) or "STANDARD"
    note = "standard support" if support != "EXTENDED" else (
        f"upgrade policy EXTENDED: {rate(prices['extended_support_hourly'])}/h once its version leaves standard support")
    return amount, f"EKS control plane {rate(prices['control_plane_hourly'])}/h x {context.hours:g} h = {money(amount)} ({note})"


@_prices("aws:eks/cluster:Cluster")
def _eks_cluster(resource: RecordedResource, context: _Context) -> Priced:
    return Priced([_control_plane(context, resource)])


@_prices("aws:eks/nodeGroup:NodeGroup", "eks:index:ManagedNodeGroup")
def _managed_node_group(resource: RecordedResource, context: _Context) -> Priced:
    inputs = resource.inputs
    scaling = inputs.get("scalingConfig") or {}
    if "desiredSize" not in scaling:
        raise NotPriced("scalingConfig.desiredSize is not set, so the node count is unknown")
    desired = _number(scaling["desiredSize"], "scalingConfig.desiredSize")
    note = f"desired size; min {_count(_number(scaling.get('minSize', desired), 'minSize'))}, " \
           f"max {_count(_number(scaling.get('maxSize', desired), 'maxSize'))}"
    types = inputs.get("instanceTypes") or []
    disk_gib, disk_type = inputs.get("diskSize"), None
    template = None
    if inputs.get("launchTemplate"):
        reference = inputs["launchTemplate"].get("id") or inputs["launchTemplate"].get("name")
        template = context.linked(resource, "aws:ec2/launchTemplate:LaunchTemplate", reference)
    if template is not None:
        if not types and template.inputs.get("instanceType"):
            types = [template.inputs["instanceType"]]
        volumes = [m.get("ebs") or {} for m in template.inputs.get("blockDeviceMappings") or []]
        if volumes and volumes[0].get("volumeSize"):
            disk_gib, disk_type = _number(volumes[0]["volumeSize"], "volumeSize"), volumes[0].get("volumeType")
    elif inputs.get("launchTemplate"):
        raise NotPriced("its launch template is not in the plan, so the instance type and disk are unknown")
    if not types:
        types, note = ["t3.medium"], note + "; instance type AWS default"
    elif len(types) > 1:
        note += f"; priced as the first of {len(types)} listed types"
    if disk_gib is None and template is None:
        disk_gib = 20  # the managed node group's default root volume without a launch template
    spot = inputs.get("capacityType") == "SPOT"
    return Priced(_node_parts(context, count=desired, instance_type=_text(types[0], "instanceTypes[0]"), spot=spot,
                              count_note=note, disk_gib=disk_gib and _number(disk_gib, "diskSize"),
                              disk_type=disk_type))


def _self_managed_nodes(context: _Context, options: dict[str, Any]) -> list[tuple[float, str]]:
    """A pulumi-eks self-managed node group (the cluster's default one, NodeGroup, NodeGroupV2)."""
    desired = _number(options.get("desiredCapacity", 2), "desiredCapacity")
    note = "desiredCapacity" + ("" if "desiredCapacity" in options else " default 2")
    instance_type = options.get("instanceType") or "t3.medium"
    if "instanceType" not in options:
        note += "; pulumi-eks default instance type"
    return _node_parts(context, count=desired, instance_type=_text(instance_type, "instanceType"),
                       spot=bool(options.get("spotPrice")), count_note=note,
                       disk_gib=_number(options.get("nodeRootVolumeSize", 20), "nodeRootVolumeSize"),
                       disk_type=options.get("nodeRootVolumeType"),
                       public_ip=options.get("nodeAssociatePublicIpAddress") is True)


@_prices("eks:index:Cluster")
def _pulumi_eks_cluster(resource: RecordedResource, context: _Context) -> Priced:
    # A remote component: offline its children are invisible, so its control plane and default
    # node group are priced on the component itself.
    inputs = resource.inputs
    parts = [_control_plane(context, resource)]
    skip = inputs.get("skipDefaultNodeGroup") or inputs.get("fargate") or inputs.get("autoMode")
    if not skip:
        options = {**inputs, **(inputs.get("nodeGroupOptions") or {})}
        parts += [(amount, f"default node group: {basis}") for amount, basis in _self_managed_nodes(context, options)]
    return Priced(parts, usage="EKS Auto Mode nodes: instance price plus Auto Mode fee while they run"
                  if inputs.get("autoMode") else None)


@_prices("eks:index:NodeGroup", "eks:index:NodeGroupV2")
def _pulumi_eks_node_group(resource: RecordedResource, context: _Context) -> Priced:
    return Priced(_self_managed_nodes(context, resource.inputs))


@_prices("aws:ec2/instance:Instance")
def _ec2_instance(resource: RecordedResource, context: _Context) -> Priced:
    inputs = resource.inputs
    root = inputs.get("rootBlockDevice") or {}
    return Priced(_node_parts(
        context, count=1, instance_type=_text(inputs.get("instanceType"), "instanceType"),
        spot=bool(inputs.get("instanceMarketOptions")), count_note="always on",
        disk_gib=root.get("volumeSize") and _number(root["volumeSize"], "rootBlockDevice.volumeSize"),
        disk_type=root.get("volumeType"), public_ip=inputs.get("associatePublicIpAddress") is True))


_ECS_UNITS = re.compile(r"^\s*([0-9.]+)\s*(vcpu|gb)?\s*$", re.IGNORECASE)


def _task_size(value: Any, what: str, unit_per: float) -> float:
    """Task CPU (``"512"`` units or ``"0.5 vCPU"``) or memory (``"1024"`` MiB or ``"1 GB"``) in vCPU / GB."""
    match = _ECS_UNITS.match(str(value)) if value is not None else None
    if not match:
        raise NotPriced(f"task definition {what}={value!r} is not known at plan time")
    amount = float(match.group(1))
    return amount if match.group(2) else amount / unit_per


def _fargate_split(count: float, strategies: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Tasks on FARGATE, on FARGATE_SPOT and elsewhere, following ECS's base-then-weight placement."""
    placed: dict[str, float] = defaultdict(float)
    remaining = count
    for strategy in strategies:
        base = min(float(strategy.get("base") or 0), remaining)
        placed[strategy.get("capacityProvider", "")] += base
        remaining -= base
    weights = {s.get("capacityProvider", ""): float(s.get("weight") or 0) for s in strategies}
    total_weight = sum(weights.values())
    for provider, weight in weights.items():
        if total_weight:
            placed[provider] += remaining * weight / total_weight
    on_demand, spot = placed.pop("FARGATE", 0.0), placed.pop("FARGATE_SPOT", 0.0)
    return on_demand, spot, sum(placed.values())


@_prices("aws:ecs/service:Service")
def _ecs_service(resource: RecordedResource, context: _Context) -> Priced:
    inputs = resource.inputs
    task = context.linked(resource, "aws:ecs/taskDefinition:TaskDefinition", inputs.get("taskDefinition"))
    if task is None:
        raise NotPriced("its task definition is not in the plan, so the task size is unknown")
    strategies = inputs.get("capacityProviderStrategies") or []
    launch_type = inputs.get("launchType")
    if launch_type in ("EC2", "EXTERNAL"):
        return Priced([(0.0, f"launch type {launch_type}: tasks run on the cluster's instances, priced with them")])
    if not launch_type and not strategies and "FARGATE" not in (task.inputs.get("requiresCompatibilities") or []):
        raise NotPriced("neither launchType nor a capacity provider strategy says where the tasks run")

    count = _number(inputs.get("desiredCount", 0), "desiredCount")
    count_note = "desired count"
    name = resource.outputs.get("name")
    for target in context.plan.of_type("aws:appautoscaling/target:Target"):
        if name and str(target.inputs.get("resourceId", "")).endswith(f"/{name}"):
            minimum = _number(target.inputs.get("minCapacity", 0), "minCapacity")
            if minimum > count:
                count, count_note = minimum, "autoscaling minimum capacity"
    if strategies:
        on_demand, spot, elsewhere = _fargate_split(count, strategies)
    else:
        on_demand, spot, elsewhere = count, 0.0, 0.0

    vcpu = _task_size(task.inputs.get("cpu"), "cpu", 1024)
    memory_gb = _task_size(task.inputs.get("memory"), "memory", 1024)
    platform = task.inputs.get("runtimePlatform") or {}
    if str(platform.get("operatingSystemFamily", "LINUX")) != "LINUX":
        raise NotPriced(f"operatingSystemFamily {platform['operatingSystemFamily']!r} is not in the price table "
                        f"({PRICES_FILE}); it prices Linux tasks")
    arm = platform.get("cpuArchitecture") == "ARM64"
    fargate = context.prices["fargate"]
    rates = fargate["linux_arm" if arm else "linux_x86"]
    task_hourly = vcpu * rates["vcpu_hourly"] + memory_gb * rates["gb_hourly"]
    extra_disk = max(0.0, float((task.inputs.get("ephemeralStorage") or {}).get("sizeInGib") or 0)
                     - fargate["included_ephemeral_gb"])
    task_hourly += extra_disk * fargate["ephemeral_gb_hourly"]
    disk = f" + {extra_disk:g} GB extra ephemeral storage x {rate(fargate['ephemeral_gb_hourly'])}/h" if extra_disk else ""
    size = (f"({vcpu:g} vCPU x {rate(rates['vcpu_hourly'])}/h + {memory_gb:g} GB x {rate(rates['gb_hourly'])}/h{disk}, "
            f"{'Linux/ARM' if arm else 'Linux/x86'})")
    parts = []
    if on_demand or not spot:
        amount = on_demand * context.monthly(task_hourly)
        parts.append((amount, f"Fargate {_count(on_demand)} task(s) ({count_note}) x {size} x {context.hours:g} h "
                              f"= {money(amount)}"))
    if spot:
        discount = fargate["spot_discount"]
        amount = spot * context.monthly(task_hourly) * (1 - discount)
        parts.append((amount, f"Fargate Spot {_count(spot)} task(s) x {size} less {discount:.0%} (assumed Spot "
                              f"discount) x {context.hours:g} h = {money(amount)}"))
    if elsewhere:
        parts.append((0.0, f"{_count(elsewhere)} task(s) on EC2 capacity providers, priced with their instances"))
    if (inputs.get("networkConfiguration") or {}).get("assignPublicIp") is True:
        parts.append(_public_ips(context, on_demand + spot, "task public IPv4"))
    return Priced(parts)


def _cloud_run_min_instances(template: dict[str, Any], service_scaling: dict[str, Any]) -> tuple[float, str]:
    if service_scaling.get("scalingMode") == "MANUAL":
        return _number(service_scaling.get("manualInstanceCount", 0), "scaling.manualInstanceCount"), "manual instances"
    revision = _number((template.get("scaling") or {}).get("minInstanceCount", 0), "template.scaling.minInstanceCount")
    service = _number(service_scaling.get("minInstanceCount", 0), "scaling.minInstanceCount")
    return max(revision, service), "minimum instances"


@_prices("gcp:cloudrunv2/service:Service")
def _cloud_run_service(resource: RecordedResource, context: _Context) -> Priced:
    prices = context.prices["cloud_run"]
    template = resource.inputs.get("template") or {}
    count, what = _cloud_run_min_instances(template, resource.inputs.get("scaling") or {})
    usage = "Cloud Run request time above the always-on instances: per vCPU-second, GiB-second and request"
    if not count:
        return Priced(usage="scales to zero: " + usage)

    vcpu = memory = gpus = 0.0
    instance_based = False
    for container in template.get("containers") or [{}]:
        resources = container.get("resources")
        limits = (resources or {}).get("limits") or {}
        vcpu += _cpus(limits.get("cpu", prices["default_cpu"]), "limits.cpu")
        memory += _gib(limits["memory"], "limits.memory") if "memory" in limits else prices["default_memory_gib"]
        gpus += _number(limits.get("nvidia.com/gpu", 0), "limits.nvidia.com/gpu")
        cpu_idle = (resources or {}).get("cpuIdle")
        instance_based |= cpu_idle is False or (resources is not None and cpu_idle is None)
    seconds = context.hours * 3600
    parts = []
    if gpus or instance_based:
        cpu_rate, mem_rate = prices["instance_based"]["vcpu_second"], prices["instance_based"]["gib_second"]
        billing = "instance-based billing" + (" (required with a GPU)" if gpus else "")
    else:
        cpu_rate, mem_rate = prices["request_based_idle"]["vcpu_second"], prices["request_based_idle"]["gib_second"]
        billing = "request-based billing, idle rate"
    amount = count * seconds * (vcpu * cpu_rate + memory * mem_rate)
    parts.append((amount, f"{_count(count)} {what} x ({vcpu:g} vCPU x {rate(cpu_rate)}/s + {memory:g} GiB x "
                          f"{rate(mem_rate)}/s) x {seconds:,.0f} s, {billing} = {money(amount)}"))
    if gpus:
        accelerator = (template.get("nodeSelector") or {}).get("accelerator") or "nvidia-l4"
        redundant = template.get("gpuZonalRedundancyDisabled") is not True
        table = prices["gpu_second_zonal_redundancy" if redundant else "gpu_second"]
        if accelerator not in table:
            raise NotPriced(f"GPU {accelerator!r} is not in the price table ({PRICES_FILE})")
        amount = count * gpus * seconds * table[accelerator]
        parts.append((amount, f"{_count(count * gpus)} x {accelerator} GPU x {rate(table[accelerator])}/s "
                              f"({'with' if redundant else 'without'} zonal redundancy) x {seconds:,.0f} s "
                              f"= {money(amount)}"))
    return Priced(parts, usage=usage)


# --------------------------------------------------------------------------------------------- data stores


@_prices("aws:rds/instance:Instance")
def _rds_instance(resource: RecordedResource, context: _Context) -> Priced:
    inputs, prices = resource.inputs, context.prices["rds"]
    instance_class = _text(inputs.get("instanceClass"), "instanceClass")
    engine = inputs.get("engine") or "postgres"
    if engine not in prices["engines"]:
        raise NotPriced(f"engine {engine!r} is not in the price table ({PRICES_FILE}); it prices {prices['engines']}")
    if instance_class not in prices["instance_hourly"]:
        raise NotPriced(f"instance class {instance_class!r} is not in the price table ({PRICES_FILE}): "
                        "add its us-east-1 PostgreSQL on-demand price")
    multi_az = inputs.get("multiAz") is True
    factor = prices["multi_az_factor"] if multi_az else 1
    times_az = f" x {factor} (Multi-AZ)" if multi_az else ""
    hourly = prices["instance_hourly"][instance_class]
    amount = context.monthly(hourly) * factor
    parts = [(amount, f"{instance_class} {rate(hourly)}/h x {context.hours:g} h{times_az} = {money(amount)}")]

    storage_type = inputs.get("storageType") or ("io1" if inputs.get("iops") else prices["default_storage_type"])
    if storage_type not in prices["storage_gb_month"]:
        raise NotPriced(f"storage type {storage_type!r} is not in the price table ({PRICES_FILE})")
    if inputs.get("allocatedStorage") is not None:
        gb = _number(inputs["allocatedStorage"], "allocatedStorage")
        per_gb = prices["storage_gb_month"][storage_type]
        amount = gb * per_gb * factor
        parts.append((amount, f"{storage_type} {_count(gb)} GB x {rate(per_gb)}/GB-month{times_az} = {money(amount)}"))
        iops = _number(inputs.get("iops") or 0, "iops")
        if storage_type == "gp3":
            included = prices["gp3_included_iops"]["from_400_gb" if gb >= 400 else "below_400_gb"]
            iops = max(0.0, iops - included)
        if iops and storage_type in prices["provisioned_iops_month"]:
            per_iops = prices["provisioned_iops_month"][storage_type]
            amount = iops * per_iops * factor
            parts.append((amount, f"{_count(iops)} provisioned IOPS x {rate(per_iops)}/IOPS-month{times_az} "
                                  f"= {money(amount)}"))
    elif not inputs.get("replicateSourceDb") and not inputs.get("snapshotIdentifier"):
        raise NotPriced("allocatedStorage is not set, so the storage size is unknown")
    if inputs.get("manageMasterUserPassword") is True:
        secret = prices["managed_master_secret_month"]
        parts.append((secret, f"RDS-managed master user secret in Secrets Manager {rate(secret)}/month"))
    return Priced(parts)


@_prices("aws:rds/clusterInstance:ClusterInstance")
def _aurora_instance(resource: RecordedResource, context: _Context) -> Priced:
    raise NotPriced(f"Aurora instance class {resource.inputs.get('instanceClass')!r} is not in the price table "
                    f"({PRICES_FILE}): Aurora is priced apart from RDS instances")


def _cache_node_hourly(context: _Context, node_type: Any, engine: str) -> tuple[float, str]:
    prices = context.prices["elasticache"]
    node_type = _text(node_type, "nodeType")
    if node_type not in prices["node_hourly"]:
        raise NotPriced(f"node type {node_type!r} is not in the price table ({PRICES_FILE}): "
                        "add its us-east-1 Redis OSS on-demand price")
    hourly = prices["node_hourly"][node_type]
    if engine == "valkey":
        return hourly * prices["valkey_factor"], f"{node_type} Valkey ({rate(hourly)}/h Redis OSS x {prices['valkey_factor']:g})"
    return hourly, f"{node_type} {engine} {rate(hourly)}/h"


@_prices("aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster")
def _cache_nodes(resource: RecordedResource, context: _Context) -> Priced:
    inputs = resource.inputs
    engine = inputs.get("engine") or "redis"
    if "numCacheNodes" in inputs:
        nodes, note = _number(inputs["numCacheNodes"], "numCacheNodes"), "numCacheNodes"
    elif "numCacheClusters" in inputs:
        nodes, note = _number(inputs["numCacheClusters"], "numCacheClusters"), "numCacheClusters"
    elif "numNodeGroups" in inputs:
        shards = _number(inputs["numNodeGroups"], "numNodeGroups")
        replicas = _number(inputs.get("replicasPerNodeGroup", 0), "replicasPerNodeGroup")
        nodes, note = shards * (replicas + 1), f"{_count(shards)} shards x {_count(replicas + 1)} nodes"
    else:
        nodes, note = 1.0, "node count not set: 1 node"
    hourly, described = _cache_node_hourly(context, inputs.get("nodeType"), engine)
    amount = nodes * context.monthly(hourly)
    return Priced([(amount, f"{_count(nodes)} x {described} ({note}) x {context.hours:g} h = {money(amount)}")])


@_prices("aws:elasticache/serverlessCache:ServerlessCache")
def _serverless_cache(resource: RecordedResource, context: _Context) -> Priced:
    prices = context.prices["elasticache"]
    engine = resource.inputs.get("engine") or "redis"
    if engine not in prices["serverless_gb_hourly"]:
        raise NotPriced(f"serverless engine {engine!r} is not in the price table ({PRICES_FILE})")
    limits = ((resource.inputs.get("cacheUsageLimits") or {}).get("dataStorage") or {})
    floor = max(prices["serverless_min_gb"][engine], float(limits.get("minimum") or 0))
    per_gb = prices["serverless_gb_hourly"][engine]
    amount = floor * context.monthly(per_gb)
    return Priced([(amount, f"ElastiCache Serverless {engine} metered minimum {floor:g} GB x {rate(per_gb)}/GB-h "
                            f"x {context.hours:g} h = {money(amount)}")],
                  usage="ElastiCache Serverless data above the minimum and ECPUs per request")


@_prices("aws:dynamodb/table:Table")
def _dynamodb_table(resource: RecordedResource, context: _Context) -> Priced:
    inputs, prices = resource.inputs, context.prices["dynamodb"]
    usage = "DynamoDB storage $0.25/GB-month"
    if inputs.get("billingMode") == "PAY_PER_REQUEST":
        return Priced(usage=usage + ", on-demand reads $0.125 and writes $0.625 per million")
    rcu = _number(inputs.get("readCapacity", 0), "readCapacity")
    wcu = _number(inputs.get("writeCapacity", 0), "writeCapacity")
    amount = context.monthly(rcu * prices["rcu_hourly"] + wcu * prices["wcu_hourly"])
    return Priced([(amount, f"provisioned {_count(rcu)} RCU x {rate(prices['rcu_hourly'])}/h + {_count(wcu)} WCU x "
                            f"{rate(prices['wcu_hourly'])}/h x {context.hours:g} h = {money(amount)}")], usage=usage)


# --------------------------------------------------------------------------------------------- network


@_prices("aws:ec2/natGateway:NatGateway")
def _nat_gateway(resource: RecordedResource, context: _Context) -> Priced:
    prices = context.prices["vpc"]
    amount = context.monthly(prices["nat_gateway_hourly"])
    return Priced([(amount, f"NAT gateway {rate(prices['nat_gateway_hourly'])}/h x {context.hours:g} h = {money(amount)}")],
                  usage=f"NAT data processing {rate(prices['nat_gateway_gb'])}/GB (assumed light egress; "
                        "S3 goes through the free gateway endpoint)")


@_prices("aws:ec2/eip:Eip")
def _elastic_ip(resource: RecordedResource, context: _Context) -> Priced:
    return Priced([_public_ips(context, 1, "public IPv4 (Elastic IP)")])


@_prices("aws:ec2/vpcEndpoint:VpcEndpoint")
def _vpc_endpoint(resource: RecordedResource, context: _Context) -> Priced | None:
    kind = resource.inputs.get("vpcEndpointType") or "Gateway"
    if kind == "Gateway":
        return None  # S3 and DynamoDB gateway endpoints are free
    subnets = resource.inputs.get("subnetIds") or []
    if not subnets:
        raise NotPriced(f"{kind} endpoint without subnetIds: the number of zones it is billed for is unknown")
    prices = context.prices["vpc"]
    amount = len(subnets) * context.monthly(prices["interface_endpoint_az_hourly"])
    # com.amazonaws.<region>.<service>, where the service may itself have dots (ecr.api)
    service = ".".join(str(resource.inputs.get("serviceName", "")).split(".")[3:]) or kind
    return Priced([(amount, f"{kind} endpoint {service}: {len(subnets)} AZ x {rate(prices['interface_endpoint_az_hourly'])}/h "
                            f"x {context.hours:g} h = {money(amount)}")],
                  usage=f"endpoint data processing {rate(prices['interface_endpoint_gb'])}/GB")


def _load_balancer_parts(context: _Context, kind: str, public_ip_count: float | None,
                         zones_note: str) -> list[tuple[float, str]]:
    prices = context.prices["elb"]
    if kind == "classic":
        amount = context.monthly(prices["classic_hourly"])
        parts = [(amount, f"Classic LB {rate(prices['classic_hourly'])}/h x {context.hours:g} h = {money(amount)}")]
    else:
        table = prices[kind]
        hourly = context.monthly(table["hourly"])
        units = table["assumed_capacity_units"] * context.monthly(table["capacity_unit_hourly"])
        parts = [(hourly, f"{kind} LB {rate(table['hourly'])}/h x {context.hours:g} h = {money(hourly)}"),
                 (units, f"{table['assumed_capacity_units']:g} capacity unit assumed x "
                         f"{rate(table['capacity_unit_hourly'])}/h x {context.hours:g} h = {money(units)}")]
    if public_ip_count:
        parts.append(_public_ips(context, public_ip_count, f"internet-facing public IPv4 ({zones_note})"))
    return parts


@_prices("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
def _load_balancer(resource: RecordedResource, context: _Context) -> Priced:
    inputs = resource.inputs
    kind = inputs.get("loadBalancerType") or "application"
    if kind not in ("application", "network", "gateway"):
        raise NotPriced(f"loadBalancerType {kind!r} is not in the price table ({PRICES_FILE})")
    zones = len(inputs.get("subnets") or inputs.get("subnetMappings") or [])
    note = f"one per AZ, {zones} subnets"
    if not zones:
        zones, note = (2 if kind == "application" else 1), "subnets unknown: the minimum AZ count assumed"
    public = kind != "gateway" and inputs.get("internal") is not True
    return Priced(_load_balancer_parts(context, kind, zones if public else None, note),
                  usage="load balancer capacity units above the assumed one")


def _k8s_annotations(resource: RecordedResource) -> dict[str, str]:
    return ((resource.inputs.get("metadata") or {}).get("annotations")) or {}


@_prices("kubernetes:networking.k8s.io/v1:Ingress")
def _alb_ingress(resource: RecordedResource, context: _Context) -> Priced | None:
    # The AWS Load Balancer Controller creates the ALB at deploy time, outside the plan; ingresses
    # with the same group.name share one ALB, priced once.
    annotations = _k8s_annotations(resource)
    class_name = (resource.inputs.get("spec") or {}).get("ingressClassName") or annotations.get(
        "kubernetes.io/ingress.class")
    controllers = {(c.inputs.get("metadata") or {}).get("name"): (c.inputs.get("spec") or {}).get("controller")
                   for c in context.plan.of_type("kubernetes:networking.k8s.io/v1:IngressClass")}
    if class_name != "alb" and controllers.get(class_name) != "ingress.k8s.aws/alb":
        return None
    group = annotations.get("alb.ingress.kubernetes.io/group.name")
    if group:
        owner = context.shared_albs.setdefault(group, resource.name)
        if owner != resource.name:
            return Priced([(0.0, f"shares the ALB of ingress group {group!r}, priced on ingress {owner!r}")])
    public = annotations.get("alb.ingress.kubernetes.io/scheme", "internal") == "internet-facing"
    parts = _load_balancer_parts(context, "application", 2 if public else None, "2 AZs assumed")
    parts[0] = (parts[0][0], f"ALB created by the AWS Load Balancer Controller: {parts[0][1]}")
    return Priced(parts, usage="load balancer capacity units above the assumed one")


@_prices("kubernetes:core/v1:Service")
def _k8s_load_balancer_service(resource: RecordedResource, context: _Context) -> Priced | None:
    spec = resource.inputs.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    annotations = _k8s_annotations(resource)
    lb_type = annotations.get("service.beta.kubernetes.io/aws-load-balancer-type", "")
    if spec.get("loadBalancerClass") == "service.k8s.aws/nlb" or lb_type in ("external", "nlb", "nlb-ip"):
        kind = "network"
        public = annotations.get("service.beta.kubernetes.io/aws-load-balancer-scheme") == "internet-facing"
    else:
        kind = "classic"
        public = "service.beta.kubernetes.io/aws-load-balancer-internal" not in annotations
    parts = _load_balancer_parts(context, kind, 2 if public else None, "2 AZs assumed")
    parts[0] = (parts[0][0], f"created by the cluster for a LoadBalancer Service: {parts[0][1]}")
    return Priced(parts)


# --------------------------------------------------------------------------------------------- flat monthly fees


def _flat(section: str, key: str, what: str):
    def pricer(resource: RecordedResource, context: _Context) -> Priced:
        amount = context.prices[section][key]
        return Priced([(amount, f"{what} {rate(amount)}/month")])
    return pricer


for _token, _section, _key, _what in [
    ("aws:kms/key:Key", "kms", "key_month", "KMS customer managed key"),
    ("aws:kms/replicaKey:ReplicaKey", "kms", "key_month", "KMS replica key"),
    ("aws:secretsmanager/secret:Secret", "secretsmanager", "secret_month", "Secrets Manager secret"),
    ("aws:cloudwatch/compositeAlarm:CompositeAlarm", "cloudwatch", "composite_alarm_month", "composite alarm"),
    ("aws:cloudwatch/dashboard:Dashboard", "cloudwatch", "dashboard_month", "CloudWatch dashboard"),
    ("aws:route53/zone:Zone", "route53", "hosted_zone_month", "Route 53 hosted zone"),
    ("gcp:secretmanager/secretVersion:SecretVersion", "gcp_secret_manager", "version_month", "Secret Manager active version"),
]:
    _PRICERS[_token] = _flat(_section, _key, _what)


@_prices("gcp:kms/cryptoKey:CryptoKey")
def _gcp_crypto_key(resource: RecordedResource, context: _Context) -> Priced:
    level = (resource.inputs.get("versionTemplate") or {}).get("protectionLevel") or "SOFTWARE"
    if level != "SOFTWARE":
        raise NotPriced(f"protection level {level!r} is not in the price table ({PRICES_FILE}); it prices SOFTWARE keys")
    amount = context.prices["gcp_kms"]["software_key_version_month"]
    return Priced([(amount, f"Cloud KMS software key, one active version {rate(amount)}/month")])


@_prices("aws:cloudwatch/metricAlarm:MetricAlarm")
def _metric_alarm(resource: RecordedResource, context: _Context) -> Priced:
    inputs, prices = resource.inputs, context.prices["cloudwatch"]
    queries = inputs.get("metricQueries") or []
    if queries:
        metrics = sum(1 for q in queries if q.get("metric"))
        periods = [_number((q.get("metric") or {}).get("period", 60), "period") for q in queries if q.get("metric")]
        anomaly = any("ANOMALY_DETECTION_BAND" in str(q.get("expression", "")) for q in queries)
    else:
        metrics, periods, anomaly = 1, [_number(inputs.get("period", 60), "period")], False
    if anomaly:
        metrics = prices["anomaly_detection_metrics_per_alarm"]
    high_resolution = any(period < 60 for period in periods)
    per_metric = prices["high_resolution_alarm_metric_month"] if high_resolution else prices["alarm_metric_month"]
    amount = max(metrics, 1) * per_metric
    kind = "high-resolution" if high_resolution else "standard-resolution"
    statistic = f", statistic {inputs['extendedStatistic']} (percentiles cost no extra)" \
        if inputs.get("extendedStatistic") else ""
    return Priced([(amount, f"{kind} alarm, {max(metrics, 1)} metric(s){' (anomaly detection)' if anomaly else ''} "
                            f"x {rate(per_metric)}/month{statistic} = {money(amount)}")])


@_prices("aws:wafv2/webAcl:WebAcl")
def _web_acl(resource: RecordedResource, context: _Context) -> Priced:
    prices = context.prices["waf"]
    rules = len(resource.inputs.get("rules") or [])
    amount = prices["web_acl_month"] + rules * prices["rule_month"]
    return Priced([(amount, f"WAF web ACL {rate(prices['web_acl_month'])}/month + {rules} rule(s) x "
                            f"{rate(prices['rule_month'])}/month = {money(amount)}")],
                  usage=f"WAF requests {rate(prices['requests_million'])} per million")
