"""KMS: customer-managed keys rotate their key material."""

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import MANDATORY, RuleContext, resource_rule
from genai_platform.policies.values import flags_not_true

KEY = "aws:kms/key:Key"


@resource_rule(
    name="kms-key-rotation",
    types=[KEY],
    description="Symmetric customer-managed KMS keys rotate yearly (checkov CKV_AWS_7, cdk-nag AwsSolutions-KMS5, "
                "awsguard cmk-backing-key-rotation-enabled).",
    severity="medium",
    levels=MANDATORY,
    remediation="Set enable_key_rotation=True (old key material stays available for decryption).",
)
def key_rotation(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    # Asymmetric and HMAC keys cannot rotate automatically.
    spec = args.props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT":
        yield from flags_not_true(args.props, "enableKeyRotation")
