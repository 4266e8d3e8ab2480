"""The cost model: exact prices from known inputs, budget, grouping, JSON, rendering, anchor comparison.

Plans are built by hand from RecordedResource objects (engine camelCase inputs, as the mocks record
them), so these tests do not depend on components being written in parallel; one test plans the real
Vpc component to pin the property names it records.
"""

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from genai_platform.cost import estimate, format_text, load_prices, priced_types, rich_report
from genai_platform.cost.anchors import ASSUMPTIONS, compare, markdown_table, transformed
from genai_platform.cost.prices import cents
from genai_platform.cost.tree import OUTSIDE_SERVICES
from genai_platform.mockcloud import Plan, RecordedResource

STACK = "urn:pulumi:dev::genai-platform::pulumi:pulumi:Stack::genai-platform-dev"
PRICES = load_prices()


def res(type_token: str, name: str, inputs: dict | None = None, *, parent: str = STACK, custom: bool = True,
        deps: list[str] | None = None, outputs: dict | None = None) -> RecordedResource:
    prefix = parent.rpartition("::")[0]
    return RecordedResource(urn=f"{prefix}${type_token}::{name}", type=type_token, name=name, parent=parent,
                            custom=custom, protect=False, dependencies=deps or [], inputs=inputs or {},
                            outputs=outputs or {})


def component(type_token: str, name: str, parent: str = STACK) -> RecordedResource:
    return res(type_token, name, parent=parent, custom=False)


def plan_of(*resources: RecordedResource) -> Plan:
    root = RecordedResource(urn=STACK, type="pulumi:pulumi:Stack", name="genai-platform-dev", parent=None,
                            custom=False, protect=False, dependencies=[], inputs={})
    return Plan(project="genai-platform", stack="dev", resources=sorted([root, *resources], key=lambda r: r.urn),
                outputs={})


def priced(*resources: RecordedResource, budget: float | None = None):
    return estimate(plan_of(*resources), budget)


def only(*resources: RecordedResource) -> dict:
    result = priced(*resources)
    assert result.unpriced == [], result.unpriced
    assert len(result.items) == 1, result.items
    return result.items[0]


# ------------------------------------------------------------------------------------------ compute


def test_eks_control_plane_is_ten_cents_an_hour():
    assert only(res("aws:eks/cluster:Cluster", "eks")).get("monthly") == 73.00


def test_eks_extended_support_policy_is_called_out():
    item = only(res("eks:index:Cluster", "eks", {"skipDefaultNodeGroup": True,
                                                 "upgradePolicy": {"supportType": "EXTENDED"}}))
    assert item["monthly"] == 73.00
    assert "upgrade policy EXTENDED: $0.60/h once its version leaves standard support" in item["basis"]


def test_on_demand_node_group_prices_desired_size_and_root_volumes():
    item = only(res("aws:eks/nodeGroup:NodeGroup", "general", {
        "instanceTypes": ["t3.medium"], "capacityType": "ON_DEMAND", "diskSize": 20,
        "scalingConfig": {"desiredSize": 2, "minSize": 1, "maxSize": 6}}))
    # 2 x $0.0416 x 730 = $60.736; 2 x 20 GiB x $0.08 = $3.20
    assert item["monthly"] == 63.94
    assert "2 x t3.medium on-demand at $0.0416/h (desired size; min 1, max 6)" in item["basis"]
    assert "root volumes 2 x 20 GiB gp3" in item["basis"]


def test_spot_node_group_takes_the_stated_discount():
    item = only(res("eks:index:ManagedNodeGroup", "gpu", {
        "instanceTypes": ["g6.xlarge"], "capacityType": "SPOT",
        "scalingConfig": {"desiredSize": 1, "minSize": 0, "maxSize": 4}}))
    # $0.8048 x (1 - 0.65) x 730 = $205.6264, + 20 GiB default root volume x $0.08 = $1.60
    assert item["monthly"] == 207.23
    assert "Spot at $0.8048/h less 65% (assumed Spot discount)" in item["basis"]


