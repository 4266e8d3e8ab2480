"""Compute capacity: EC2 instances, EKS control planes and node groups, ECS tasks on Fargate, Cloud Run services.

What runs all month is priced (desired or minimum count x hourly size); scaling above that is usage.
"""

import re
from collections import defaultdict
from typing import Any

from genai_platform.cost.prices import PRICES_FILE, money, rate
from genai_platform.cost.pricers.context import PricingContext
from genai_platform.cost.pricers.network import public_ips
from genai_platform.cost.pricers.quantities import count_text, gib, known_text, number, vcpus
from genai_platform.cost.pricers.registry import NotPriced, Priced, pricer_for
from genai_platform.mockcloud import RecordedResource

# --------------------------------------------------------------------------------------------- EC2 and EKS


def _instance_hourly(context: PricingContext, instance_type: str) -> float:
    table = context.prices["ec2"]["on_demand_hourly"]
    if instance_type not in table:
        raise NotPriced(f"instance type {instance_type!r} is not in the price table ({PRICES_FILE}): "
                        "add its us-east-1 on-demand price")
    return table[instance_type]


def _node_parts(context: PricingContext, *, count: float, instance_type: str, spot: bool, count_note: str,
                disk_gib: float | None, disk_type: str | None, public_ip: bool = False) -> list[tuple[float, str]]:
    """Monthly parts of ``count`` identical nodes: instance hours, root volumes, public IPv4s."""
    hourly = _instance_hourly(context, instance_type)
    discount = context.prices["ec2_spot"]["discount"]
    effective = hourly * (1 - discount) if spot else hourly
    market = f"Spot at {rate(hourly)}/h less {discount:.0%} (assumed Spot discount)" if spot else \
        f"on-demand at {rate(hourly)}/h"
    amount = count * context.monthly(effective)
    parts = [(amount, f"{count_text(count)} x {instance_type} {market} ({count_note}) x {context.hours:g} h "
                      f"= {money(amount)}")]
    if disk_gib and count:
        volume = disk_type or context.prices["ebs"]["default_volume_type"]
        assumed = "" if disk_type else " (type assumed)"
        per_gb = context.prices["ebs"]["gb_month"].get(volume)
        if per_gb is None:
            raise NotPriced(f"EBS volume type {volume!r} is not in the price table ({PRICES_FILE})")
        disks = count * disk_gib * per_gb
        parts.append((disks, f"root volumes {count_text(count)} x {count_text(disk_gib)} GiB {volume}{assumed} "
                             f"x {rate(per_gb)}/GB-month = {money(disks)}"))
    if public_ip and count:
        parts.append(public_ips(context, count, "node public IPv4"))
    return parts


def _control_plane(context: PricingContext, resource: RecordedResource) -> tuple[float, str]:
    prices = context.prices["eks"]
    amount = context.monthly(prices["control_plane_hourly"])
    support = ((resource.inputs.get("upgradePolicy") or {}).get("supportType")) or "STANDARD"
    note = "standard support" if support != "EXTENDED" else (
        f"upgrade policy EXTENDED: {rate(prices['extended_support_hourly'])}/h once its version leaves standard support")
    return amount, f"EKS control plane {rate(prices['control_plane_hourly'])}/h x {context.hours:g} h = {money(amount)} ({note})"


@pricer_for("aws:eks/cluster:Cluster")
def _eks_cluster(resource: RecordedResource, context: PricingContext) -> Priced:
    return Priced([_control_plane(context, resource)])


