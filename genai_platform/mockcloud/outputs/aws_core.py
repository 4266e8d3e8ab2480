"""Account-level look-ups and the network types of the Vpc component."""

import string
from typing import Any

from genai_platform.mockcloud.cloud import MockContext, answers, computes

# Real zone ids differ per account; this is us-east-1's usual mapping shape ("use1-az1").
_ZONE_LETTERS = string.ascii_lowercase[:6]


@answers("aws:index/getRegion:getRegion")
def _region(context: MockContext) -> dict[str, Any]:
    region = context.inputs.get("region") or context.inputs.get("name") or context.region
    return {"id": region, "name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
            "description": region}


@answers("aws:index/getAvailabilityZones:getAvailabilityZones")
def _zones(context: MockContext) -> dict[str, Any]:
    short = "".join(part[0] for part in context.region.split("-")[:2]) + context.region.split("-")[-1]
    return {
        "id": context.region,
        "names": [f"{context.region}{letter}" for letter in _ZONE_LETTERS],
        "zoneIds": [f"{short}-az{index}" for index in range(1, len(_ZONE_LETTERS) + 1)],
        "groupNames": [context.region],
        "state": "available",
    }


@answers("aws:index/getCallerIdentity:getCallerIdentity")
def _caller(context: MockContext) -> dict[str, Any]:
    return {"id": context.account, "accountId": context.account,
            "arn": f"arn:aws:iam::{context.account}:role/genai-platform-deployer", "userId": "AROAEXAMPLEDEPLOYER"}


@answers("aws:elb/getServiceAccount:getServiceAccount")
def _elb_account(context: MockContext) -> dict[str, Any]:
    # us-east-1's Elastic Load Balancing account, which writes access logs in the older regions.
    return {"id": "127311923021", "arn": "arn:aws:iam::127311923021:root", "region": context.region}


@answers("aws:index/getPartition:getPartition")
def _partition(context: MockContext) -> dict[str, Any]:
    return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}


def _ec2(prefix: str, kind: str):
    """Outputs of an EC2 resource whose id is ``<prefix>-<17 hex>`` and ARN ``...:<kind>/<id>``."""

    def outputs(context: MockContext) -> dict[str, Any]:
        resource_id = f"{prefix}-0{context.hex_id(16)}"
        return {"id": resource_id, "arn": f"arn:aws:ec2:{context.region}:{context.account}:{kind}/{resource_id}",
                "ownerId": context.account}

    return outputs


for _token, _prefix, _kind in [
    ("aws:ec2/subnet:Subnet", "subnet", "subnet"),
    ("aws:ec2/internetGateway:InternetGateway", "igw", "internet-gateway"),
    ("aws:ec2/routeTable:RouteTable", "rtb", "route-table"),
    ("aws:ec2/securityGroup:SecurityGroup", "sg", "security-group"),
    ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "sg", "security-group"),
    ("aws:ec2/networkAcl:NetworkAcl", "acl", "network-acl"),
    ("aws:ec2/defaultNetworkAcl:DefaultNetworkAcl", "acl", "network-acl"),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", "vpce", "vpc-endpoint"),
    ("aws:ec2/flowLog:FlowLog", "fl", "vpc-flow-log"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "lt", "launch-template"),
    ("aws:ec2/networkInterface:NetworkInterface", "eni", "network-interface"),
]:
    computes(_token)(_ec2(_prefix, _kind))


@computes("aws:ec2/vpc:Vpc")
def _vpc(context: MockContext) -> dict[str, Any]:
    outputs = _ec2("vpc", "vpc")(context)
    outputs.update(
        defaultSecurityGroupId=f"sg-0{context.hex_id(16)[::-1]}",
        defaultNetworkAclId=f"acl-0{context.hex_id(16)[::-1]}",
        mainRouteTableId=f"rtb-0{context.hex_id(16)[::-1]}",
    )
    return outputs


@computes("aws:ec2/eip:Eip")
def _eip(context: MockContext) -> dict[str, Any]:
    octet = int(context.hex_id(2), 16) % 254 + 1
    return {"id": f"eipalloc-0{context.hex_id(16)}", "allocationId": f"eipalloc-0{context.hex_id(16)}",
            "publicIp": f"203.0.113.{octet}"}


@computes("aws:ec2/natGateway:NatGateway")
def _nat(context: MockContext) -> dict[str, Any]:
    return {"id": f"nat-0{context.hex_id(16)}", "publicIp": "203.0.113.10"}


@computes("aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation")
def _route(context: MockContext) -> dict[str, Any]:
    return {"id": f"r-rtb-0{context.hex_id(16)}"}


@computes("aws:cloudwatch/logGroup:LogGroup")
def _log_group(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    return {"id": name, "name": name, "arn": f"arn:aws:logs:{context.region}:{context.account}:log-group:{name}"}


@computes("aws:iam/role:Role")
def _role(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    path = context.inputs.get("path", "/")
    return {"id": name, "name": name, "arn": f"arn:aws:iam::{context.account}:role{path}{name}",
            "uniqueId": f"AROA{context.hex_id(17).upper()}"}


@computes("aws:iam/policy:Policy")
def _policy(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    arn = f"arn:aws:iam::{context.account}:policy/{name}"
    return {"id": arn, "name": name, "arn": arn, "policyId": f"ANPA{context.hex_id(17).upper()}"}


@computes("aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _role_policy(context: MockContext) -> dict[str, Any]:
    return {"id": f"{context.inputs.get('role', 'role')}:{context.physical_name}"}


@computes("aws:rds/subnetGroup:SubnetGroup")
def _db_subnet_group(context: MockContext) -> dict[str, Any]:
    # RDS lower-cases subnet group names.
    name = context.physical_name.lower()
    return {"id": name, "name": name, "arn": f"arn:aws:rds:{context.region}:{context.account}:subgrp:{name}"}


@computes("aws:kms/key:Key")
def _kms_key(context: MockContext) -> dict[str, Any]:
    h = context.hex_id(32)
    key_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{context.region}:{context.account}:key/{key_id}"}


@computes("aws:kms/alias:Alias")
def _kms_alias(context: MockContext) -> dict[str, Any]:
    name = context.inputs.get("name", f"alias/{context.name}")
    return {"id": name, "arn": f"arn:aws:kms:{context.region}:{context.account}:{name}",
            "targetKeyArn": f"arn:aws:kms:{context.region}:{context.account}:key/{context.inputs.get('targetKeyId', '')}"}


@computes("aws:sns/topic:Topic")
def _topic(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    arn = f"arn:aws:sns:{context.region}:{context.account}:{name}"
    return {"id": arn, "name": name, "arn": arn}