def test_node_group_without_instance_types_uses_the_aws_default():
    item = only(res("aws:eks/nodeGroup:NodeGroup", "ng", {"scalingConfig": {"desiredSize": 1}}))
    assert item["monthly"] == cents(0.0416 * 730 + 20 * 0.08)
    assert "instance type AWS default" in item["basis"]


def test_node_group_reads_the_launch_template_it_names():
    # Dependencies run through components: a GPU node group also depends on the system group's template.
    arn = "arn:aws:ec2:us-east-1:123456789012:launch-template/"
    system = res("aws:ec2/launchTemplate:LaunchTemplate", "system", {
        "blockDeviceMappings": [{"ebs": {"volumeSize": 50}}]}, outputs={"arn": arn + "lt-0system"})
    template = res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
        "instanceType": "m7g.large",
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 200, "volumeType": "gp2"}}]},
        outputs={"arn": arn + "lt-0gpu"})
    group = res("aws:eks/nodeGroup:NodeGroup", "ng", {"launchTemplate": {"id": "lt-0gpu", "version": "1"},
                                                      "scalingConfig": {"desiredSize": 3}},
                deps=[system.urn, template.urn])
    item = only(system, template, group)
    assert item["monthly"] == cents(3 * 0.0816 * 730 + 3 * 200 * 0.10)
    assert "root volumes 3 x 200 GiB gp2 x $0.10/GB-month" in item["basis"]


def test_pulumi_eks_cluster_prices_its_default_node_group_unless_skipped():
    with_default = only(res("eks:index:Cluster", "eks", {}))
    assert with_default["monthly"] == 136.94  # $73.00 + 2 x t3.medium $60.736 + 2 x 20 GiB $3.20
    assert "default node group: 2 x t3.medium" in with_default["basis"]
    assert only(res("eks:index:Cluster", "eks", {"skipDefaultNodeGroup": True}))["monthly"] == 73.00


def test_unknown_instance_type_is_reported_not_priced_at_zero():
    result = priced(res("aws:eks/nodeGroup:NodeGroup", "odd", {
        "instanceTypes": ["x9.huge"], "scalingConfig": {"desiredSize": 2}}))
    assert result.items == [] and result.monthly == 0
    assert result.unpriced == [{
        "urn": "urn:pulumi:dev::genai-platform::pulumi:pulumi:Stack$aws:eks/nodeGroup:NodeGroup::odd",
        "type": "aws:eks/nodeGroup:NodeGroup",
        "reason": "instance type 'x9.huge' is not in the price table (genai_platform/cost/prices.json): "
                  "add its us-east-1 on-demand price",
    }]


