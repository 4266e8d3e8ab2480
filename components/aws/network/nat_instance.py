"""NAT instances of a :class:`~genai_platform.components.aws.network.vpc.Vpc` (``nat_type="instance"``).

One small Graviton instance per NAT zone, each in its own one-instance Auto Scaling group that
replaces it when its EC2 status check fails. The private route tables point at a static network
interface (source/destination check off) that Pulumi owns, so the routes never change when the
instance does; the instance attaches that interface at boot (the pattern of fck-nat, on the stock
Amazon Linux 2023 AMI instead of a community image). An Auto Scaling group cannot set the source/
destination check of the instances it launches, so each instance switches it off on its own primary
interface at boot, allowed by a role that can touch only instances of its own group (the
``aws:autoscaling:groupName`` tag, which only Auto Scaling can set).

AWS CDK's ``NatInstanceProviderV2`` is the only anchor with NAT instances; it runs plain instances
(no self-healing) with routes to the instance id, which a replacement breaks.
"""

import base64
import json
import re
from dataclasses import dataclass

import pulumi
from pulumi_aws import autoscaling, cloudwatch, ec2, iam

from genai_platform.components.tagging import child_tags

AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
"""Public SSM parameter of the newest Amazon Linux 2023 arm64 AMI (it ships the SSM agent and AWS CLI).
The launch template resolves it at every launch, so a replaced instance boots patched."""

GRAVITON_TYPE = re.compile(r"^[a-z]+[0-9]+g[a-z]*\.[a-z0-9]+$")
"""Graviton (arm64) instance types: t4g.nano, c7gn.medium, m7g.large... The AMI above is arm64."""

ROOT_VOLUME_GIB = 8
"""The AL2023 AMI's snapshot size: the smallest root volume it boots from."""

SSM_MANAGED_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
"""AWS's policy for Session Manager access: the only way in (no SSH key, no port 22)."""


@dataclass(frozen=True)
class NatInstanceSpec:
    """What the Vpc passes for its NAT instances."""

    vpc_name: str
    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    instance_type: str
    alarm_actions: list[pulumi.Input[str]]
    tags: dict[str, str]
    parent: pulumi.Resource


def nat_instances(spec: NatInstanceSpec, public: list[ec2.Subnet], region: str, account: str,
                  partition: str) -> list[pulumi.Output[str]]:
    """One NAT instance per subnet of ``public``; returns the static interfaces the routes point at."""
    name = spec.vpc_name
    group = ec2.SecurityGroup(
        f"{name}-nat-instance",
        vpc_id=spec.vpc_id,
        description=f"NAT instances of {name}: anything from inside the VPC in, anything out",
        # The instance forwards whatever the private subnets send, so egress is every port; nothing
        # outside the VPC may open a connection to it (no SSH: Session Manager is the way in).
        ingress=[ec2.SecurityGroupIngressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=[spec.vpc_cidr],
                                              description="Traffic to forward, from the VPC only")],
        egress=[ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"],
                                            description="Forwarded traffic to the internet")],
        tags=child_tags(f"{name}-nat-instance", spec.tags),
        opts=pulumi.ResourceOptions(parent=spec.parent),
    )
    interfaces = [
        ec2.NetworkInterface(
            f"{name}-nat-{index}",
            subnet_id=subnet.id,
            security_groups=[group.id],
            source_dest_check=False,  # it receives packets addressed to the internet, not to itself
            description=f"Static NAT interface of {name} zone {index}: the private routes' target",
            tags=child_tags(f"{name}-nat-{index}", spec.tags),
            opts=pulumi.ResourceOptions(parent=spec.parent),
        )
        for index, subnet in enumerate(public)
    ]
    group_names = [f"{name}-nat-{index}" for index in range(len(public))]
    profile, permissions = _instance_role(spec, interfaces, group_names, region, account, partition)
    for index, (subnet, interface) in enumerate(zip(public, interfaces)):
        _instance_group(spec, index, subnet, interface, group, profile, permissions, group_names[index])
    return [interface.id for interface in interfaces]


