"""Vpc: a three-tier network with a fixed CIDR layout, a chosen NAT strategy and flow logs."""

import json
from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_aws import cloudwatch, ec2, get_availability_zones, iam, rds

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.network.cidr import MAX_ZONES, TIERS, plan_subnets, vpc_network
from genai_platform.components.aws.limits import check_auto_name, check_log_retention
from genai_platform.components.aws.network.nat_instance import GRAVITON_TYPE, NatInstanceSpec, nat_instances
from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

NatStrategy = Literal["none", "single", "one_per_az"]
NatType = Literal["gateway", "instance"]

# Subnet tags the AWS Load Balancer Controller uses to discover where to put load balancers.
_ELB_ROLE_TAGS = {"public": {"kubernetes.io/role/elb": "1"}, "private": {"kubernetes.io/role/internal-elb": "1"}}


@dataclass
class VpcArgs:
    """Arguments of :class:`Vpc`. Every default is the secure, cheap one."""

    cidr_block: str = "10.10.0.0/16"
    """IPv4 range of the VPC, /16 to /23. Subnets take fixed slots of it (see ``genai_platform.components.aws.network.cidr``)."""

    zone_count: int = 2
    """How many availability zones to spread subnets over (1-8; EKS and Multi-AZ RDS need at least 2)."""

    availability_zones: list[str] | None = None
    """Explicit zone names; default: the first ``zone_count`` available, opt-in-free zones of the region."""

    tiers: list[str] = field(default_factory=lambda: list(TIERS))
    """Subnet tiers: ``public`` (load balancers, NAT), ``private`` (workloads, egress via NAT),
    ``isolated`` (databases: no route to the internet at all)."""

    nat_strategy: NatStrategy = "single"
    """Egress for private subnets. ``none``: no NAT (private subnets reach only VPC endpoints; $0).
    ``single``: one NAT gateway in the first zone (~$33/month + $0.045/GB; a zone outage cuts egress).
    ``one_per_az``: one per zone, each zone's private subnet routes to its own (~$33/month per zone;
    survives a zone outage). Default ``single``: most environments do not need per-zone egress."""

    nat_type: NatType = "gateway"
    """What translates addresses in each zone ``nat_strategy`` picks. ``gateway``: a managed NAT gateway and its
    Elastic IP (~$36.50/month each; scales to 100 Gbps, no maintenance). ``instance``: a ``nat_instance_type``
    instance in a one-instance Auto Scaling group (t4g.nano: ~$3.07 + $0.64 disk + $3.65 public IPv4 a month,
    data processing free; up to 5 Gbps burst; a replacement costs a minute or two of egress; the egress
    address changes with it). The instance admits only the VPC, requires IMDSv2, has no SSH (Session Manager
    only), an encrypted root volume and a status-check alarm to ``nat_alarm_actions``. Default ``gateway``:
    the instance is for environments where ~$30/month matters more than egress availability."""

    nat_instance_type: str = "t4g.nano"
    """Graviton instance type of ``nat_type="instance"`` (the AMI is arm64 Amazon Linux 2023). t4g.nano
    (0.5 GiB, 32 Mbps baseline, bursts to 5 Gbps) suits a dev environment's image pulls and API calls."""

    nat_alarm_actions: list[pulumi.Input[str]] = field(default_factory=list)
    """SNS topics the NAT instances' status-check alarms notify (``nat_type="instance"``). Default none:
    Auto Scaling still replaces a failed instance, but nobody hears of it - stacks pass their alert topic."""

    flow_log_retention_days: int = 30
    """Retention of the VPC flow logs in CloudWatch Logs; must be a value CloudWatch accepts."""

    flow_log_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for the flow log group. Default none: CloudWatch Logs encrypts at rest with its own key;
    pass a customer-managed key when auditors require one (its policy must allow ``logs.<region>.amazonaws.com``)."""

    interface_endpoints: list[str] = field(default_factory=list)
    """Interface endpoints to create in the private subnets, by service suffix (``ecr.api``, ``ecr.dkr``,
    ``sts``, ``logs``, ``secretsmanager``...). Each costs ~$7.30/month per zone; default none.
    The S3 gateway endpoint is always created: it is free and keeps S3 traffic off the NAT."""

    private_subnet_tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on the private subnets only, e.g. ``{"karpenter.sh/discovery": <cluster name>}`` so Karpenter's
    EC2NodeClass finds them. Set here rather than with a separate ``ec2.Tag``: the subnet owns its tags, and an update
    of the subnet would remove a tag another resource added."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class Vpc(pulumi.ComponentResource):
    """A VPC with public, private and isolated subnets across zones.

    Locks down the default security group and network ACL, logs all traffic to CloudWatch,
    routes S3 through a free gateway endpoint and creates an RDS subnet group over the isolated tier.
    """

    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    cidr_block: str
    """The VPC's IPv4 range (known at plan time, for security group rules)."""
    public_subnet_ids: list[pulumi.Output[str]]
    """Public subnet IDs, one per zone (empty when the tier is off)."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private subnet IDs, one per zone."""
    isolated_subnet_ids: list[pulumi.Output[str]]
    """Isolated (database) subnet IDs, one per zone."""
    database_subnet_group_name: pulumi.Output[str] | None
    """Name of the RDS subnet group over the isolated subnets (None without the isolated tier)."""
    availability_zones: list[str]
    """The zones the subnets are in, in slot order."""

    def __init__(self, name: str, args: VpcArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:aws:Vpc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._name, self._tags = name, args.tags

        zones = args.availability_zones or _available_zones(args.zone_count, child)
        zones = zones[: args.zone_count]
        region = account_of(self).region

        vpc = ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_hostnames=True,  # required by interface endpoints' private DNS and EKS
            enable_dns_support=True,
            tags=self._tagged(f"{name}-vpc"),
            opts=child,
        )
        self.vpc_id, self.cidr_block, self.availability_zones = vpc.id, args.cidr_block, zones
        self._lock_down_defaults(vpc)

        subnets: dict[str, list[ec2.Subnet]] = {tier: [] for tier in TIERS}
        for slot in plan_subnets(args.cidr_block, len(zones), args.tiers):
            subnet_name = f"{name}-{slot.tier}-{zones[slot.zone_index]}"
            subnets[slot.tier].append(
                ec2.Subnet(
                    subnet_name,
                    vpc_id=vpc.id,
                    cidr_block=slot.cidr,
                    availability_zone=zones[slot.zone_index],
                    map_public_ip_on_launch=False,  # nothing gets a public IP unless it asks for an EIP
                    tags=self._tagged(subnet_name, {"Tier": slot.tier, **_ELB_ROLE_TAGS.get(slot.tier, {}),
                                                    **(args.private_subnet_tags if slot.tier == "private" else {})}),
                    opts=child,
                )
            )
        self.public_subnet_ids = [s.id for s in subnets["public"]]
        self.private_subnet_ids = [s.id for s in subnets["private"]]
        self.isolated_subnet_ids = [s.id for s in subnets["isolated"]]

        egress_targets = self._public_routing(vpc, subnets["public"], args)
        route_table_ids = self._private_routing(vpc, subnets["private"], egress_targets)
        route_table_ids += self._isolated_routing(vpc, subnets["isolated"])
        self._network_acls(vpc, args.cidr_block, subnets)
        self._endpoints(vpc, region, route_table_ids, subnets["private"], args)
        self._flow_logs(vpc, args)

        self.database_subnet_group_name = None
        if subnets["isolated"]:
            group = rds.SubnetGroup(
                f"{name}-db",
                subnet_ids=self.isolated_subnet_ids,
                description=f"Isolated subnets of {name}: no route to the internet",
                tags=self._tagged(f"{name}-db"),
                opts=child,
            )
            self.database_subnet_group_name = group.name

        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "isolated_subnet_ids": self.isolated_subnet_ids,
                "database_subnet_group_name": self.database_subnet_group_name,
            }
        )

    def _tagged(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return child_tags(name, {**self._tags, **(extra or {})})

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _lock_down_defaults(self, vpc: ec2.Vpc) -> None:
        # Adopting the defaults with no rules removes their allow-all rules: anything launched
        # without an explicit security group or subnet ACL gets no traffic (checkov CKV2_AWS_12).
        ec2.DefaultSecurityGroup(
            f"{self._name}-default-sg", vpc_id=vpc.id, tags=self._tagged(f"{self._name}-default-sg"), opts=self._child()
        )
        ec2.DefaultNetworkAcl(
            f"{self._name}-default-nacl",
            default_network_acl_id=vpc.default_network_acl_id,
            tags=self._tagged(f"{self._name}-default-nacl"),
            # Our subnets are associated with the ACLs below; AWS moves them back here only when
            # those are deleted, which must not show up as drift.
            opts=self._child(ignore_changes=["subnetIds"]),
        )

    def _public_routing(self, vpc: ec2.Vpc, public: list[ec2.Subnet], args: VpcArgs) -> list[dict[str, pulumi.Output[str]]]:
        """The public route table, and the NAT of each NAT zone as the private routes' target arguments."""
        if not public:
            return []
        name = self._name
        igw = ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=self._tagged(f"{name}-igw"), opts=self._child())
        table = ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, tags=self._tagged(f"{name}-public"), opts=self._child())
        ec2.Route(f"{name}-public-internet", route_table_id=table.id, destination_cidr_block="0.0.0.0/0",
                  gateway_id=igw.id, opts=self._child())
        for index, subnet in enumerate(public):
            ec2.RouteTableAssociation(f"{name}-public-{index}", route_table_id=table.id, subnet_id=subnet.id,
                                      opts=self._child())

        nat_subnets = {"none": [], "single": public[:1], "one_per_az": public}[args.nat_strategy]
        if args.nat_type == "instance" and nat_subnets:
            here = account_of(self)
            spec = NatInstanceSpec(vpc_name=name, vpc_id=vpc.id, vpc_cidr=args.cidr_block,
                                   instance_type=args.nat_instance_type, alarm_actions=args.nat_alarm_actions,
                                   tags=self._tags, parent=self)
            interfaces = nat_instances(spec, nat_subnets, here.region, here.account_id, here.partition)
            return [{"network_interface_id": interface} for interface in interfaces]
        nat_ids = []
        for index, subnet in enumerate(nat_subnets):
            eip = ec2.Eip(f"{name}-nat-{index}", domain="vpc", tags=self._tagged(f"{name}-nat-{index}"),
                          opts=self._child())
            nat = ec2.NatGateway(
                f"{name}-nat-{index}",
                allocation_id=eip.id,
                subnet_id=subnet.id,
                connectivity_type="public",
                tags=self._tagged(f"{name}-nat-{index}"),
                opts=self._child(depends_on=[igw]),
            )
            nat_ids.append({"nat_gateway_id": nat.id})
        return nat_ids

    def _private_routing(self, vpc: ec2.Vpc, private: list[ec2.Subnet],
                         egress_targets: list[dict[str, pulumi.Output[str]]]) -> list[pulumi.Output[str]]:
        # One table per zone whatever the NAT strategy, so switching single <-> one_per_az (or gateway
        # <-> instance) only re-points routes instead of replacing tables and associations.
        table_ids = []
        for index, subnet in enumerate(private):
            table_name = f"{self._name}-private-{index}"
            table = ec2.RouteTable(table_name, vpc_id=vpc.id, tags=self._tagged(table_name), opts=self._child())
            ec2.RouteTableAssociation(table_name, route_table_id=table.id, subnet_id=subnet.id, opts=self._child())
            if egress_targets:
                ec2.Route(f"{table_name}-egress", route_table_id=table.id, destination_cidr_block="0.0.0.0/0",
                          **egress_targets[index % len(egress_targets)], opts=self._child())
            table_ids.append(table.id)
        return table_ids

    def _isolated_routing(self, vpc: ec2.Vpc, isolated: list[ec2.Subnet]) -> list[pulumi.Output[str]]:
        if not isolated:
            return []
        table = ec2.RouteTable(f"{self._name}-isolated", vpc_id=vpc.id, tags=self._tagged(f"{self._name}-isolated"),
                               opts=self._child())
        for index, subnet in enumerate(isolated):
            ec2.RouteTableAssociation(f"{self._name}-isolated-{index}", route_table_id=table.id, subnet_id=subnet.id,
                                      opts=self._child())
        return [table.id]

    def _network_acls(self, vpc: ec2.Vpc, cidr_block: str, subnets: dict[str, list[ec2.Subnet]]) -> None:
        # Security groups do the fine-grained filtering; the isolated tier's ACL adds a second wall:
        # nothing outside the VPC reaches the databases even if a security group is misconfigured.
        open_subnets = [s.id for s in subnets["public"] + subnets["private"]]
        if open_subnets:
            ec2.NetworkAcl(
                f"{self._name}-nacl", vpc_id=vpc.id, subnet_ids=open_subnets,
                ingress=[_acl_rule("0.0.0.0/0")], egress=[_acl_rule("0.0.0.0/0")],
                tags=self._tagged(f"{self._name}-nacl"), opts=self._child(),
            )
        if subnets["isolated"]:
            ec2.NetworkAcl(
                f"{self._name}-isolated-nacl", vpc_id=vpc.id, subnet_ids=[s.id for s in subnets["isolated"]],
                ingress=[_acl_rule(cidr_block)], egress=[_acl_rule(cidr_block)],
                tags=self._tagged(f"{self._name}-isolated-nacl"), opts=self._child(),
            )

    def _endpoints(self, vpc: ec2.Vpc, region: str, route_table_ids: list[pulumi.Output[str]],
                   private: list[ec2.Subnet], args: VpcArgs) -> None:
        ec2.VpcEndpoint(
            f"{self._name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=route_table_ids,
            tags=self._tagged(f"{self._name}-s3"),
            opts=self._child(),
        )
        if not args.interface_endpoints:
            return
        endpoint_sg = ec2.SecurityGroup(
            f"{self._name}-endpoints",
            vpc_id=vpc.id,
            description="HTTPS from inside the VPC to interface endpoints",
            ingress=[ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443,
                                                  cidr_blocks=[args.cidr_block], description="HTTPS from the VPC")],
            tags=self._tagged(f"{self._name}-endpoints"),
            opts=self._child(),
        )
        for service in args.interface_endpoints:
            endpoint_name = f"{self._name}-{service.replace('.', '-')}"
            ec2.VpcEndpoint(
                endpoint_name,
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private],
                security_group_ids=[endpoint_sg.id],
                tags=self._tagged(endpoint_name),
                opts=self._child(),
            )

    def _flow_logs(self, vpc: ec2.Vpc, args: VpcArgs) -> None:
        name = f"{self._name}-flow-logs"
        group = cloudwatch.LogGroup(
            name,
            name=f"/genai/vpc/{self._name}/flow-logs",
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.flow_log_kms_key_arn,
            tags=self._tagged(name),
            opts=self._child(),
        )
        account = account_of(self).account_id
        role = iam.Role(
            name,
            # aws:SourceAccount (AWS's confused-deputy advice): flow logs of another account cannot assume it.
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                               "Action": "sts:AssumeRole",
                               "Condition": {"StringEquals": {"aws:SourceAccount": account}}}],
            }),
            tags=self._tagged(name),
            opts=self._child(),
        )
        permissions = iam.RolePolicy(
            name,
            role=role.id,
            # Only the calls the flow-log service makes, only on this log group's streams.
            policy=group.arn.apply(lambda arn: json.dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [arn, f"{arn}:*"],
                }],
            })),
            opts=self._child(),
        )
        ec2.FlowLog(
            name,
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            tags=self._tagged(name),
            # A flow log created before its role may write gets "Access error" instead of records.
            opts=self._child(depends_on=[permissions]),
        )


