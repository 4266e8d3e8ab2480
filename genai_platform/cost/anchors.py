"""What the same services would cost built with the anchor libraries' defaults.

Each assumption is a transformation of the planned resources (add what the anchor would create,
change what it would configure differently); the transformed plan is priced with the same model and
table, so the difference is only the defaults, never the prices. ``benchmarks/anchors_cost.py``
prints the comparison for every environment.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from genai_platform.cost.model import estimate
from genai_platform.cost.prices import load_prices, money
from genai_platform.mockcloud import Plan, RecordedResource

NODE_GROUP_TYPES = ("aws:eks/nodeGroup:NodeGroup", "eks:index:ManagedNodeGroup")
NAT_INSTANCE_TYPES = ("aws:autoscaling/group:Group", "aws:ec2/launchTemplate:LaunchTemplate",
                      "aws:ec2/networkInterface:NetworkInterface")
ALB = "aws:lb/loadBalancer:LoadBalancer"


@dataclass(frozen=True)
class Assumption:
    key: str
    title: str
    footnote: str
    apply: Callable[[list[RecordedResource]], list[RecordedResource]]


def _child_urn(parent: str | None, type_token: str, name: str, stack_urn: str) -> str:
    base = parent or stack_urn
    prefix, _, _ = base.rpartition("::")
    return f"{prefix}${type_token}::{name}"


def _stack_urn(resources: list[RecordedResource]) -> str:
    return next((r.urn for r in resources if r.type == "pulumi:pulumi:Stack"), "urn:pulumi:anchor::anchor::pulumi:pulumi:Stack::anchor")


def _synthetic(resources: list[RecordedResource], parent: str | None, type_token: str, name: str,
               inputs: dict) -> RecordedResource:
    return RecordedResource(urn=_child_urn(parent, type_token, name, _stack_urn(resources)), type=type_token, name=name,
                            parent=parent, custom=True, protect=False, dependencies=[], inputs=inputs)


def nat_per_az(resources: list[RecordedResource]) -> list[RecordedResource]:
    """pulumi-awsx ``ec2.Vpc``: a NAT gateway and its Elastic IP in every AZ with subnets (and no NAT instance)."""
    added = []
    vpc_components = {r.parent for r in resources if r.type == "aws:ec2/vpc:Vpc"}
    resources = [r for r in resources if not (r.type in NAT_INSTANCE_TYPES and r.parent in vpc_components)]
    for vpc in (r for r in resources if r.type == "aws:ec2/vpc:Vpc"):
        zones = {s.inputs.get("availabilityZone") for s in resources
                 if s.type == "aws:ec2/subnet:Subnet" and s.parent == vpc.parent}
        zones.discard(None)
        existing = sum(1 for r in resources if r.type == "aws:ec2/natGateway:NatGateway" and r.parent == vpc.parent)
        for index in range(existing, max(len(zones), 1)):
            name = f"{vpc.name}-anchor-nat-{index}"
            added.append(_synthetic(resources, vpc.parent, "aws:ec2/eip:Eip", name, {"domain": "vpc"}))
            added.append(_synthetic(resources, vpc.parent, "aws:ec2/natGateway:NatGateway", name,
                                    {"connectivityType": "public"}))
    return resources + added


def default_node_group(resources: list[RecordedResource]) -> list[RecordedResource]:
    """pulumi-eks ``Cluster``: its default node group, 2 x t3.medium on-demand with 20 GiB root volumes."""
    added = []
    for cluster in resources:
        remote_default = cluster.type == "eks:index:Cluster" and not (
            cluster.inputs.get("skipDefaultNodeGroup") or cluster.inputs.get("fargate") or cluster.inputs.get("autoMode"))
        if cluster.type in ("aws:eks/cluster:Cluster", "eks:index:Cluster") and not remote_default:
            added.append(_synthetic(resources, cluster.parent, "eks:index:NodeGroupV2",
                                    f"{cluster.name}-anchor-default-nodes",
                                    {"instanceType": "t3.medium", "desiredCapacity": 2, "nodeRootVolumeSize": 20}))
    return resources + added


def storage_at_max(resources: list[RecordedResource]) -> list[RecordedResource]:
    """RDS without storage autoscaling: the most storage the database may need, provisioned up front."""
    for db in (r for r in resources if r.type == "aws:rds/instance:Instance"):
        maximum = db.inputs.get("maxAllocatedStorage")
        if isinstance(maximum, (int, float)) and maximum > (db.inputs.get("allocatedStorage") or 0):
            db.inputs["allocatedStorage"] = maximum
    return resources


def x86_fargate(resources: list[RecordedResource]) -> list[RecordedResource]:
    """ECS on Fargate x86 (the anchors' task definitions leave the architecture at X86_64)."""
    for task in (r for r in resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"):
        platform = task.inputs.get("runtimePlatform") or {}
        if platform.get("cpuArchitecture") == "ARM64":
            task.inputs["runtimePlatform"] = {**platform, "cpuArchitecture": "X86_64"}
    return resources


def on_demand_nodes(resources: list[RecordedResource]) -> list[RecordedResource]:
    """Node groups on on-demand capacity, as the anchors' examples are."""
    for group in resources:
        if group.type in NODE_GROUP_TYPES and group.inputs.get("capacityType") == "SPOT":
            group.inputs["capacityType"] = "ON_DEMAND"
        if group.type in ("eks:index:NodeGroup", "eks:index:NodeGroupV2", "eks:index:Cluster"):
            group.inputs.pop("spotPrice", None)
    return resources


def on_demand_fargate(resources: list[RecordedResource]) -> list[RecordedResource]:
    """ECS services on the on-demand FARGATE launch type, as the anchors' service patterns set it."""
    for service in (r for r in resources if r.type == "aws:ecs/service:Service"):
        strategies = service.inputs.get("capacityProviderStrategies") or []
        if any(s.get("capacityProvider") == "FARGATE_SPOT" for s in strategies):
            service.inputs.pop("capacityProviderStrategies")
            service.inputs["launchType"] = "FARGATE"
    return resources


def alb_per_service(resources: list[RecordedResource]) -> list[RecordedResource]:
    """CDK ``ApplicationLoadBalancedFargateService`` (and the awsx / terraform-aws-modules ECS examples):
    an ALB of its own for every ECS service; one is added per service beyond the plan's own ALBs."""
    services = [r for r in resources if r.type == "aws:ecs/service:Service"]
    albs = [r for r in resources if r.type == ALB and (r.inputs.get("loadBalancerType") or "application") == "application"]
    if not albs:
        return resources
    template = albs[0]
    added = [_synthetic(resources, template.parent, ALB, f"{service.name}-anchor-alb",
                        {**copy.deepcopy(template.inputs), "enableDeletionProtection": False})
             for service in services[len(albs):]]
    return resources + added


def instance_per_database(resources: list[RecordedResource]) -> list[RecordedResource]:
    """An RDS instance per database, as the anchors' RDS modules create: each database a
    ``PostgresTenantDatabase`` puts on a shared instance gets an instance like it instead."""
    tenant_components = {r.urn for r in resources if r.type == "genai:aws:PostgresTenantDatabase"}
    keys = [r.inputs.get("kmsKeyId") for r in resources
            if r.type == "aws:secretsmanager/secret:Secret" and r.parent in tenant_components]
    added = []
    for instance in (r for r in resources if r.type == "aws:rds/instance:Instance"):
        hosted = sum(1 for key in keys if key is not None and key == instance.inputs.get("kmsKeyId"))
        added += [_synthetic(resources, instance.parent, instance.type, f"{instance.name}-anchor-{index}",
                             copy.deepcopy(instance.inputs)) for index in range(1, hosted)]
    return resources + added


ASSUMPTIONS = [
    Assumption("nat", "NAT per AZ", "pulumi-awsx `ec2.Vpc` defaults to `NatGatewayStrategy.OnePerAz`: one NAT "
               "gateway and its Elastic IP in every availability zone that has subnets.", nat_per_az),
    Assumption("nodes", "default node group", "pulumi-eks `Cluster` adds a default node group of 2 x t3.medium "
               "on-demand (20 GiB root volumes) unless `skipDefaultNodeGroup`; added to every EKS cluster whose "
               "plan has none.", default_node_group),
    Assumption("storage", "storage at max", "RDS without storage autoscaling: the allocated storage is provisioned "
               "at the plan's `maxAllocatedStorage` from day one.", storage_at_max),
    Assumption("x86", "x86 Fargate", "ECS/Fargate tasks on x86 (the anchors leave `runtimePlatform` unset) instead "
               "of ARM/Graviton.", x86_fargate),
    Assumption("spot", "on-demand nodes", "Node groups on on-demand capacity instead of Spot (the anchors' "
               "examples use on-demand).", on_demand_nodes),
    Assumption("fargate_spot", "on-demand Fargate", "ECS services on the on-demand `FARGATE` launch type instead "
               "of Fargate Spot (the anchors' service patterns set `launchType: FARGATE`).", on_demand_fargate),
    Assumption("alb", "ALB per service", "An ALB per ECS service (CDK `ApplicationLoadBalancedFargateService`, the "
               "awsx and terraform-aws-modules ECS examples) instead of one shared by path-based listener rules.",
               alb_per_service),
    Assumption("db", "instance per database", "An RDS instance per database instead of several databases (each with "
               "its own user and secret) on one small instance.", instance_per_database),
]


def transformed(plan: Plan, assumptions: list[Assumption]) -> Plan:
    """A copy of ``plan`` with the assumptions applied (the plan itself is not changed)."""
    resources = copy.deepcopy(plan.resources)
    for assumption in assumptions:
        resources = assumption.apply(resources)
    return Plan(project=plan.project, stack=plan.stack, resources=sorted(resources, key=lambda r: r.urn),
                outputs=plan.outputs)


@dataclass
class Comparison:
    environment: str
    ours: float
    anchors: float
    deltas: dict[str, float] = field(default_factory=dict)
    """Assumption key -> what that assumption alone adds (USD/month)."""

    @property
    def difference(self) -> float:
        return round(self.anchors - self.ours, 2)


def compare(environment: str, plan: Plan, prices: dict | None = None) -> Comparison:
    prices = prices or load_prices()
    ours = estimate(plan, prices=prices).monthly
    deltas = {a.key: round(estimate(transformed(plan, [a]), prices=prices).monthly - ours, 2) for a in ASSUMPTIONS}
    anchors = estimate(transformed(plan, ASSUMPTIONS), prices=prices).monthly
    return Comparison(environment, ours, anchors, deltas)


def markdown_table(rows: list[Comparison], read_on: str = "") -> str:
    """The comparison as a Markdown table with one footnote per assumption."""
    marks = "¹²³⁴⁵⁶⁷⁸⁹"
    header = ["environment", "this platform", "anchors' defaults", "difference"] + [
        f"{a.title} {marks[i]}" for i, a in enumerate(ASSUMPTIONS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for row in rows:
        sign = "+" if row.difference > 0 else "-" if row.difference < 0 else ""
        cells = [row.environment, money(row.ours), money(row.anchors), f"{sign}{money(abs(row.difference))}"]
        cells += [f"+{money(row.deltas[a.key])}" if row.deltas[a.key] else "-" for a in ASSUMPTIONS]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Monthly USD, us-east-1 / Cloud Run Tier 1 on-demand list prices from `genai_platform/cost/prices.json`"
                 f"{f' (read {read_on})' if read_on else ''}, 730 hours a month; both columns priced by the same "
                 "model, so they differ only by the defaults below. Usage-priced items are in neither.")
    lines.append("")
    for index, assumption in enumerate(ASSUMPTIONS):
        lines.append(f"{marks[index]} {assumption.footnote}  ")
    return "\n".join(lines) + "\n"
