"""The self-managed Pulumi backend: an S3 state bucket and a KMS key for the secrets provider.

Converges, never weakens. Every setting is read first and only written when it is missing or weaker:

* public access block, BucketOwnerEnforced and versioning only have one strictest value; that value is set.
* default encryption: a bucket that already uses a customer-managed KMS key (ours or another, or DSSE-KMS)
  keeps that key; only a missing configuration, SSE-S3 or the AWS-managed ``aws/s3`` key is replaced by SSE-KMS
  with our key. Bucket Key is turned on where supported (it cuts KMS request costs, the key stays the same).
* bucket policy: MERGE, never replace. Every existing statement is kept; a deny-non-TLS statement is appended
  unless an equivalent one is already there. If a statement already uses our Sid but says something else, we
  REFUSE (exit 2) instead of overwriting someone's hand edit.
* lifecycle: our rule (by ID) is added or updated and every other rule is kept; a noncurrent-version window
  longer than the one asked for is kept (shortening history needs a deliberate manual change).
* KMS key: an existing key behind the alias is used if it is an enabled, customer-managed symmetric key;
  rotation is turned on if off and never turned off. The key is tagged with its alias when it is created, so a
  run stopped before the alias exists leaves a key the next run finds and adopts instead of making a second one.

Refusals (exit 2): a bucket owned by another account, a bucket in another region, a foreign Sid collision, an
unusable key behind the alias.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from genai_platform.aws_ops.errors import OpsError, call, shorten
from genai_platform.aws_ops.session import AwsSession

DEFAULT_KMS_ALIAS = "alias/pulumi-secrets"
DEFAULT_NONCURRENT_DAYS = 90
ABORT_MULTIPART_DAYS = 7
LIFECYCLE_RULE_ID = "genai-infra-state-history"
TLS_SID = "DenyInsecureTransport"
STACK_NAMES = ("dev", "staging", "prod")

CREATED, UPDATED, UNCHANGED = "created", "updated", "exists, ok"

FULL_PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
}
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_KMS_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")


@dataclass(frozen=True)
class BackendSpec:
    """What ``genai-infra bootstrap`` converges to."""

    bucket: str
    """State bucket name: lowercase letters, digits and hyphens. Dots are refused: they break TLS
    certificate matching on virtual-hosted S3 URLs."""
    region: str
    """Region of the bucket and the key (SSE-KMS needs the key in the bucket's region)."""
    kms_alias: str = DEFAULT_KMS_ALIAS
    """Alias of the customer-managed key used for bucket encryption and Pulumi's secrets provider."""
    noncurrent_days: int = DEFAULT_NONCURRENT_DAYS
    """Days a superseded state file version is kept: the window in which a bad ``pulumi up`` can be
    undone by restoring an older checkpoint. 90 days costs cents for state files."""

    def __post_init__(self) -> None:
        if not _BUCKET_NAME.match(self.bucket) or self.bucket.startswith(("xn--", "sthree-")):
            raise ValueError(f"--bucket {shorten(repr(self.bucket))} is not a valid state bucket name: use 3-63 "
                             "lowercase letters, digits and hyphens, starting and ending with a letter or digit.")
        if not _KMS_ALIAS.match(self.kms_alias) or self.kms_alias.startswith("alias/aws/"):
            raise ValueError(f"--kms-alias {shorten(repr(self.kms_alias))} is not a customer alias: use alias/<name> "
                             "(letters, digits, /, _ and -), not alias/aws/... which AWS manages.")
        if self.noncurrent_days < 1:
            raise ValueError(f"--noncurrent-days {self.noncurrent_days} is out of range: use 1 or more.")

    @property
    def login_command(self) -> str:
        # Quoted: an unquoted '&' would background the command in every POSIX shell.
        return f"pulumi login 's3://{self.bucket}?region={self.region}&awssdk=v2'"

    def stack_init_command(self, stack: str) -> str:
        return (f'pulumi stack init {stack} --secrets-provider '
                f'"awskms://{self.kms_alias}?region={self.region}"')


@dataclass(frozen=True)
class Item:
    """One converged setting and what bootstrap did to it."""

    name: str
    status: str
    detail: str = ""


def bootstrap_backend(aws: AwsSession, spec: BackendSpec) -> list[Item]:
    """Create or harden the key, then the bucket (whose encryption needs the key's ARN)."""
    key_items, key_arn = ensure_kms_key(aws, spec)
    return key_items + ensure_bucket(aws, spec, key_arn)


# --- KMS ------------------------------------------------------------------------------------------

ALIAS_TAG = "genai-infra:kms-alias"
"""Tag set on the key at creation (CreateKey's own Tags, so no key ever exists untagged): the alias it is meant to
carry. A run stopped between CreateKey and CreateAlias leaves a key that only this tag can find again."""


def ensure_kms_key(aws: AwsSession, spec: BackendSpec) -> tuple[list[Item], str]:
    kms = aws.client("kms")
    alias_arn = aws.arn("kms", spec.kms_alias)
    found = call("kms:DescribeKey", alias_arn, kms.describe_key, absent=("NotFoundException",),
                 KeyId=spec.kms_alias)
    if found is None:
        orphan = _half_made_key(aws, spec)
        if orphan is None:
            key = call("kms:CreateKey", aws.arn("kms", "key/*"), kms.create_key,
                       Description=f"Pulumi state and secrets ({spec.bucket})", KeyUsage="ENCRYPT_DECRYPT",
                       KeySpec="SYMMETRIC_DEFAULT",
                       Tags=[{"TagKey": "ManagedBy", "TagValue": "genai-infra"},
                             {"TagKey": "Purpose", "TagValue": "pulumi-secrets"},
                             {"TagKey": ALIAS_TAG, "TagValue": spec.kms_alias}])["KeyMetadata"]
            first = Item(f"kms key {spec.kms_alias}", CREATED, key["Arn"])
        else:
            key = orphan
            first = Item(f"kms key {spec.kms_alias}", UPDATED,
                         f"{key['Arn']}: adopted the key an interrupted run created, alias added")
        # Alias before rotation: if we stop in between, the next run finds the key by its alias and
        # finishes the job.
        call("kms:CreateAlias", alias_arn, kms.create_alias, AliasName=spec.kms_alias, TargetKeyId=key["KeyId"])
        return [first, *_rotation(aws, key, created=orphan is None)], key["Arn"]

    key = found["KeyMetadata"]
    problem = _unusable_key_reason(key)
    if problem:
        raise OpsError(f"{spec.kms_alias} points at {key['Arn']}, which {problem}: "
                       "fix the key or pass another --kms-alias")
    return [Item(f"kms key {spec.kms_alias}", UNCHANGED, key["Arn"]), *_rotation(aws, key, created=False)], key["Arn"]


def _rotation(aws: AwsSession, key: dict[str, Any], *, created: bool) -> list[Item]:
    kms = aws.client("kms")
    if not created:
        rotation = call("kms:GetKeyRotationStatus", key["Arn"], kms.get_key_rotation_status, KeyId=key["KeyId"])
        if rotation["KeyRotationEnabled"]:
            return [Item("kms key rotation", UNCHANGED, "on")]
    call("kms:EnableKeyRotation", key["Arn"], kms.enable_key_rotation, KeyId=key["KeyId"])
    return [Item("kms key rotation", CREATED if created else UPDATED, "yearly" if created else "turned on (yearly)")]


def _half_made_key(aws: AwsSession, spec: BackendSpec) -> dict[str, Any] | None:
    """The oldest usable key this tool tagged for ``spec.kms_alias`` that has no alias yet, if any."""
    kms = aws.client("kms")
    pages = kms.get_paginator("list_keys").paginate()
    keys = call("kms:ListKeys", aws.arn("kms", "key/*"), lambda: [k for page in pages for k in page["Keys"]])
    ours = []
    for listed in keys:
        tags = call("kms:ListResourceTags", listed["KeyArn"], kms.list_resource_tags,
                    absent=("NotFoundException", "AccessDeniedException"), KeyId=listed["KeyId"])
        if {"TagKey": ALIAS_TAG, "TagValue": spec.kms_alias} not in (tags or {}).get("Tags", []):
            continue
        key = call("kms:DescribeKey", listed["KeyArn"], kms.describe_key, KeyId=listed["KeyId"])["KeyMetadata"]
        if not _unusable_key_reason(key):
            ours.append(key)
    return min(ours, key=lambda key: key["CreationDate"]) if ours else None


def _unusable_key_reason(key: dict[str, Any]) -> str:
    if key.get("KeyManager") != "CUSTOMER":
        return "is AWS-managed (its policy and rotation are not ours to control)"
    if key.get("KeyState") != "Enabled":
        return f"is {key.get('KeyState')} (aws kms cancel-key-deletion / enable-key restores it)"
    # moto omits KeyUsage for keys created without it; AWS always returns it.
    symmetric = (key.get("KeySpec", "SYMMETRIC_DEFAULT"), key.get("KeyUsage", "ENCRYPT_DECRYPT"))
    if symmetric != ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"):
        return "is not a symmetric ENCRYPT_DECRYPT key (S3 and Pulumi need one)"
    return ""


# --- S3 -------------------------------------------------------------------------------------------

@dataclass
class _Bucket:
    aws: AwsSession
    spec: BackendSpec
    created: bool

    @property
    def s3(self) -> Any:
        return self.aws.client("s3")

    @property
    def arn(self) -> str:
        return self.aws.arn("s3", self.spec.bucket)

    def read(self, action: str, operation: str, absent: str = "") -> Any:
        return call(action, self.arn, getattr(self.s3, operation), absent=(absent,) if absent else (),
                    Bucket=self.spec.bucket)

    def converge(self, name: str, compliant: bool, detail: str, action: str, operation: str,
                 **params: Any) -> Item:
        """Write ``params`` with ``operation`` unless already compliant. Everything on a bucket made in
        this run is reported as created; on an existing bucket a write is an update."""
        if not compliant:
            call(action, self.arn, getattr(self.s3, operation), Bucket=self.spec.bucket, **params)
        if self.created:
            return Item(name, CREATED, detail)
        return Item(name, UNCHANGED if compliant else UPDATED, detail)


def ensure_bucket(aws: AwsSession, spec: BackendSpec, key_arn: str) -> list[Item]:
    bucket = _Bucket(aws, spec, created=_create_bucket_if_missing(aws, spec))
    first = Item(f"s3 bucket {spec.bucket}", CREATED if bucket.created else UNCHANGED, spec.region)
    # Ownership and public access first: they decide who could read objects while the rest is applied.
    return [first, _ownership(bucket), _public_access_block(bucket), _versioning(bucket),
            _encryption(bucket, key_arn), _tls_policy(bucket), _lifecycle(bucket)]


def _create_bucket_if_missing(aws: AwsSession, spec: BackendSpec) -> bool:
    s3, arn, account = aws.client("s3"), aws.arn("s3", spec.bucket), aws.account_id
    # ExpectedBucketOwner turns "someone else's bucket" into a 403 instead of silently writing our
    # settings (or, worse, our state) into a bucket another account controls.
    foreign = (f"the bucket {spec.bucket} exists but is not owned by account {account} (or this caller may "
               f"not s3:ListBucket it): choose another --bucket name, or if the bucket is yours grant "
               f"s3:ListBucket on {arn}")
    head = call("s3:ListBucket", arn, s3.head_bucket, absent=("404", "NoSuchBucket", "NotFound"),
                refuse={"403": foreign, "AccessDenied": foreign, "Forbidden": foreign},
                Bucket=spec.bucket, ExpectedBucketOwner=account)
    if head is not None:
        where = head["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region", spec.region)
        if where != spec.region:
            raise OpsError(f"the bucket {spec.bucket} is in {where}, not {spec.region}: pass --region {where} "
                           "(the key and the pulumi login URL must match the bucket's region)")
        return False
    params: dict[str, Any] = {"Bucket": spec.bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    if spec.region != "us-east-1":  # us-east-1 rejects its own name as a LocationConstraint
        params["CreateBucketConfiguration"] = {"LocationConstraint": spec.region}
    taken = f"the bucket name {spec.bucket} is taken by another AWS account (names are global): choose another --bucket"
    created = call("s3:CreateBucket", arn, s3.create_bucket, absent=("BucketAlreadyOwnedByYou",),
                   refuse={"BucketAlreadyExists": taken}, **params)
    return created is not None


def _ownership(bucket: _Bucket) -> Item:
    current = bucket.read("s3:GetBucketOwnershipControls", "get_bucket_ownership_controls",
                          "OwnershipControlsNotFoundError")
    rules = (current or {}).get("OwnershipControls", {}).get("Rules", [])
    return bucket.converge(
        "object ownership", any(rule.get("ObjectOwnership") == "BucketOwnerEnforced" for rule in rules),
        "BucketOwnerEnforced (ACLs off)", "s3:PutBucketOwnershipControls", "put_bucket_ownership_controls",
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})


def _public_access_block(bucket: _Bucket) -> Item:
    current = bucket.read("s3:GetBucketPublicAccessBlock", "get_public_access_block",
                          "NoSuchPublicAccessBlockConfiguration")
    flags = (current or {}).get("PublicAccessBlockConfiguration", {})
    return bucket.converge(
        "public access block", all(flags.get(name) for name in FULL_PUBLIC_ACCESS_BLOCK), "all four on",
        "s3:PutBucketPublicAccessBlock", "put_public_access_block",
        PublicAccessBlockConfiguration=FULL_PUBLIC_ACCESS_BLOCK)


def _versioning(bucket: _Bucket) -> Item:
    current = bucket.read("s3:GetBucketVersioning", "get_bucket_versioning")
    # Only ever written when not Enabled, so MFA delete (which requires Enabled) is never touched.
    return bucket.converge(
        "versioning", current.get("Status") == "Enabled", "Enabled",
        "s3:PutBucketVersioning", "put_bucket_versioning", VersioningConfiguration={"Status": "Enabled"})


def _encryption(bucket: _Bucket, key_arn: str) -> Item:
    current = bucket.read("s3:GetEncryptionConfiguration", "get_bucket_encryption",
                          "ServerSideEncryptionConfigurationNotFoundError")
    rules = (current or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    rule = rules[0] if rules else {}
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    algorithm, kept_key = default.get("SSEAlgorithm"), default.get("KMSMasterKeyID", "")
    customer_key = algorithm in ("aws:kms", "aws:kms:dsse") and kept_key and "alias/aws/" not in kept_key
    # DSSE-KMS does not support Bucket Keys; it is stronger than SSE-KMS, so it stays as it is.
    compliant = bool(customer_key) and (algorithm == "aws:kms:dsse" or bool(rule.get("BucketKeyEnabled")))
    use_key = kept_key if customer_key else key_arn
    wanted = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": use_key},
              "BucketKeyEnabled": True}
    detail = f"{algorithm} with {kept_key}" if compliant else f"aws:kms with {use_key}, bucket key on"
    return bucket.converge("default encryption", compliant, detail,
                           "s3:PutEncryptionConfiguration", "put_bucket_encryption",
                           ServerSideEncryptionConfiguration={"Rules": [wanted]})


def tls_statement(bucket_arn: str, sid: str = TLS_SID) -> dict[str, Any]:
    """Deny every S3 action over plain HTTP, on the bucket and its objects."""
    return {"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def denies_insecure_transport(statement: dict[str, Any], bucket_arn: str) -> bool:
    """True when ``statement`` is at least as strict as :func:`tls_statement` (extra conditions would
    narrow a deny, so only the exact condition counts)."""
    def as_set(value: Any) -> set[Any]:
        return set(value) if isinstance(value, list) else {value}

    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and as_set(principal.get("AWS")) == {"*"})
    resources = as_set(statement.get("Resource"))
    condition = statement.get("Condition", {})
    insecure = {key.lower(): str(value).lower() for key, value in condition.get("Bool", {}).items()}
    return (statement.get("Effect") == "Deny" and everyone
            and bool(as_set(statement.get("Action")) & {"s3:*", "*"})
            and ("*" in resources or {bucket_arn, f"{bucket_arn}/*"} <= resources)
            and list(condition) == ["Bool"] and insecure == {"aws:securetransport": "false"})


def _tls_policy(bucket: _Bucket) -> Item:
    current = bucket.read("s3:GetBucketPolicy", "get_bucket_policy", "NoSuchBucketPolicy")
    policy = json.loads(current["Policy"]) if current else {"Version": "2012-10-17", "Statement": []}
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    compliant = any(denies_insecure_transport(s, bucket.arn) for s in statements)
    if not compliant and any(s.get("Sid") == TLS_SID for s in statements):
        raise OpsError(f"the policy of {bucket.spec.bucket} has a statement {TLS_SID!r} that is not the deny-non-TLS "
                       "statement bootstrap expects: rename or fix that statement by hand, then re-run "
                       "(bootstrap merges policies and will not overwrite it)")
    kept = f", kept {len(statements)} existing statement(s)" if statements and not compliant else ""
    merged = {**policy, "Statement": [*statements, tls_statement(bucket.arn)]}
    return bucket.converge("bucket policy", compliant, f"denies non-TLS access{kept}",
                           "s3:PutBucketPolicy", "put_bucket_policy", Policy=json.dumps(merged))


def _lifecycle(bucket: _Bucket) -> Item:
    current = bucket.read("s3:GetLifecycleConfiguration", "get_bucket_lifecycle_configuration",
                          "NoSuchLifecycleConfiguration")
    rules = (current or {}).get("Rules", [])
    ours = next((rule for rule in rules if rule.get("ID") == LIFECYCLE_RULE_ID), None)
    kept_days = (ours or {}).get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", 0)
    days = max(bucket.spec.noncurrent_days, kept_days)
    wanted = {"ID": LIFECYCLE_RULE_ID, "Status": "Enabled", "Filter": {"Prefix": ""},
              "NoncurrentVersionExpiration": {"NoncurrentDays": days},
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS}}
    detail = f"noncurrent versions expire after {days} days, incomplete uploads aborted after {ABORT_MULTIPART_DAYS}"
    if days > bucket.spec.noncurrent_days:
        detail += f" (kept {days} > requested {bucket.spec.noncurrent_days})"
    others = [rule for rule in rules if rule.get("ID") != LIFECYCLE_RULE_ID]
    return bucket.converge("lifecycle", ours is not None and _same_rule(ours, wanted), detail,
                           "s3:PutLifecycleConfiguration", "put_bucket_lifecycle_configuration",
                           LifecycleConfiguration={"Rules": [*others, wanted]})


def _same_rule(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    fields = ("Status", "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload")
    scope = current.get("Filter", {"Prefix": current.get("Prefix", "")})
    return scope in ({}, {"Prefix": ""}) and all(current.get(field) == wanted[field] for field in fields)