def _acl_rule(cidr_block: str) -> dict:
    return {"rule_no": 100, "action": "allow", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_block": cidr_block}


def _available_zones(count: int, opts: pulumi.ResourceOptions) -> list[str]:
    # Local and Wavelength zones need an opt-in and lack most services; stay in the region's own zones.
    zones = get_availability_zones(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=pulumi.InvokeOptions(parent=opts.parent),
    ).names
    if len(zones) < count:
        raise ValueError(f"zone_count={count} but the region has {len(zones)} available zones: use at most {len(zones)}.")
    return list(zones)


def _validate(name: str, args: VpcArgs) -> None:
    check_auto_name(name, "-flow-logs", 64, "flow-log IAM role")
    vpc_network(args.cidr_block)
    check_range("zone_count", args.zone_count, 1, MAX_ZONES, " availability zones")
    if args.availability_zones is not None and len(args.availability_zones) < args.zone_count:
        raise ValueError(
            f"availability_zones={args.availability_zones} names fewer zones than zone_count={args.zone_count}: "
            "name at least zone_count zones or lower zone_count."
        )
    unknown = [t for t in args.tiers if t not in TIERS]
    if unknown:
        raise ValueError(f"tiers={args.tiers} contains unknown tier {unknown[0]!r}: use any of {list(TIERS)}.")
    if args.nat_strategy not in ("none", "single", "one_per_az"):
        raise ValueError(f"nat_strategy={args.nat_strategy!r} is not a NAT strategy: use 'none', 'single' or 'one_per_az'.")
    if args.nat_strategy != "none" and not {"public", "private"} <= set(args.tiers):
        raise ValueError(
            f"nat_strategy={args.nat_strategy!r} needs the public and private tiers, got tiers={args.tiers}: "
            "add them or set nat_strategy='none'."
        )
    if args.nat_type not in ("gateway", "instance"):
        raise ValueError(f"nat_type={args.nat_type!r} is not a NAT type: use 'gateway' or 'instance'.")
    if args.nat_type == "instance":
        if not GRAVITON_TYPE.match(args.nat_instance_type):
            raise ValueError(
                f"nat_instance_type={args.nat_instance_type!r} is not a Graviton instance type: the NAT instance "
                "boots the arm64 Amazon Linux 2023 AMI, use a type such as 't4g.nano'."
            )
        check_auto_name(name, "-nat-instance", 64, "NAT instance IAM role")
    check_log_retention("flow_log_retention_days", args.flow_log_retention_days)
    if args.interface_endpoints and "private" not in args.tiers:
        raise ValueError(
            f"interface_endpoints={args.interface_endpoints} need the private tier, got tiers={args.tiers}: add 'private'."
        )
