"""The state-backend bootstrap against moto (in-process ``mock_aws``): converge, never weaken, refuse."""

import json
import re

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from genai_platform.aws_ops.backend import (
    CREATED, LIFECYCLE_RULE_ID, TLS_SID, UNCHANGED, UPDATED, BackendSpec, bootstrap_backend,
    denies_insecure_transport, tls_statement,
)
from genai_platform.aws_ops.errors import OpsError
from genai_platform.aws_ops.session import AwsSession
from genai_platform.aws_ops.testing import isolate_aws_env

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = "acme-pulumi-state"
ARN = f"arn:aws:s3:::{BUCKET}"
ALIAS = "alias/pulumi-secrets"
FULL_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
              "RestrictPublicBuckets": True}
OTHER_ALLOW = {"Sid": "ReadForCi", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"},
               "Action": "s3:GetObject", "Resource": f"{ARN}/*"}
EXTRA_DENY = {"Sid": "NoBucketDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
              "Resource": ARN}


@pytest.fixture
def aws(monkeypatch):
    isolate_aws_env(monkeypatch, region=REGION)
    with mock_aws():
        yield AwsSession(REGION)


@pytest.fixture
def s3(aws):
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def kms(aws):
    return boto3.client("kms", region_name=REGION)


def run(aws, **overrides):
    spec = BackendSpec(**{"bucket": BUCKET, "region": REGION, **overrides})
    return {item.name: item for item in bootstrap_backend(aws, spec)}


def statuses(items):
    return {name: item.status for name, item in items.items()}


def record_operations(aws):
    """Names of the API operations every client of ``aws`` makes from now on."""
    seen = []
    for service in ("s3", "kms", "sts"):
        aws.client(service).meta.events.register(
            "before-call", lambda model, **_: seen.append(model.name))
    return seen


def policy_statements(s3):
    return json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]


def test_from_nothing_creates_a_hardened_bucket_and_a_rotating_key(aws, s3, kms):
    items = run(aws)

    assert set(statuses(items).values()) == {CREATED}
    assert list(items) == [f"kms key {ALIAS}", "kms key rotation", f"s3 bucket {BUCKET}", "object ownership",
                           "public access block", "versioning", "default encryption", "bucket policy", "lifecycle"]
    key = kms.describe_key(KeyId=ALIAS)["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER" and key["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == FULL_BLOCK
    assert s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"] == [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
         "BucketKeyEnabled": True}]
    assert policy_statements(s3) == [tls_statement(ARN)]
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"] == [
        {"ID": LIFECYCLE_RULE_ID, "Filter": {"Prefix": ""}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]


def test_second_run_reads_only_and_reports_everything_unchanged(aws):
    run(aws)
    operations = record_operations(aws)

    items = run(aws)

    assert set(statuses(items).values()) == {UNCHANGED}
    assert operations and all(re.match(r"^(Get|Head|Describe)", name) for name in operations), operations


def test_weaker_bucket_is_hardened_and_keeps_its_other_statements_and_rules(aws, s3):
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION},
                     ObjectOwnership="ObjectWriter")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        **FULL_BLOCK, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [OTHER_ALLOW, EXTRA_DENY]}))
    logs_rule = {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [logs_rule]})

    items = run(aws)

    assert statuses(items) == {
        f"kms key {ALIAS}": CREATED, "kms key rotation": CREATED, f"s3 bucket {BUCKET}": UNCHANGED,
        "object ownership": UPDATED, "public access block": UPDATED, "versioning": UPDATED,
        "default encryption": UPDATED, "bucket policy": UPDATED, "lifecycle": UPDATED}
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == FULL_BLOCK
    assert s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    encryption = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert policy_statements(s3) == [OTHER_ALLOW, EXTRA_DENY, tls_statement(ARN)]
    assert items["bucket policy"].detail == "denies non-TLS access, kept 2 existing statement(s)"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [rule["ID"] for rule in rules] == ["logs", LIFECYCLE_RULE_ID] and rules[0] == logs_rule
    assert statuses(run(aws)) == {name: UNCHANGED for name in items}