@pricer_for("aws:eks/nodeGroup:NodeGroup", "eks:index:ManagedNodeGroup")
def _managed_node_group(resource: RecordedResource, context: PricingContext) -> Priced:
    inputs = resource.inputs
    scaling = inputs.get("scalingConfig") or {}
    if "desiredSize" not in scaling:
        raise NotPriced("scalingConfig.desiredSize is not set, so the node count is unknown")
    desired = number(scaling["desiredSize"], "scalingConfig.desiredSize")
    note = f"desired size; min {count_text(number(scaling.get('minSize', desired), 'minSize'))}, " \
           f"max {count_text(number(scaling.get('maxSize', desired), 'maxSize'))}"
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
            disk_gib, disk_type = number(volumes[0]["volumeSize"], "volumeSize"), volumes[0].get("volumeType")
    elif inputs.get("launchTemplate"):
        raise NotPriced("its launch template is not in the plan, so the instance type and disk are unknown")
    if not types:
        types, note = ["t3.medium"], note + "; instance type AWS default"
    elif len(types) > 1:
        note += f"; priced as the first of {len(types)} listed types"
    if disk_gib is None and template is None:
        disk_gib = 20  # the managed node group's default root volume without a launch template
    spot = inputs.get("capacityType") == "SPOT"
    return Priced(_node_parts(context, count=desired, instance_type=known_text(types[0], "instanceTypes[0]"), spot=spot,
                              count_note=note, disk_gib=disk_gib and number(disk_gib, "diskSize"),
                              disk_type=disk_type))


def _self_managed_nodes(context: PricingContext, options: dict[str, Any]) -> list[tuple[float, str]]:
    """A pulumi-eks self-managed node group (the cluster's default one, NodeGroup, NodeGroupV2)."""
    desired = number(options.get("desiredCapacity", 2), "desiredCapacity")
    note = "desiredCapacity" + ("" if "desiredCapacity" in options else " default 2")
    instance_type = options.get("instanceType") or "t3.medium"
    if "instanceType" not in options:
        note += "; pulumi-eks default instance type"
    return _node_parts(context, count=desired, instance_type=known_text(instance_type, "instanceType"),
                       spot=bool(options.get("spotPrice")), count_note=note,
                       disk_gib=number(options.get("nodeRootVolumeSize", 20), "nodeRootVolumeSize"),
                       disk_type=options.get("nodeRootVolumeType"),
                       public_ip=options.get("nodeAssociatePublicIpAddress") is True)


@pricer_for("eks:index:Cluster")
def _pulumi_eks_cluster(resource: RecordedResource, context: PricingContext) -> Priced:
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


@pricer_for("eks:index:NodeGroup", "eks:index:NodeGroupV2")
def _pulumi_eks_node_group(resource: RecordedResource, context: PricingContext) -> Priced:
    return Priced(_self_managed_nodes(context, resource.inputs))


@pricer_for("aws:ec2/instance:Instance")
def _ec2_instance(resource: RecordedResource, context: PricingContext) -> Priced:
    inputs = resource.inputs
    root = inputs.get("rootBlockDevice") or {}
    return Priced(_node_parts(
        context, count=1, instance_type=known_text(inputs.get("instanceType"), "instanceType"),
        spot=bool(inputs.get("instanceMarketOptions")), count_note="always on",
        disk_gib=root.get("volumeSize") and number(root["volumeSize"], "rootBlockDevice.volumeSize"),
        disk_type=root.get("volumeType"), public_ip=inputs.get("associatePublicIpAddress") is True))



@pricer_for("aws:autoscaling/group:Group")
def _auto_scaling_group(resource: RecordedResource, context: PricingContext) -> Priced:
    # EC2 Auto Scaling groups of the plan's own (NAT instances): the desired count of their launch
    # template's instance, root volume and primary public IPv4.
    inputs = resource.inputs
    if inputs.get("mixedInstancesPolicy"):
        raise NotPriced("a mixed instances policy: which types and markets run is decided at launch")
    reference = (inputs.get("launchTemplate") or {}).get("id") or (inputs.get("launchTemplate") or {}).get("name")
    template = context.linked(resource, "aws:ec2/launchTemplate:LaunchTemplate", reference)
    if template is None:
        raise NotPriced("its launch template is not in the plan, so the instance type is unknown")
    count = number(inputs.get("desiredCapacity", inputs.get("minSize", 0)), "desiredCapacity")
    note = f"desired capacity; min {count_text(number(inputs.get('minSize', count), 'minSize'))}, " \
           f"max {count_text(number(inputs.get('maxSize', count), 'maxSize'))}"
    lt = template.inputs
    volumes = [m.get("ebs") or {} for m in lt.get("blockDeviceMappings") or []]
    disk_gib = volumes[0].get("volumeSize") if volumes else None
    primary = next((i for i in lt.get("networkInterfaces") or [] if number(i.get("deviceIndex", 0), "deviceIndex") == 0),
                   {})
    return Priced(_node_parts(
        context, count=count, instance_type=known_text(lt.get("instanceType"), "launch template instanceType"),
        spot=bool(lt.get("instanceMarketOptions")), count_note=note,
        disk_gib=disk_gib and number(disk_gib, "volumeSize"), disk_type=volumes[0].get("volumeType") if volumes else None,
        public_ip=str(primary.get("associatePublicIpAddress")).lower() == "true"))