def fargate_service(arch: str, count: int = 2, **service_inputs) -> list[RecordedResource]:
    task = res("aws:ecs/taskDefinition:TaskDefinition", "api", {
        "cpu": "512", "memory": "1024", "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"cpuArchitecture": arch, "operatingSystemFamily": "LINUX"}})
    service = res("aws:ecs/service:Service", "api", {"launchType": "FARGATE", "desiredCount": count,
                                                     **service_inputs}, deps=[task.urn])
    return [task, service]


@pytest.mark.parametrize(("arch", "monthly"), [
    ("ARM64", 28.84),   # 2 x (0.5 x $0.03238 + 1 x $0.00356) x 730
    ("X86_64", 36.04),  # 2 x (0.5 x $0.04048 + 1 x $0.004445) x 730
])
def test_fargate_service_prices_task_size_by_architecture(arch, monthly):
    item = only(*fargate_service(arch))
    assert item["monthly"] == monthly
    assert ("Linux/ARM" if arch == "ARM64" else "Linux/x86") in item["basis"]


def test_fargate_spot_split_follows_base_then_weight():
    strategies = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                  {"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    item = only(*fargate_service("X86_64", count=3, launchType=None, capacityProviderStrategies=strategies))
    task_month = (0.5 * 0.04048 + 0.004445) * 730
    assert item["monthly"] == cents(2 * task_month + task_month * 0.30)  # 2 on FARGATE, 1 on FARGATE_SPOT


def test_fargate_public_ip_per_task_is_charged():
    item = only(*fargate_service("ARM64", networkConfiguration={"assignPublicIp": True, "subnets": ["a"]}))
    assert item["monthly"] == cents(28.835 + 2 * 3.65)


def test_ecs_service_without_its_task_definition_is_unpriced():
    result = priced(res("aws:ecs/service:Service", "api", {"launchType": "FARGATE", "desiredCount": 1}))
    assert result.unpriced[0]["reason"] == "its task definition is not in the plan, so the task size is unknown"


def cloud_run(min_instances: int, limits: dict | None, **template) -> RecordedResource:
    container = {"image": "europe-docker.pkg.dev/p/r/chat:1"}
    if limits is not None:
        container["resources"] = {"limits": limits, **template.pop("resources", {})}
    return res("gcp:cloudrunv2/service:Service", "chat", {
        "template": {"scaling": {"minInstanceCount": min_instances}, "containers": [container], **template}})


def test_cloud_run_l4_minimum_instance_is_billed_at_the_full_rate():
    service = cloud_run(1, {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                        nodeSelector={"accelerator": "nvidia-l4"}, gpuZonalRedundancyDisabled=True)
    item = only(service)
    # 2,628,000 s x (4 x $0.000018 + 16 x $0.000002) = $273.312; 2,628,000 s x $0.0001867 = $490.6476
    assert item["monthly"] == 763.96
    assert "nvidia-l4 GPU x $0.0001867/s (without zonal redundancy)" in item["basis"]


def test_cloud_run_idle_minimum_instance_with_request_based_billing():
    item = only(cloud_run(1, {"cpu": "1", "memory": "512Mi"}, resources={"cpuIdle": True}))
    assert item["monthly"] == 9.86  # 2,628,000 s x (1 x $0.0000025 + 0.5 x $0.0000025)
    assert "request-based billing, idle rate" in item["basis"]


def test_cloud_run_scaled_to_zero_is_usage_priced_only():
    result = priced(cloud_run(0, {"cpu": "1", "memory": "512Mi"}))
    assert result.items == []
    assert result.usage_based[0]["basis"].startswith("scales to zero")


# ------------------------------------------------------------------------------------------ data stores


def rds(parent: str = STACK, **inputs) -> RecordedResource:
    return res("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": "db.t4g.micro",
                                                   "allocatedStorage": 20, "storageType": "gp3", **inputs},
               parent=parent)


def test_rds_single_az_instance_and_gp3_storage():
    assert only(rds())["monthly"] == 13.98  # $0.016 x 730 = $11.68; 20 GB x $0.115 = $2.30


def test_rds_multi_az_doubles_instance_and_storage_and_counts_the_managed_secret():
    item = only(rds(multiAz=True, manageMasterUserPassword=True))
    assert item["monthly"] == 28.36  # $23.36 + $4.60 + $0.40
    assert "x 2 (Multi-AZ)" in item["basis"]
    assert "RDS-managed master user secret in Secrets Manager $0.40/month" in item["basis"]


def test_rds_io1_provisioned_iops_are_priced():
    item = only(rds(storageType="io1", allocatedStorage=100, iops=3000))
    assert item["monthly"] == cents(11.68 + 100 * 0.125 + 3000 * 0.10)


def test_rds_unknown_instance_class_is_unpriced():
    result = priced(rds(instanceClass="db.z9.mega"))
    assert result.monthly == 0
    assert "instance class 'db.z9.mega' is not in the price table" in result.unpriced[0]["reason"]


@pytest.mark.parametrize(("inputs", "monthly"), [
    ({"nodeType": "cache.t4g.micro", "numCacheClusters": 2}, 23.36),
    ({"nodeType": "cache.t4g.micro", "numCacheClusters": 2, "engine": "valkey"}, 18.69),
    ({"nodeType": "cache.r7g.large", "numNodeGroups": 2, "replicasPerNodeGroup": 1}, 639.48),
])
def test_elasticache_nodes(inputs, monthly):
    assert only(res("aws:elasticache/replicationGroup:ReplicationGroup", "cache", inputs))["monthly"] == monthly


# ------------------------------------------------------------------------------------------ network and fees


@pytest.mark.parametrize(("resource", "monthly"), [
    (res("aws:ec2/natGateway:NatGateway", "nat", {"connectivityType": "public"}), 32.85),
    (res("aws:ec2/eip:Eip", "nat", {"domain": "vpc"}), 3.65),
    (res("aws:ec2/vpcEndpoint:VpcEndpoint", "ecr-api", {"vpcEndpointType": "Interface", "subnetIds": ["a", "b", "c"],
                                                        "serviceName": "com.amazonaws.us-east-1.ecr.api"}), 21.90),
    (res("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": "application", "subnets": ["a", "b"]}),
     29.57),  # $16.425 hours + 1 LCU $5.84 + 2 public IPv4 $7.30
    (res("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": True, "subnets": ["a", "b"]}), 22.27),
    (res("aws:kms/key:Key", "key", {"enableKeyRotation": True}), 1.00),
    (res("aws:secretsmanager/secret:Secret", "secret"), 0.40),
    (res("aws:cloudwatch/metricAlarm:MetricAlarm", "errors", {"metricName": "5xx", "period": 60,
                                                             "statistic": "Sum"}), 0.10),
    (res("aws:cloudwatch/metricAlarm:MetricAlarm", "fast", {"metricName": "5xx", "period": 10}), 0.30),
    (res("aws:cloudwatch/metricAlarm:MetricAlarm", "ratio", {"metricQueries": [
        {"id": "e", "expression": "m1/m2"}, {"id": "m1", "metric": {"metricName": "a", "period": 60}},
        {"id": "m2", "metric": {"metricName": "b", "period": 60}}]}), 0.20),
    (res("aws:cloudwatch/dashboard:Dashboard", "board"), 3.00),
])
def test_fixed_price_resources(resource, monthly):
    assert only(resource)["monthly"] == monthly


def test_percentile_alarm_costs_a_standard_alarm_and_says_so():
    item = only(res("aws:cloudwatch/metricAlarm:MetricAlarm", "p95", {
        "metricName": "TargetResponseTime", "period": 60, "extendedStatistic": "p95"}))
    assert item["monthly"] == 0.10
    assert "statistic p95 (percentiles cost no extra)" in item["basis"]


def test_gateway_endpoint_is_free_and_not_listed():
    result = priced(res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway"}))
    assert result.items == [] and result.unpriced == [] and result.usage_based == []


def test_usage_priced_resources_are_listed_with_their_assumption_not_summed():
    result = priced(res("aws:s3/bucket:Bucket", "docs"), res("aws:sqs/queue:Queue", "ingest"),
                    res("aws:ecr/repository:Repository", "api"), res("aws:cloudwatch/logGroup:LogGroup", "logs"),
                    res("gcp:artifactregistry/repository:Repository", "images"),
                    res("aws:ec2/natGateway:NatGateway", "nat"))
    assert result.monthly == 32.85
    usage = {entry["type"]: entry["basis"] for entry in result.usage_based}
    assert set(usage) == {"aws:s3/bucket:Bucket", "aws:sqs/queue:Queue", "aws:ecr/repository:Repository",
                          "aws:cloudwatch/logGroup:LogGroup", "gcp:artifactregistry/repository:Repository",
                          "aws:ec2/natGateway:NatGateway"}
    assert usage["aws:ec2/natGateway:NatGateway"].startswith("NAT data processing $0.045/GB")
    assert "$0.023/GB-month" in usage["aws:s3/bucket:Bucket"]


def test_alb_ingress_created_by_the_controller_is_priced_once_per_group():
    annotations = {"alb.ingress.kubernetes.io/scheme": "internet-facing", "alb.ingress.kubernetes.io/group.name": "web"}
    first = res("kubernetes:networking.k8s.io/v1:Ingress", "a", {
        "metadata": {"annotations": annotations}, "spec": {"ingressClassName": "alb"}})
    second = res("kubernetes:networking.k8s.io/v1:Ingress", "b", {
        "metadata": {"annotations": annotations}, "spec": {"ingressClassName": "alb"}})
    result = priced(first, second)
    assert [item["monthly"] for item in result.items] == [29.57, 0.0]
    assert result.items[0]["basis"].startswith("ALB created by the AWS Load Balancer Controller: application LB")
    assert "internet-facing public IPv4 (2 AZs assumed) 2 x $0.005/h" in result.items[0]["basis"]
    assert result.items[1]["basis"] == "shares the ALB of ingress group 'web', priced on ingress 'a'"


# ------------------------------------------------------------------------------------------ totals, budget, JSON


def test_json_shape_and_rounding():
    result = priced(rds(), res("aws:ec2/natGateway:NatGateway", "nat"), res("aws:s3/bucket:Bucket", "docs"),
                    res("aws:eks/nodeGroup:NodeGroup", "odd", {"instanceTypes": ["x9.huge"],
                                                              "scalingConfig": {"desiredSize": 1}}), budget=100)
    document = json.loads(json.dumps(result.to_json()))
    assert set(document) == {"currency", "monthly", "budget", "items", "usage_based", "unpriced", "at_max_scale"}
    assert document["at_max_scale"] == {"monthly": 46.83, "gpu_monthly": 0.0, "over_budget": False, "pools": []}
    assert document["currency"] == "USD" and document["budget"] == 100.0
    assert document["monthly"] == 46.83  # $13.98 + $32.85
    assert [set(i) for i in document["items"]] == [{"urn", "type", "monthly", "basis"}] * 2
    assert [i["monthly"] for i in document["items"]] == [32.85, 13.98]  # most expensive first
    assert {set(u) == {"urn", "type", "basis"} for u in document["usage_based"]} == {True}
    assert set(document["unpriced"][0]) == {"urn", "type", "reason"}


@pytest.mark.parametrize(("budget", "over"), [(None, False), (100.0, False), (32.85, False), (32.84, True)])
def test_budget(budget, over):
    result = priced(res("aws:ec2/natGateway:NatGateway", "nat"), budget=budget)
    assert result.over_budget is over
    assert result.to_json()["budget"] == budget


def test_by_service_groups_by_the_top_level_component():
    rag = component("genai:service:Rag", "rag")
    database = component("genai:aws:PostgresDatabase", "rag-db", parent=rag.urn)
    tabular = component("genai:service:Tabular", "tabular")
    result = priced(rag, database, tabular,
                    rds(parent=database.urn),                                   # nested two levels down
                    res("aws:eks/cluster:Cluster", "eks", parent=rag.urn),
                    res("aws:ec2/natGateway:NatGateway", "nat", parent=tabular.urn),
                    res("aws:kms/key:Key", "loose"))
    assert result.by_service() == {"rag": 86.98, "tabular": 32.85, OUTSIDE_SERVICES: 1.00}
    assert cents(sum(result.by_service().values())) == result.monthly


def test_by_cloud_separates_aws_and_gcp():
    result = priced(res("aws:ec2/natGateway:NatGateway", "nat"), res("eks:index:Cluster", "eks", {
                        "skipDefaultNodeGroup": True}),
                    cloud_run(1, {"cpu": "1", "memory": "512Mi"}, resources={"cpuIdle": True}))
    assert result.by_cloud() == {"aws": 105.85, "gcp": 9.86}


@given(count=st.integers(min_value=0, max_value=40), instance_type=st.sampled_from(
    sorted(PRICES["ec2"]["on_demand_hourly"])), spot=st.booleans())
def test_node_group_price_is_count_times_hourly(count, instance_type, spot):
    group = res("aws:eks/nodeGroup:NodeGroup", "ng", {"instanceTypes": [instance_type], "diskSize": 20,
                                                      "capacityType": "SPOT" if spot else "ON_DEMAND",
                                                      "scalingConfig": {"desiredSize": count}})
    hourly = Decimal(str(PRICES["ec2"]["on_demand_hourly"][instance_type])) * Decimal("0.35" if spot else "1")
    exact = count * hourly * 730 + count * 20 * Decimal("0.08")
    assert priced(group).monthly == float(exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"))


def test_every_priced_type_has_a_pricer_and_no_usage_entry():
    assert not set(priced_types()) & set(PRICES["usage_based"])


# ------------------------------------------------------------------------------------------ rendering


def test_text_report_shows_services_top_items_and_verdict():
    rag = component("genai:service:Rag", "rag")
    result = priced(rag, rds(parent=rag.urn), res("aws:ec2/natGateway:NatGateway", "nat", parent=rag.urn),
                    res("aws:eks/nodeGroup:NodeGroup", "odd", {"instanceTypes": ["x9.huge"],
                                                              "scalingConfig": {"desiredSize": 1}}), budget=40)
    text = format_text(result)
    assert "rag" in text and "$46.83" in text
    assert "Estimated $46.83/month: OVER the $40.00 budget by $6.83" in text
    assert "UNPRICED odd (aws:eks/nodeGroup:NodeGroup): instance type 'x9.huge'" in text
    assert "Usage-priced, not in the total (1): ec2 NatGateway." in text


def test_rich_report_renders():
    result = priced(rds(), budget=100)
    console = Console(record=True, width=120)
    console.print(rich_report(result))
    output = console.export_text()
    assert "Monthly cost by service" in output and "within the $100.00 budget ($86.02 left)" in output


# ------------------------------------------------------------------------------------------ the real Vpc


def test_real_vpc_plan_prices_nat_eip_and_interface_endpoints():
    from genai_platform.components.aws.network.vpc import Vpc, VpcArgs
    from genai_platform.mockcloud import run_under_mocks

    plan = run_under_mocks(lambda: Vpc("net", VpcArgs(zone_count=2, nat_strategy="single",
                                                      interface_endpoints=["sts"])),
                           config={"aws:region": "us-east-1"})
    result = estimate(plan, None)
    assert sorted((i["type"], i["monthly"]) for i in result.items) == [
        ("aws:ec2/eip:Eip", 3.65), ("aws:ec2/natGateway:NatGateway", 32.85),
        ("aws:ec2/vpcEndpoint:VpcEndpoint", 14.60)]
    assert result.by_service() == {"net": 51.10}
    assert "Interface endpoint sts: 2 AZ x $0.01/h x 730 h = $14.60" in [i["basis"] for i in result.items]
    assert {u["type"] for u in result.usage_based} >= {"aws:cloudwatch/logGroup:LogGroup", "aws:ec2/flowLog:FlowLog"}


# ------------------------------------------------------------------------------------------ anchors


def anchor_plan() -> Plan:
    network = component("genai:aws:Vpc", "net")
    subnets = [res("aws:ec2/subnet:Subnet", f"net-private-{zone}", {"availabilityZone": zone}, parent=network.urn)
               for zone in ("us-east-1a", "us-east-1b")]
    return plan_of(network, *subnets,
                   res("aws:ec2/vpc:Vpc", "net-vpc", {"cidrBlock": "10.10.0.0/16"}, parent=network.urn),
                   res("aws:ec2/natGateway:NatGateway", "net-nat-0", parent=network.urn),
                   res("aws:ec2/eip:Eip", "net-nat-0", parent=network.urn),
                   res("aws:eks/cluster:Cluster", "eks"),
                   res("aws:eks/nodeGroup:NodeGroup", "gpu", {"instanceTypes": ["g6.xlarge"], "capacityType": "SPOT",
                                                              "scalingConfig": {"desiredSize": 1}}),
                   rds(maxAllocatedStorage=100),
                   *fargate_service("ARM64"))


def test_anchor_assumptions_each_add_their_share():
    plan = anchor_plan()
    row = compare("dev", plan, PRICES)
    assert row.ours == cents(36.50 + 73 + 207.23 + 13.98 + 28.84)
    assert row.deltas == {
        "nat": 36.50,          # the second AZ's NAT gateway + EIP
        "nodes": 63.94,        # 2 x t3.medium on-demand + 2 x 20 GiB
        "storage": 9.20,       # (100 - 20) GB x $0.115
        "x86": 7.20,           # $36.04 - $28.84
        "spot": 381.87,        # g6.xlarge on-demand $587.50 vs Spot $205.63
        "fargate_spot": 0,     # the service is on-demand already
        "alb": 0,              # no ALB in this plan to copy
        "db": 0,               # no database shares an instance
    }
    assert row.anchors == cents(row.ours + sum(row.deltas.values()))
    assert row.difference == cents(sum(row.deltas.values()))


def test_anchor_transformation_leaves_the_plan_alone():
    plan = anchor_plan()
    before = json.dumps(plan.to_json(), sort_keys=True)
    transformed(plan, ASSUMPTIONS)
    assert json.dumps(plan.to_json(), sort_keys=True) == before


def test_anchor_table_has_a_row_per_environment_and_every_footnote():
    table = markdown_table([compare("dev", anchor_plan(), PRICES)], "2026-11-22")
    lines = table.splitlines()
    assert lines[0].startswith("| environment | this platform | anchors' defaults | difference | NAT per AZ ¹")
    assert lines[2] == ("| dev | $359.55 | $858.26 | +$498.71 | +$36.50 | +$63.94 | +$9.20 | +$7.20 | +$381.87 "
                        "| - | - | - |")
    for index, assumption in enumerate(ASSUMPTIONS):
        assert f"{'¹²³⁴⁵⁶⁷⁸'[index]} {assumption.footnote}" in table


def shared_plan() -> Plan:
    """Dev's savings in miniature: a NAT instance, two Spot services behind one ALB, two tenant databases."""
    network = component("genai:aws:Vpc", "net")
    subnets = [res("aws:ec2/subnet:Subnet", f"net-private-{zone}", {"availabilityZone": zone}, parent=network.urn)
               for zone in ("us-east-1a", "us-east-1b")]
    template = res("aws:ec2/launchTemplate:LaunchTemplate", "net-nat-0", {
        "instanceType": "t4g.nano", "networkInterfaces": [{"deviceIndex": 0, "associatePublicIpAddress": "true"}],
        "blockDeviceMappings": [{"ebs": {"volumeSize": 8, "volumeType": "gp3"}}]}, parent=network.urn)
    group = res("aws:autoscaling/group:Group", "net-nat-0", {"desiredCapacity": 1, "minSize": 1, "maxSize": 1,
                                                              "launchTemplate": {"id": "lt-0"}},
                parent=network.urn, deps=[template.urn])
    services = []
    for name in ("api", "mlflow"):
        task = res("aws:ecs/taskDefinition:TaskDefinition", f"{name}-task", {
            "cpu": "512", "memory": "1024", "requiresCompatibilities": ["FARGATE"],
            "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}})
        services += [task, res("aws:ecs/service:Service", name, {
            "desiredCount": 1, "capacityProviderStrategies": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]},
            deps=[task.urn])]
    alb = res("aws:lb/loadBalancer:LoadBalancer", "lb-alb", {"loadBalancerType": "application", "internal": True,
                                                             "subnets": ["a", "b"]})
    database = rds(kmsKeyId="key-shared")
    tenants = [component("genai:aws:PostgresTenantDatabase", name) for name in ("rag-db", "mlflow-db")]
    secrets = [res("aws:secretsmanager/secret:Secret", f"{t.name}-secret", {"kmsKeyId": "key-shared"}, parent=t.urn)
               for t in tenants]
    return plan_of(network, *subnets, res("aws:ec2/vpc:Vpc", "net-vpc", {"cidrBlock": "10.10.0.0/16"},
                                          parent=network.urn), template, group, *services, alb, database,
                   *tenants, *secrets)


def test_anchor_assumptions_undo_the_nat_instance_spot_shared_alb_and_shared_database():
    plan = shared_plan()
    row = compare("dev", plan, PRICES)
    nat_instance = 0.0042 * 730 + 8 * 0.08 + 0.005 * 730
    assert row.deltas["nat"] == cents(2 * 36.50 - nat_instance)  # two gateways replace the one instance
    assert row.deltas["fargate_spot"] == 20.18  # $28.84 on-demand less 2 x $4.33 on Spot
    assert row.deltas["alb"] == 22.27  # the second service's own ALB
    assert row.deltas["db"] == 13.98  # a second instance like the shared one