def _instance_role(spec: NatInstanceSpec, interfaces: list[ec2.NetworkInterface], group_names: list[str],
                   region: str, account: str, partition: str) -> tuple[iam.InstanceProfile, list[pulumi.Resource]]:
    name = f"{spec.vpc_name}-nat-instance"
    child = pulumi.ResourceOptions(parent=spec.parent)
    role = iam.Role(
        name,
        description=f"NAT instances of {spec.vpc_name}: Session Manager, and setting up their own interfaces",
        assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                           "Action": "sts:AssumeRole"}],
        }),
        tags=child_tags(name, spec.tags),
        opts=child,
    )
    ssm = iam.RolePolicyAttachment(f"{name}-ssm", role=role.name, policy_arn=SSM_MANAGED_POLICY.replace(
        "arn:aws:", f"arn:{partition}:"), opts=child)
    own_instances = {"StringEquals": {"aws:ResourceTag/aws:autoscaling:groupName": group_names}}
    instance_arn = f"arn:{partition}:ec2:{region}:{account}:instance/*"

    def document(interface_ids: list[str]) -> str:
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                # Only while the instance has one interface does the instance-level call apply (to it):
                # the boot script switches the check off before attaching the static interface.
                {"Sid": "DisableOwnSourceDestCheck", "Effect": "Allow", "Action": ["ec2:ModifyInstanceAttribute"],
                 "Resource": [instance_arn], "Condition": own_instances},
                {"Sid": "AttachToOwnInstance", "Effect": "Allow", "Action": ["ec2:AttachNetworkInterface"],
                 "Resource": [instance_arn], "Condition": own_instances},
                {"Sid": "AttachStaticInterface", "Effect": "Allow", "Action": ["ec2:AttachNetworkInterface"],
                 "Resource": [f"arn:{partition}:ec2:{region}:{account}:network-interface/{eni}"
                              for eni in interface_ids]},
            ],
        })

    policy = iam.RolePolicy(name, role=role.id, policy=pulumi.Output.all(*[i.id for i in interfaces]).apply(
        lambda ids: document(list(ids))), opts=child)
    profile = iam.InstanceProfile(name, role=role.name, tags=child_tags(name, spec.tags), opts=child)
    return profile, [ssm, policy]


def _instance_group(spec: NatInstanceSpec, index: int, subnet: ec2.Subnet, interface: ec2.NetworkInterface,
                    group: ec2.SecurityGroup, profile: iam.InstanceProfile, permissions: list[pulumi.Resource],
                    group_name: str) -> None:
    name = f"{spec.vpc_name}-nat-{index}"
    tags = child_tags(name, spec.tags)
    template = ec2.LaunchTemplate(
        name,
        description=f"NAT instance of {spec.vpc_name} zone {index}",
        image_id=f"resolve:ssm:{AMI_PARAMETER}",
        instance_type=spec.instance_type,
        iam_instance_profile=ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
        # IMDSv2 only, one hop: nothing the instance forwards can reach its credentials.
        metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(http_endpoint="enabled", http_tokens="required",
                                                               http_put_response_hop_limit=1),
        # The primary interface carries the public address the traffic leaves with (~$3.65/month);
        # it changes when the instance is replaced, so do not allow-list it anywhere.
        network_interfaces=[ec2.LaunchTemplateNetworkInterfaceArgs(
            device_index=0, associate_public_ip_address="true", delete_on_termination="true",
            security_groups=[group.id])],
        block_device_mappings=[ec2.LaunchTemplateBlockDeviceMappingArgs(
            device_name="/dev/xvda",
            ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(volume_size=ROOT_VOLUME_GIB, volume_type="gp3",
                                                            encrypted="true", delete_on_termination="true"))],
        user_data=interface.id.apply(lambda eni: base64.b64encode(
            boot_script(eni, spec.vpc_cidr).encode()).decode()),
        tag_specifications=[ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                            for kind in ("instance", "volume", "network-interface")],
        update_default_version=True,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=spec.parent),
    )
    asg = autoscaling.Group(
        name,
        # A fixed name, so the role's condition can name the group before the group exists and the
        # first instance boots with its permissions in place.
        name=group_name,
        min_size=1, max_size=1, desired_capacity=1,
        vpc_zone_identifiers=[subnet.id],  # the static interface lives in this zone
        launch_template=autoscaling.GroupLaunchTemplateArgs(id=template.id, version=template.latest_version),
        health_check_type="EC2",  # a failed status check replaces the instance
        health_check_grace_period=120,
        # A new launch template version (AMI parameter, instance type) replaces the instance; one
        # instance means a minute or two without egress, which is why production keeps NAT gateways.
        instance_refresh=autoscaling.GroupInstanceRefreshArgs(
            strategy="Rolling", preferences=autoscaling.GroupInstanceRefreshPreferencesArgs(min_healthy_percentage=0)),
        tags=[autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True) for key, value in tags.items()],
        opts=pulumi.ResourceOptions(parent=spec.parent, depends_on=permissions, delete_before_replace=True),
    )
    cloudwatch.MetricAlarm(
        f"{name}-status",
        alarm_description=f"{name}: the NAT instance fails its EC2 status checks or is missing; private "
                          "subnets of the zone have no internet egress until Auto Scaling replaces it.",
        namespace="AWS/EC2",
        metric_name="StatusCheckFailed",
        dimensions={"AutoScalingGroupName": asg.name},
        statistic="Maximum",
        period=60,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        treat_missing_data="breaching",  # no data means no instance, and so no egress
        alarm_actions=spec.alarm_actions,
        ok_actions=spec.alarm_actions,
        tags=child_tags(f"{name}-status", spec.tags),
        opts=pulumi.ResourceOptions(parent=spec.parent),
    )


