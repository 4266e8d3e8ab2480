"""EC2 and VPC: nothing open to the internet but load balancers on 80/443, IMDSv2, encrypted disks, flow logs."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from genai_platform.policies.registry import ADVISORY, MANDATORY, RuleContext, Setting, resource_rule, stack_rule
from genai_platform.policies.stackview import companions_by_target, label, of_types
from genai_platform.policies.values import OPEN_IPV4, OPEN_IPV6, as_list, each_mapping, get, is_true, number, tags_of

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"

_ALL_PROTOCOLS = ("-1", "all")
_MAX_LISTED_PORTS = 1024  # a wider open range is never "only 80/443"


def _open_sources(rule: Mapping[str, Any]) -> list[str]:
    sources = [*as_list(rule.get("cidrBlocks")), *as_list(rule.get("ipv6CidrBlocks")),
               rule.get("cidrIpv4"), rule.get("cidrIpv6")]
    return [s for s in sources if s in (OPEN_IPV4, OPEN_IPV6)]


def _ports_allowed(rule: Mapping[str, Any], allowed: list[int]) -> bool:
    protocol = str(rule.get("protocol") or rule.get("ipProtocol") or "")
    low, high = number(rule.get("fromPort")), number(rule.get("toPort"))
    if protocol in _ALL_PROTOCOLS or low is None or high is None or high - low > _MAX_LISTED_PORTS:
        return False
    return all(port in allowed for port in range(int(low), int(high) + 1))


def _describe(rule: Mapping[str, Any]) -> str:
    protocol = rule.get("protocol") or rule.get("ipProtocol")
    if str(protocol) in _ALL_PROTOCOLS:
        return "all ports"
    return f"{protocol} {rule.get('fromPort')}-{rule.get('toPort')}"


def _ingress_rules(args: ResourceValidationArgs) -> list[Mapping[str, Any]]:
    if args.resource_type == SECURITY_GROUP:
        return list(each_mapping(as_list(args.props.get("ingress"))))
    if args.resource_type == SECURITY_GROUP_RULE and args.props.get("type") != "ingress":
        return []
    return [args.props]


def _is_load_balancer_group(args: ResourceValidationArgs, pattern: str) -> bool:
    names = [args.name, args.props.get("name"), args.props.get("namePrefix"), tags_of(args.props).get("Name")]
    return any(isinstance(n, str) and re.search(pattern, n, re.IGNORECASE) for n in names)


@resource_rule(
    name="ec2-security-group-no-public-ingress",
    types=[SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE],
    description="No security group admits 0.0.0.0/0 or ::/0, except load balancer groups on 80/443 "
                "(checkov CKV_AWS_24/25/260/277, cdk-nag AwsSolutions-EC23).",
    severity="critical",
    levels=MANDATORY,
    remediation="Admit the load balancer's security group (referenced_security_group_id / "
                "source_security_group_id) or a VPC CIDR instead; only a group named like the load balancer "
                "(alb, nlb, lb, load-balancer) may take 80/443 from anywhere.",
    settings={
        "allowedPublicPorts": Setting({"type": "array", "items": {"type": "integer"}}, [80, 443],
                                      description="Ports load balancer groups may open to anywhere (80, 443)."),
        "loadBalancerGroupPattern": Setting({"type": "string"}, r"(^|[-_./ ])(alb|nlb|elb|lb|load-?balancer)([-_./ ]|$)",
                                            description="Regex over the group's names marking a load balancer group."),
    },
)
def security_group_no_public_ingress(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    load_balancer = _is_load_balancer_group(args, ctx["loadBalancerGroupPattern"])
    for rule in _ingress_rules(args):
        sources = _open_sources(rule)
        if not sources:
            continue
        if load_balancer and _ports_allowed(rule, ctx["allowedPublicPorts"]):
            continue
        where = "" if load_balancer else " on a group that is not a load balancer's"
        yield f"Ingress from {', '.join(sources)} to {_describe(rule)}{where}."


@resource_rule(
    name="vpc-default-security-group-closed",
    types=[DEFAULT_SECURITY_GROUP],
    description="The VPC's default security group has no rules, so anything launched without a group gets "
                "no traffic (checkov CKV2_AWS_12).",
    severity="medium",
    levels=MANDATORY,
    remediation="Adopt the default group with aws.ec2.DefaultSecurityGroup and no ingress/egress arguments.",
)
def default_security_group_closed(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for direction in ("ingress", "egress"):
        if as_list(args.props.get(direction)):
            yield f"The default security group has {direction} rules."


@resource_rule(
    name="vpc-subnet-no-public-ip-on-launch",
    types=[SUBNET],
    description="Subnets do not hand out public IPs automatically (checkov CKV_AWS_130).",
    severity="medium",
    levels=MANDATORY,
    remediation="Set map_public_ip_on_launch=False; give public endpoints a load balancer or an Elastic IP.",
)
def subnet_no_public_ip(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if is_true(args.props.get("mapPublicIpOnLaunch")):
        yield "mapPublicIpOnLaunch is true."


@stack_rule(
    name="vpc-flow-logs",
    description="Every VPC has a flow log (checkov CKV2_AWS_11, cdk-nag AwsSolutions-VPC7).",
    severity="medium",
    levels=MANDATORY,
    remediation="Add an aws.ec2.FlowLog with vpc_id=<vpc>.id, traffic_type='ALL' and a log destination "
                "(the Vpc component does this).",
)
def vpc_flow_logs(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    vpcs = of_types(args, [VPC])
    logs = companions_by_target(vpcs, of_types(args, [FLOW_LOG]), ["vpcId"])
    for vpc in vpcs:
        if not logs[vpc.urn]:
            yield vpc.urn, f"{label(vpc)} has no flow log."


@resource_rule(
    name="ec2-imdsv2-required",
    types=[LAUNCH_TEMPLATE, INSTANCE],
    description="Instances and launch templates require IMDSv2 session tokens, which SSRF cannot forge "
                "(checkov CKV_AWS_79).",
    severity="high",
    levels=MANDATORY,
    remediation="Set metadata_options={'http_tokens': 'required', 'http_endpoint': 'enabled'}.",
)
def imdsv2_required(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    tokens = get(args.props, "metadataOptions.httpTokens", "optional")
    if tokens != "required":
        yield f"metadataOptions.httpTokens is {tokens!r}."


@resource_rule(
    name="ec2-imds-hop-limit",
    types=[LAUNCH_TEMPLATE, INSTANCE],
    description="The metadata response hop limit stays at maxHopLimit (1), so containers cannot borrow the "
                "node's role (checkov CKV_AWS_341).",
    severity="medium",
    levels=ADVISORY,
    remediation="Set metadata_options http_put_response_hop_limit=1 and give pods their own role "
                "(EKS Pod Identity or IRSA).",
    settings={"maxHopLimit": Setting({"type": "integer", "minimum": 1, "maximum": 64}, 1,
                                     description="Largest allowed http_put_response_hop_limit (1).")},
)
def imds_hop_limit(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    hops = number(get(args.props, "metadataOptions.httpPutResponseHopLimit"))
    if hops is not None and hops > ctx["maxHopLimit"]:
        yield f"metadataOptions.httpPutResponseHopLimit is {int(hops)} (max {ctx['maxHopLimit']})."


@resource_rule(
    name="ec2-ebs-encrypted",
    types=[LAUNCH_TEMPLATE, INSTANCE, VOLUME],
    description="EBS volumes are encrypted (checkov CKV_AWS_3/8, cdk-nag AwsSolutions-EC26, "
                "awsguard encrypted-volumes).",
    severity="high",
    levels=MANDATORY,
    remediation="Set encrypted=True on every volume / block device mapping (ebs.encrypted='true' in launch "
                "templates), or turn on EBS encryption by default for the account.",
)
def ebs_encrypted(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    props = args.props
    if args.resource_type == VOLUME:
        disks = [("volume", props)]
    elif args.resource_type == LAUNCH_TEMPLATE:
        disks = [(m.get("deviceName", "device"), m.get("ebs")) for m in each_mapping(as_list(props.get("blockDeviceMappings")))
                 if isinstance(m.get("ebs"), Mapping)]
    else:
        disks = [("root", props.get("rootBlockDevice"))] if isinstance(props.get("rootBlockDevice"), Mapping) else []
        disks += [(d.get("deviceName", "device"), d) for d in each_mapping(as_list(props.get("ebsBlockDevices")))]
    for device, disk in disks:
        if not is_true(disk.get("encrypted")):
            yield f"EBS {device} is not encrypted."
