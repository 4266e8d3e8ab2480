import json
import re

import pytest

from genai_platform.components.aws import Vpc, VpcArgs
from genai_platform.mockcloud import run_under_mocks

NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
SUBNET = "aws:ec2/subnet:Subnet"


def plan_vpc(**kwargs):
    return run_under_mocks(lambda: Vpc("net", VpcArgs(**kwargs)), config={"aws:region": "us-east-1"})


@pytest.mark.parametrize(("strategy", "zones", "nats", "private_default_routes"), [
    ("none", 2, 0, 0),
    ("single", 2, 1, 2),
    ("single", 3, 1, 3),
    ("one_per_az", 2, 2, 2),
    ("one_per_az", 3, 3, 3),
])
def test_nat_strategy_sets_gateways_and_routes(strategy, zones, nats, private_default_routes):
    plan = plan_vpc(zone_count=zones, nat_strategy=strategy)
    assert len(plan.of_type(NAT)) == nats
    assert len(plan.of_type("aws:ec2/eip:Eip")) == nats
    assert len(plan.of_type(SUBNET)) == 3 * zones
    # One public table + one per private zone + one isolated table.
    assert len(plan.of_type("aws:ec2/routeTable:RouteTable")) == 1 + zones + 1
    assert len(plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")) == 3 * zones
    egress = [r for r in plan.of_type(ROUTE) if "natGatewayId" in r.inputs]
    assert len(egress) == private_default_routes
    assert {r.inputs["destinationCidrBlock"] for r in plan.of_type(ROUTE)} == {"0.0.0.0/0"}
    internet = [r for r in plan.of_type(ROUTE) if "gatewayId" in r.inputs]
    assert len(internet) == 1


def test_one_nat_per_az_routes_each_zone_to_its_own_gateway():
    plan = plan_vpc(zone_count=3, nat_strategy="one_per_az")
    tables = {plan.named(f"net-private-{i}", "aws:ec2/routeTable:RouteTable").id: i for i in range(3)}
    route_to = {tables[r.inputs["routeTableId"]]: r.inputs["natGatewayId"]
                for r in plan.of_type(ROUTE) if "natGatewayId" in r.inputs}
    assert route_to == {i: plan.named(f"net-nat-{i}", NAT).id for i in range(3)}
    single = plan_vpc(zone_count=3, nat_strategy="single")
    assert len({r.inputs["natGatewayId"] for r in single.of_type(ROUTE) if "natGatewayId" in r.inputs}) == 1


def test_isolated_subnets_have_no_route_out_and_a_vpc_only_acl():
    plan = plan_vpc(zone_count=2)
    isolated_table = plan.named("net-isolated", "aws:ec2/routeTable:RouteTable")
    assert isolated_table.id.startswith("rtb-")
    assert not [r for r in plan.of_type(ROUTE) if r.inputs["routeTableId"] == isolated_table.id]
    acl = plan.named("net-isolated-nacl")
    assert [rule["cidrBlock"] for rule in acl.inputs["ingress"] + acl.inputs["egress"]] == ["10.10.0.0/16"] * 2
    assert len(acl.inputs["subnetIds"]) == 2


def test_subnets_are_private_by_default_and_tagged_for_load_balancers():
    plan = plan_vpc(zone_count=2, tags={"Environment": "dev"})
    public = plan.named("net-public-us-east-1a")
    private = plan.named("net-private-us-east-1b")
    assert public.inputs["mapPublicIpOnLaunch"] is False
    assert public.inputs["cidrBlock"] == "10.10.128.0/21"
    assert public.inputs["tags"] == {"Name": "net-public-us-east-1a", "ManagedBy": "pulumi",
                                     "Platform": "genai-platform", "Environment": "dev", "Tier": "public",
                                     "kubernetes.io/role/elb": "1"}
    assert private.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
    assert private.inputs["availabilityZone"] == "us-east-1b"
    assert public.parent.endswith("genai:aws:Vpc::net")


def test_private_subnet_tags_go_on_the_private_subnets_only():
    plan = plan_vpc(zone_count=2, private_subnet_tags={"karpenter.sh/discovery": "core"})
    tagged = sorted(s.name for s in plan.of_type(SUBNET) if s.inputs["tags"].get("karpenter.sh/discovery") == "core")
    assert tagged == ["net-private-us-east-1a", "net-private-us-east-1b"]


def test_default_security_group_and_acl_are_locked_down():
    plan = plan_vpc()
    default_sg = plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert "ingress" not in default_sg.inputs and "egress" not in default_sg.inputs
    default_acl = plan.one("aws:ec2/defaultNetworkAcl:DefaultNetworkAcl")
    assert "ingress" not in default_acl.inputs and "egress" not in default_acl.inputs


def test_flow_logs_go_to_a_retained_log_group_with_a_scoped_role():
    plan = plan_vpc(flow_log_retention_days=90)
    flow_log = plan.one("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    assert plan.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 90
    trust = json.loads(plan.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                                   "Action": "sts:AssumeRole",
                                   "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    # The flow log waits for its role's permissions, or its first deliveries fail with "Access error".
    assert plan.one("aws:iam/rolePolicy:RolePolicy").urn in flow_log.dependencies
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    statement = policy["Statement"][0]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    assert statement["Resource"] == ["arn:aws:logs:us-east-1:123456789012:log-group:/genai/vpc/net/flow-logs",
                                     "arn:aws:logs:us-east-1:123456789012:log-group:/genai/vpc/net/flow-logs:*"]


def test_s3_gateway_endpoint_always_and_interface_endpoints_on_request():
    plan = plan_vpc(zone_count=2, interface_endpoints=["ecr.api", "sts"])
    endpoints = {r.inputs["serviceName"]: r.inputs for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert endpoints["com.amazonaws.us-east-1.s3"]["vpcEndpointType"] == "Gateway"
    assert len(endpoints["com.amazonaws.us-east-1.s3"]["routeTableIds"]) == 3  # 2 private + isolated
    assert endpoints["com.amazonaws.us-east-1.sts"]["privateDnsEnabled"] is True
    assert len(endpoints["com.amazonaws.us-east-1.ecr.api"]["subnetIds"]) == 2
    sg = plan.named("net-endpoints")
    assert sg.inputs["ingress"] == [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.10.0.0/16"],
                                     "description": "HTTPS from the VPC"}]
    assert len(plan_vpc().of_type("aws:ec2/vpcEndpoint:VpcEndpoint")) == 1


def test_database_subnet_group_spans_the_isolated_subnets():
    plan = plan_vpc(zone_count=3)
    group = plan.one("aws:rds/subnetGroup:SubnetGroup")
    assert group.inputs["subnetIds"] == [plan.named(f"net-isolated-us-east-1{z}", SUBNET).id for z in "abc"]
    no_isolated = plan_vpc(tiers=["public", "private"])
    assert no_isolated.of_type("aws:rds/subnetGroup:SubnetGroup") == []


def test_outputs_are_exported_by_a_consumer():
    import pulumi

    def program():
        vpc = Vpc("net", VpcArgs(zone_count=2))
        pulumi.export("vpc", vpc.vpc_id)
        pulumi.export("private", vpc.private_subnet_ids)
        pulumi.export("dbGroup", vpc.database_subnet_group_name)

    outputs = run_under_mocks(program).outputs
    assert re.fullmatch(r"vpc-0[0-9a-f]{16}", outputs["vpc"])
    assert len(outputs["private"]) == 2 and all(s.startswith("subnet-") for s in outputs["private"])
    assert outputs["dbGroup"].startswith("net-db-")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"zone_count": 0}, "zone_count=0 is out of range: use 1 to 8 availability zones."),
    ({"zone_count": 7}, "zone_count=7 but the region has 6 available zones: use at most 6."),
    ({"nat_strategy": "per_zone"}, "nat_strategy='per_zone' is not a NAT strategy: use 'none', 'single' or 'one_per_az'."),
    ({"tiers": ["private", "isolated"]},
     "nat_strategy='single' needs the public and private tiers, got tiers=['private', 'isolated']: "
     "add them or set nat_strategy='none'."),
    ({"flow_log_retention_days": 10}, "flow_log_retention_days=10 is not a CloudWatch Logs retention: use one of 1, 3"),
    ({"availability_zones": ["us-east-1a"], "zone_count": 2},
     "availability_zones=['us-east-1a'] names fewer zones than zone_count=2: name at least zone_count zones or "
     "lower zone_count."),
    ({"interface_endpoints": ["sts"], "tiers": ["public", "isolated"], "nat_strategy": "none"},
     "interface_endpoints=['sts'] need the private tier, got tiers=['public', 'isolated']: add 'private'."),
])
def test_impossible_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_vpc(**kwargs)


def test_a_name_too_long_for_the_flow_log_role_is_refused():
    # Pulumi names the role "<name>-flow-logs-<7 hex>"; IAM allows 64 characters and the provider only refuses
    # a longer one at `pulumi preview`, which the offline plan never runs.
    name = "n" * 47
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: Vpc(name, VpcArgs()))
    assert str(error.value) == (
        f"name='{name}' has 47 characters, too many for the flow-log IAM role named '{name}-flow-logs-' plus 7 "
        "random characters (at most 64): use a component name of at most 46 characters.")
    role = run_under_mocks(lambda: Vpc(name[:-1], VpcArgs())).one("aws:iam/role:Role")
    assert len(role.outputs["name"]) == 64


def test_validation_fails_before_anything_is_registered():
    registered = []

    def program():
        try:
            Vpc("net", VpcArgs(zone_count=0))
        except ValueError:
            registered.append("refused")

    plan = run_under_mocks(program)
    assert registered == ["refused"]
    assert [r.type for r in plan.resources] == ["pulumi:pulumi:Stack"]