def setup_script(interface_id: str, vpc_cidr: str) -> str:
    """What the instance runs at every boot: turn off the source/destination check, attach the static
    interface (once), forward, and masquerade traffic from the VPC out of the primary interface."""
    return f"""#!/bin/bash
set -euo pipefail
imds() {{ curl -sf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"; }}
token=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token)
instance=$(imds instance-id)
export AWS_DEFAULT_REGION=$(imds placement/region)
outbound=$(ip route show default | awk '{{print $5; exit}}')
eni={interface_id}
attached() {{
  for mac in $(imds network/interfaces/macs/); do
    [ "$(imds "network/interfaces/macs/${{mac}}interface-id")" = "$eni" ] && return 0
  done
  return 1
}}
if ! attached; then
  # Before the second interface: with two, EC2 refuses the instance-level call.
  aws ec2 modify-instance-attribute --instance-id "$instance" --no-source-dest-check
  until aws ec2 attach-network-interface --instance-id "$instance" --network-interface-id $eni --device-index 1; do
    sleep 5
  done
fi
sysctl -qw net.ipv4.ip_forward=1
# Packets arrive on the static interface and leave by the primary one: reverse-path filtering would drop
# them. 'default' covers the static interface if it is still coming up.
for scope in all default $(ls /sys/class/net); do sysctl -qw "net.ipv4.conf.$scope.rp_filter=0"; done
nft delete table ip nat 2>/dev/null || true
nft add table ip nat
nft add chain ip nat postrouting '{{ type nat hook postrouting priority srcnat; }}'
nft add rule ip nat postrouting ip saddr {vpc_cidr} oifname "$outbound" masquerade
"""


def boot_script(interface_id: str, vpc_cidr: str) -> str:
    """User data of a NAT instance: installs :func:`setup_script` as a systemd unit run at every boot."""
    unit = """[Unit]
Description=NAT for the VPC's private subnets
After=network-online.target
Wants=network-online.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/vpc-nat
[Install]
WantedBy=multi-user.target
"""
    return f"""#!/bin/bash
set -euo pipefail
# No key pair is given, and nothing should listen either: Session Manager is the only way in.
systemctl disable --now sshd.service
systemctl mask sshd.service
dnf install -y nftables
cat > /usr/local/sbin/vpc-nat <<'SETUP'
{setup_script(interface_id, vpc_cidr)}SETUP
chmod 0700 /usr/local/sbin/vpc-nat
cat > /etc/systemd/system/vpc-nat.service <<'UNIT'
{unit}UNIT
systemctl daemon-reload
systemctl enable --now vpc-nat.service
"""
