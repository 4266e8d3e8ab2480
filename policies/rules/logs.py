"""CloudWatch Logs: every group expires its data; KMS encryption is advised."""

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import ADVISORY, MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import number

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@resource_rule(
    name="logs-retention-set",
    types=[LOG_GROUP],
    description="Log groups set a retention, at least minRetentionDays (1 day, 30 in prod); 'never expire' "
                "grows the bill forever (checkov CKV_AWS_66, CKV_AWS_338 asks a year).",
    severity="medium",
    levels=MANDATORY,
    remediation="Set retention_in_days to a CloudWatch value (e.g. 30, 90, 365) of at least the minimum.",
    settings={"minRetentionDays": Setting({"type": "integer", "minimum": 1}, 1, prod=30,
                                          description="Shortest retention accepted (1 day, 30 in prod).")},
)
def retention_set(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    days = number(args.props.get("retentionInDays"))
    if not days:
        yield "retentionInDays is unset: the logs never expire."
    elif days < ctx["minRetentionDays"]:
        yield f"retentionInDays={int(days)} is below {ctx['minRetentionDays']} days for {ctx.environment}."


@resource_rule(
    name="logs-kms-encryption",
    types=[LOG_GROUP],
    description="Log groups are encrypted with a customer-managed KMS key (checkov CKV_AWS_158); "
                "CloudWatch already encrypts with its own key.",
    severity="low",
    levels=ADVISORY,
    remediation="Set kms_key_id=<key arn>; the key policy must allow logs.<region>.amazonaws.com.",
)
def kms_encryption(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if not args.props.get("kmsKeyId"):
        yield "kmsKeyId is unset."