def test_stricter_settings_are_kept(aws, s3, kms):
    own_key = kms.create_key(Description="team key")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": own_key},
         "BucketKeyEnabled": True}]})
    long_history = {"ID": LIFECYCLE_RULE_ID, "Filter": {"Prefix": ""}, "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [long_history]})
    strict_tls = {**tls_statement(ARN), "Sid": "TeamTls", "Action": "*", "Resource": "*"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [strict_tls]}))

    items = run(aws, noncurrent_days=30)

    assert items["default encryption"].status == UNCHANGED
    assert items["default encryption"].detail == f"aws:kms with {own_key}"
    assert items["lifecycle"].status == UNCHANGED
    assert items["lifecycle"].detail.endswith("(kept 365 > requested 30)")
    assert items["bucket policy"].status == UNCHANGED
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"] == [long_history]
    assert policy_statements(s3) == [strict_tls]


def test_customer_key_without_bucket_key_keeps_the_key_and_turns_bucket_key_on(aws, s3, kms):
    own_key = kms.create_key(Description="team key")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": own_key}}]})

    assert run(aws)["default encryption"].status == UPDATED
    assert s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"] == [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": own_key},
         "BucketKeyEnabled": True}]


def test_existing_key_without_rotation_is_reused_and_rotation_turned_on(aws, kms):
    key = kms.create_key(Description="made by hand")["KeyMetadata"]
    kms.create_alias(AliasName=ALIAS, TargetKeyId=key["KeyId"])

    items = run(aws)

    assert items[f"kms key {ALIAS}"].status == UNCHANGED and items[f"kms key {ALIAS}"].detail == key["Arn"]
    assert items["kms key rotation"].status == UPDATED
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    assert len(kms.list_keys()["Keys"]) == 1


def test_key_pending_deletion_is_refused(aws, kms):
    key = kms.create_key(Description="doomed")["KeyMetadata"]
    kms.create_alias(AliasName=ALIAS, TargetKeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)

    with pytest.raises(OpsError) as refused:
        run(aws)

    assert str(refused.value) == (
        f"{ALIAS} points at {key['Arn']}, which is PendingDeletion (aws kms cancel-key-deletion / enable-key "
        "restores it): fix the key or pass another --kms-alias")


def test_bucket_of_another_account_is_refused_without_touching_it(aws, monkeypatch):
    # moto ignores ExpectedBucketOwner; with cross-account access off it answers another account's bucket
    # with the 403 that real S3 gives for an ExpectedBucketOwner mismatch.
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
    foreign = boto3.client("s3", region_name=REGION)
    foreign.meta.events.register("before-sign.s3", lambda request, **_: request.headers.__setitem__(
        "x-moto-account-id", "111122223333"))
    foreign.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})

    with pytest.raises(OpsError) as refused:
        run(aws)

    assert str(refused.value) == (
        f"the bucket {BUCKET} exists but is not owned by account {ACCOUNT} (or this caller may not "
        f"s3:ListBucket it): choose another --bucket name, or if the bucket is yours grant s3:ListBucket on {ARN}")
    with pytest.raises(foreign.exceptions.ClientError, match="NoSuchBucketPolicy"):
        foreign.get_bucket_policy(Bucket=BUCKET)


def stubbed_s3(aws):
    aws.account_id  # resolve through moto before S3 is stubbed
    stubber = Stubber(aws.client("s3"))
    stubber.activate()
    return stubber


