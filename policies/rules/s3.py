"""S3: no public buckets, TLS-only access, versioning for recovery, access logs in prod, KMS as advice.

Since provider v4 a bucket's settings are companion resources (public access block, versioning,
encryption, logging, policy), so most checks are stack rules that pair each bucket with them.
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs

from genai_platform.policies.registry import ADVISORY, MANDATORY, PROD_MANDATORY, RuleContext, resource_rule, stack_rule
from genai_platform.policies.stackview import Deferred, companions_by_target, identifiers, label, of_types
from genai_platform.policies.values import denies_insecure_transport, each_mapping, get, is_placeholder, is_true, peek

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)

_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
_PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
_PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
_KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@resource_rule(
    name="s3-public-access-block",
    types=[PUBLIC_ACCESS_BLOCK],
    description="S3 public access blocks turn on all four switches "
                "(checkov CKV_AWS_53/54/55/56, cdk-nag AwsSolutions-S2).",
    severity="critical",
    levels=MANDATORY,
    remediation="Set block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to True.",
)
def public_access_block(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    off = [flag for flag in _BLOCK_FLAGS if not is_true(args.props.get(flag))]
    if off:
        yield f"Public access block leaves {', '.join(off)} off."


@resource_rule(
    name="s3-no-public-acl",
    types=[*BUCKETS, *ACLS],
    description="No S3 ACL grants read or write to everyone or to any AWS account "
                "(checkov CKV_AWS_20/57, CKV2_AWS_43).",
    severity="critical",
    levels=MANDATORY,
    remediation="Use acl='private' (or no ACL with BucketOwnerEnforced ownership) and share through bucket "
                "policies naming principals.",
)
def no_public_acl(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    acl = args.props.get("acl")
    if acl in _PUBLIC_ACLS:
        yield f"acl={acl!r} makes the bucket readable by anyone."
    for grant in each_mapping(get(args.props, "accessControlPolicy.grants", [])):
        uri = get(grant, "grantee.uri")
        if uri in _PUBLIC_GRANTEES:
            yield f"An ACL grant gives {get(grant, 'permission', 'access')} to {uri}."


def _buckets_without(args: StackValidationArgs, companion_types: tuple[str, ...],
                     companion_ok: Callable[[Mapping[str, Any]], bool],
                     inline_ok: Callable[[Mapping[str, Any]], bool],
                     reference_key: str = "bucket") -> Iterator[PolicyResource]:
    """Buckets with neither a satisfying companion resource nor the inline (deprecated) setting.

    A setting unknown at preview is judged at the update; the rule then ends with the engine's note.
    """
    buckets = of_types(args, BUCKETS)
    found = companions_by_target(buckets, of_types(args, companion_types), [reference_key])
    deferred = Deferred()
    for bucket in buckets:
        if not deferred.check(inline_ok, bucket.props) and not any(deferred.check(companion_ok, c.props)
                                                                   for c in found[bucket.urn]):
            yield bucket
    deferred.raise_if_any()


@stack_rule(
    name="s3-bucket-has-public-access-block",
    description="Every S3 bucket has its own public access block, so a later ACL or policy change "
                "cannot make it public (checkov CKV2_AWS_6, cdk-nag AwsSolutions-S2).",
    severity="critical",
    levels=MANDATORY,
    remediation="Add an aws.s3.BucketPublicAccessBlock with bucket=<bucket>.id and all four flags True.",
)
def bucket_has_public_access_block(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    for bucket in _buckets_without(args, (PUBLIC_ACCESS_BLOCK,), lambda props: True, lambda props: False):
        yield bucket.urn, f"{label(bucket)} has no public access block."


def _versioning_enabled(props: Mapping[str, Any]) -> bool:
    return get(props, "versioningConfiguration.status") == "Enabled"


@stack_rule(
    name="s3-bucket-versioning",
    description="S3 buckets keep object versions so an overwrite or delete can be undone "
                "(checkov CKV_AWS_21). Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Add an aws.s3.BucketVersioning with versioning_configuration status='Enabled' "
                "(and a lifecycle rule expiring noncurrent versions to bound the cost).",
)
def bucket_versioning(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    for bucket in _buckets_without(args, VERSIONING, _versioning_enabled,
                                   lambda props: is_true(get(props, "versioning.enabled"))):
        yield bucket.urn, f"{label(bucket)} does not have versioning enabled."


def _uses_kms(props: Mapping[str, Any]) -> bool:
    rules = [*each_mapping(get(props, "rules", [])), *each_mapping([get(props, "rule")])]
    return any(get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") in _KMS_ALGORITHMS for rule in rules)


@stack_rule(
    name="s3-bucket-kms-encryption",
    description="S3 buckets encrypt by default with a KMS key, so reads need kms:Decrypt and are audited; "
                "S3 already applies SSE-S3 to every object (checkov CKV_AWS_145, CKV_AWS_19).",
    severity="low",
    levels=ADVISORY,
    remediation="Add an aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm='aws:kms' "
                "and bucket_key_enabled=True (bucket keys cut KMS request costs).",
)
def bucket_kms_encryption(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    for bucket in _buckets_without(args, ENCRYPTION, _uses_kms,
                                   lambda props: _uses_kms(get(props, "serverSideEncryptionConfiguration", {}))):
        yield bucket.urn, f"{label(bucket)} has no default SSE-KMS encryption."


@stack_rule(
    name="s3-bucket-access-logging",
    description="S3 buckets write server access logs, to answer who read what "
                "(checkov CKV_AWS_18, cdk-nag AwsSolutions-S1, awsguard s3-bucket-logging-enabled). "
                "A bucket receiving server access logs is exempt: logging it would log its own log deliveries. "
                "Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Add an aws.s3.BucketLogging with target_bucket=<the environment's access-log bucket> "
                "(Bucket(access_log_bucket=...) does; the target must be in the same region).",
)
def bucket_access_logging(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    sinks = _access_log_sinks(args)
    for bucket in _buckets_without(args, LOGGING, lambda props: True,
                                   lambda props: bool(get(props, "logging.targetBucket"))):
        if bucket.urn not in sinks:
            yield bucket.urn, f"{label(bucket)} has no server access logging."


def _access_log_sinks(args: StackValidationArgs) -> set[str]:
    """URNs of the buckets receiving some bucket's server access logs: named by a known ``targetBucket``, or,
    while the preview does not know it yet, any bucket the logging resource depends on."""
    buckets = of_types(args, BUCKETS)
    urns = {bucket.urn for bucket in buckets}
    targets, sinks = set(), set()
    for logging in of_types(args, LOGGING):
        target = peek(logging.props, "targetBucket")
        if isinstance(target, str) and not is_placeholder(target):
            targets.add(target)
        else:
            sinks |= {dependency.urn for dependency in logging.dependencies if dependency.urn in urns}
    targets |= {peek(bucket.props, "logging.targetBucket") for bucket in buckets}
    return sinks | {bucket.urn for bucket in buckets if identifiers(bucket) & targets}


@stack_rule(
    name="s3-bucket-tls-only",
    description="S3 bucket policies deny requests made without TLS "
                "(cdk-nag AwsSolutions-S10, checkov CKV_AWS_379).",
    severity="medium",
    levels=MANDATORY,
    remediation="Add an aws.s3.BucketPolicy with a Deny statement for s3:* on the bucket and its objects "
                "when Bool aws:SecureTransport is 'false'.",
)
def bucket_tls_only(args: StackValidationArgs, ctx: RuleContext) -> Iterator[tuple[str, str]]:
    for bucket in _buckets_without(args, POLICY, lambda props: denies_insecure_transport(props.get("policy")),
                                   lambda props: denies_insecure_transport(props.get("policy"))):
        yield bucket.urn, f"{label(bucket)} has no bucket policy denying aws:SecureTransport=false."