# --------------------------------------------------------------------------------------------- ECS on Fargate


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


@pricer_for("aws:ecs/service:Service")
def _ecs_service(resource: RecordedResource, context: PricingContext) -> Priced:
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

    count = number(inputs.get("desiredCount", 0), "desiredCount")
    count_note = "desired count"
    name = resource.outputs.get("name")
    for target in context.plan.of_type("aws:appautoscaling/target:Target"):
        if name and str(target.inputs.get("resourceId", "")).endswith(f"/{name}"):
            minimum = number(target.inputs.get("minCapacity", 0), "minCapacity")
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
        parts.append((amount, f"Fargate {count_text(on_demand)} task(s) ({count_note}) x {size} x {context.hours:g} h "
                              f"= {money(amount)}"))
    if spot:
        discount = fargate["spot_discount"]
        amount = spot * context.monthly(task_hourly) * (1 - discount)
        parts.append((amount, f"Fargate Spot {count_text(spot)} task(s) x {size} less {discount:.0%} (assumed Spot "
                              f"discount) x {context.hours:g} h = {money(amount)}"))
    if elsewhere:
        parts.append((0.0, f"{count_text(elsewhere)} task(s) on EC2 capacity providers, priced with their instances"))
    if (inputs.get("networkConfiguration") or {}).get("assignPublicIp") is True:
        parts.append(public_ips(context, on_demand + spot, "task public IPv4"))
    return Priced(parts)



# --------------------------------------------------------------------------------------------- Cloud Run


def _cloud_run_min_instances(template: dict[str, Any], service_scaling: dict[str, Any]) -> tuple[float, str]:
    if service_scaling.get("scalingMode") == "MANUAL":
        return number(service_scaling.get("manualInstanceCount", 0), "scaling.manualInstanceCount"), "manual instances"
    revision = number((template.get("scaling") or {}).get("minInstanceCount", 0), "template.scaling.minInstanceCount")
    service = number(service_scaling.get("minInstanceCount", 0), "scaling.minInstanceCount")
    return max(revision, service), "minimum instances"


@pricer_for("gcp:cloudrunv2/service:Service")
def _cloud_run_service(resource: RecordedResource, context: PricingContext) -> Priced:
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
        vcpu += vcpus(limits.get("cpu", prices["default_cpu"]), "limits.cpu")
        memory += gib(limits["memory"], "limits.memory") if "memory" in limits else prices["default_memory_gib"]
        gpus += number(limits.get("nvidia.com/gpu", 0), "limits.nvidia.com/gpu")
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
    parts.append((amount, f"{count_text(count)} {what} x ({vcpu:g} vCPU x {rate(cpu_rate)}/s + {memory:g} GiB x "
                          f"{rate(mem_rate)}/s) x {seconds:,.0f} s, {billing} = {money(amount)}"))
    if gpus:
        accelerator = (template.get("nodeSelector") or {}).get("accelerator") or "nvidia-l4"
        redundant = template.get("gpuZonalRedundancyDisabled") is not True
        table = prices["gpu_second_zonal_redundancy" if redundant else "gpu_second"]
        if accelerator not in table:
            raise NotPriced(f"GPU {accelerator!r} is not in the price table ({PRICES_FILE})")
        amount = count * gpus * seconds * table[accelerator]
        parts.append((amount, f"{count_text(count * gpus)} x {accelerator} GPU x {rate(table[accelerator])}/s "
                              f"({'with' if redundant else 'without'} zonal redundancy) x {seconds:,.0f} s "
                              f"= {money(amount)}"))
    return Priced(parts, usage=usage)