def test_head_bucket_asks_for_the_callers_account_as_owner(aws):
    stubber = stubbed_s3(aws)
    stubber.add_client_error("head_bucket", service_error_code="403", http_status_code=403,
                             expected_params={"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT})

    with pytest.raises(OpsError, match=f"^the bucket {BUCKET} exists but is not owned by account {ACCOUNT} "):
        run(aws)
    stubber.assert_no_pending_responses()


def test_bucket_name_taken_globally_is_refused(aws):
    stubber = stubbed_s3(aws)
    stubber.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    stubber.add_client_error("create_bucket", service_error_code="BucketAlreadyExists", http_status_code=409)

    with pytest.raises(OpsError) as refused:
        run(aws)

    assert str(refused.value) == (f"the bucket name {BUCKET} is taken by another AWS account (names are global): "
                                  "choose another --bucket")


def test_bucket_in_another_region_is_refused(aws):
    boto3.client("s3", region_name="us-west-2").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})

    with pytest.raises(OpsError) as refused:
        run(aws)

    assert str(refused.value) == (f"the bucket {BUCKET} is in us-west-2, not {REGION}: pass --region us-west-2 "
                                  "(the key and the pulumi login URL must match the bucket's region)")


def test_a_hand_edited_statement_with_our_sid_is_refused_not_overwritten(aws, s3):
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    objects_only = {**tls_statement(ARN), "Resource": f"{ARN}/*"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [objects_only]}))

    with pytest.raises(OpsError, match=f"^the policy of {BUCKET} has a statement '{TLS_SID}' that is not"):
        run(aws)
    assert policy_statements(s3) == [objects_only]


def test_us_east_1_bucket_is_created_without_location_constraint(monkeypatch):
    isolate_aws_env(monkeypatch, region="us-east-1")
    with mock_aws():
        items = run(AwsSession("us-east-1"), region="us-east-1")
        assert items[f"s3 bucket {BUCKET}"].status == CREATED
        assert boto3.client("s3").head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPHeaders"][
            "x-amz-bucket-region"] == "us-east-1"


def test_next_step_commands_are_quoted_for_the_shell():
    spec = BackendSpec(bucket=BUCKET, region=REGION)
    assert spec.login_command == f"pulumi login 's3://{BUCKET}?region={REGION}&awssdk=v2'"
    assert spec.stack_init_command("prod") == (
        f'pulumi stack init prod --secrets-provider "awskms://alias/pulumi-secrets?region={REGION}"')


@pytest.mark.parametrize(("overrides", "message"), [
    ({"bucket": "Acme-State"}, "--bucket 'Acme-State' is not a valid state bucket name: use 3-63 lowercase "
                               "letters, digits and hyphens, starting and ending with a letter or digit."),
    ({"bucket": "acme.state"}, "--bucket 'acme.state' is not a valid state bucket name"),
    ({"bucket": "ab"}, "--bucket 'ab' is not a valid state bucket name"),
    ({"kms_alias": "alias/aws/s3"}, "--kms-alias 'alias/aws/s3' is not a customer alias: use alias/<name> "
                                    "(letters, digits, /, _ and -), not alias/aws/... which AWS manages."),
    ({"kms_alias": "pulumi"}, "--kms-alias 'pulumi' is not a customer alias"),
    ({"noncurrent_days": 0}, "--noncurrent-days 0 is out of range: use 1 or more."),
    ({"bucket": "b" * 100_000}, "--bucket '" + "b" * 99 + "... (100002 characters) is not a valid state bucket name"),
])
def test_spec_validation_names_the_flag_the_value_and_the_fix(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        BackendSpec(**{"bucket": BUCKET, "region": REGION, **overrides})


@pytest.mark.parametrize(("change", "counts"), [
    ({}, True),
    ({"Principal": {"AWS": "*"}}, True),
    ({"Principal": {"AWS": ["*"]}}, True),
    ({"Action": "*", "Resource": "*"}, True),
    ({"Action": ["s3:*"], "Condition": {"Bool": {"aws:securetransport": False}}}, True),
    ({"Effect": "Allow"}, False),
    ({"Action": "s3:GetObject"}, False),
    ({"Resource": f"{ARN}/*"}, False),
    ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, False),
    ({"Condition": {"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalTag/x": "y"}}}, False),
])
def test_equivalent_tls_statements_are_recognised(change, counts):
    assert denies_insecure_transport({**tls_statement(ARN), **change}, ARN) is counts
