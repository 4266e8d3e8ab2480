"""Building blocks the data components (PostgresDatabase, QueueWithDlq, RedisCache, Bucket) share.

Private to ``genai_platform.components.aws``: ARN and non-empty checks, a rotating KMS key,
the deny-without-TLS statement, IAM policy JSON, and a security group that admits one port only
from named security groups.
"""

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_aws import ec2, kms, vpc

from genai_platform.components.tagging import child_tags

POLICY_VERSION = "2012-10-17"

EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
"""An e-mail address SNS will accept as a subscription endpoint."""

KEY_ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
]
"""What the account root (through IAM policies) may do with a key it owns: manage and use it, never ``kms:*``,
so a key policy cannot lock the account out and grants nothing beyond key administration and use."""


def check_not_empty(argument: str, values: Sequence[Any], fix: str) -> None:
    if not values:
        raise ValueError(f"{argument}=[] is empty: {fix}.")


def check_kms_key_arn(argument: str, value: Any) -> None:
    """Plain strings must be key ARNs: IAM statements and some services cannot resolve aliases or ids."""
    if isinstance(value, str) and not (value.startswith("arn:") and ":kms:" in value and ":key/" in value):
        raise ValueError(
            f"{argument}={value!r} is not a KMS key ARN: pass arn:aws:kms:<region>:<account>:key/<key-id> "
            "(IAM policies cannot name a key by alias or bare id)."
        )


def rotating_key(name: str, description: str, tags: Mapping[str, str], parent: pulumi.Resource,
                 protect: bool, provider: pulumi.ProviderResource | None = None) -> kms.Key:
    """A customer-managed symmetric key with yearly rotation and the longest deletion window.

    The default key policy delegates to IAM in this account, so workload roles get ``kms:Decrypt``
    through the policy JSON the components publish, not through key policy edits. ``provider`` creates the
    key in another region (a disaster-recovery copy needs a key in its own region).
    """
    return kms.Key(
        name,
        description=description,
        enable_key_rotation=True,  # checkov CKV_AWS_7
        deletion_window_in_days=30,  # the maximum: a mistaken deletion can be cancelled for a month
        tags=child_tags(name, tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, provider=provider),
    )


def policy_json(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": POLICY_VERSION, "Statement": statements})


def allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def access_policy_json(grants: Sequence[tuple[str, list[str], pulumi.Input[str]]], key_arn: pulumi.Input[str] | None,
                       kms_actions: list[str]) -> pulumi.Output[str]:
    """Least-privilege IAM policy: one Allow per ``(sid, actions, resource ARN)``, plus ``kms_actions``
    on ``key_arn`` when the data is encrypted with a customer-managed key."""

    def document(values: list[str]) -> str:
        *arns, key = values
        statements = [allow(sid, actions, [arn]) for (sid, actions, _), arn in zip(grants, arns, strict=True)]
        if key_arn is not None:
            statements.append(allow("UseKey", kms_actions, [key]))
        return policy_json(statements)

    return pulumi.Output.all(*(resource for _, _, resource in grants), key_arn or "").apply(document)


def deny_insecure_transport(service: str, resources: list[str]) -> dict[str, Any]:
    """Deny every call to ``resources`` that does not arrive over TLS.

    ``<service>:*`` in a Deny is the AWS-documented form: listing actions would leave new ones open.
    """
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": f"{service}:*",
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def security_group_admitting(name: str, *, vpc_id: pulumi.Input[str], port: int,
                             source_security_group_ids: Sequence[pulumi.Input[str]], description: str,
                             tags: Mapping[str, str], parent: pulumi.Resource) -> ec2.SecurityGroup:
    """A security group admitting TCP ``port`` only from ``source_security_group_ids``; no CIDR, no egress.

    The provider revokes AWS's default allow-all egress rule on create; a data store answers on
    established connections and never needs to open its own.
    Rules are separate resources (one per source), so adding a source never rewrites the others.
    """
    group = ec2.SecurityGroup(
        name,
        vpc_id=vpc_id,
        description=description,
        tags=child_tags(name, tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    for index, source in enumerate(source_security_group_ids):
        admit_client(f"{name}-from-{index}", group_id=group.id, source_security_group_id=source, port=port,
                     tags=tags, parent=parent)
    return group


def admit_client(name: str, *, group_id: pulumi.Input[str], source_security_group_id: pulumi.Input[str], port: int,
                 tags: Mapping[str, str], parent: pulumi.Resource) -> vpc.SecurityGroupIngressRule:
    """One ingress rule: TCP ``port`` into ``group_id`` from one client security group."""
    return vpc.SecurityGroupIngressRule(
        name,
        security_group_id=group_id,
        referenced_security_group_id=source_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=f"TCP {port} from an allowed client security group",
        tags=child_tags(name, tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
