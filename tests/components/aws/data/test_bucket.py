import fnmatch
import json
import re

import pulumi
import pulumi_aws as aws
import pytest

from genai_platform.components.aws.data.bucket import Bucket, BucketArgs
from genai_platform.components.aws.data.bucket_replication import BucketReplicationArgs
from genai_platform.mockcloud import run_under_mocks

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
DEFAULT_CHILDREN = {
    "genai:aws:Bucket": 1,
    BUCKET: 1,
    KEY: 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
    SSE: 1,
    "aws:s3/bucketVersioning:BucketVersioning": 1,
    POLICY: 1,
    LIFECYCLE: 1,
}


def plan_bucket(**overrides):
    def program():
        bucket = Bucket("docs", BucketArgs(**overrides))
        for output in ("bucket_name", "bucket_arn", "bucket_regional_domain_name", "kms_key_arn", "read_policy_json",
                       "write_policy_json"):
            pulumi.export(output, getattr(bucket, output))

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def test_default_children_exact_types_and_counts():
    assert plan_bucket().type_counts() == DEFAULT_CHILDREN


def test_bucket_is_private_owner_enforced_versioned_and_not_force_destroyed():
    plan = plan_bucket()
    bucket = plan.one(BUCKET)
    assert bucket.inputs["forceDestroy"] is False
    assert not {"acl", "policy", "website"} & bucket.inputs.keys()
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert {k: block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                  "restrictPublicBuckets")} == dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True)
    ownership = plan.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = plan.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    name = bucket.outputs["bucket"]
    for child in plan.resources:
        if child.custom and child.type.startswith("aws:s3/") and child.type != BUCKET:
            assert child.inputs["bucket"] == name


def test_default_encryption_is_sse_kms_with_a_rotating_key_and_bucket_key():
    plan = plan_bucket()
    key = plan.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    rule, = plan.one(SSE).inputs["rules"]
    assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                           "kmsMasterKeyId": key.outputs["arn"]},
                    "bucketKeyEnabled": True}
    assert plan.outputs["kms_key_arn"] == key.outputs["arn"]


def test_a_given_key_is_used_and_none_is_created():
    plan = plan_bucket(kms_key_arn=KEY_ARN)
    assert KEY not in plan.type_counts()
    rule, = plan.one(SSE).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == KEY_ARN


def test_policy_denies_non_tls_and_old_tls_after_the_public_access_block():
    plan = plan_bucket()
    arn = plan.one(BUCKET).outputs["arn"]
    policy = plan.one(POLICY)
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert statements == [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyOutdatedTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}},
    ]
    assert plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").urn in policy.dependencies


def test_lifecycle_expires_noncurrent_versions_and_aborts_uploads_after_versioning():
    plan = plan_bucket(noncurrent_version_expiration_days=90, abort_incomplete_multipart_upload_days=3)
    lifecycle = plan.one(LIFECYCLE)
    assert lifecycle.inputs["rules"] == [
        {"id": "expire-noncurrent-versions", "status": "Enabled", "filter": {"prefix": ""},
         "noncurrentVersionExpiration": {"noncurrentDays": 90}, "expiration": {"expiredObjectDeleteMarker": True}},
        {"id": "abort-incomplete-multipart-uploads", "status": "Enabled", "filter": {"prefix": ""},
         "abortIncompleteMultipartUpload": {"daysAfterInitiation": 3}},
    ]
    assert plan.one("aws:s3/bucketVersioning:BucketVersioning").urn in lifecycle.dependencies


def test_object_expiration_adds_a_third_rule():
    rules = plan_bucket(object_expiration_days=400).one(LIFECYCLE).inputs["rules"]
    assert rules[-1] == {"id": "expire-current-objects", "status": "Enabled", "filter": {"prefix": ""},
                         "expiration": {"days": 400}}


def test_access_logging_goes_to_the_given_bucket():
    plan = plan_bucket(access_log_bucket="org-access-logs")
    assert plan.type_counts() == {**DEFAULT_CHILDREN, "aws:s3/bucketLogging:BucketLogging": 1}
    logging = plan.one("aws:s3/bucketLogging:BucketLogging").inputs
    assert (logging["targetBucket"], logging["targetPrefix"]) == ("org-access-logs", "docs/")


def test_access_log_target_uses_sse_s3_and_admits_only_this_accounts_log_delivery():
    plan = plan_bucket(access_log_target=True, object_expiration_days=90)
    assert KEY not in plan.type_counts()
    rule, = plan.one(SSE).inputs["rules"]
    assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": False}
    arn = plan.one(BUCKET).outputs["arn"]
    statements = json.loads(plan.one(POLICY).inputs["policy"])["Statement"]
    assert [s["Effect"] for s in statements] == ["Deny", "Deny", "Allow"]
    assert statements[2] == {
        "Sid": "S3ServerAccessLogsFromThisAccount", "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": ["s3:PutObject"],
        "Resource": [f"{arn}/*"], "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
    assert "kms_key_arn" not in plan.outputs  # None: an exported None is dropped


def test_load_balancer_log_target_uses_sse_s3_and_admits_elb_log_delivery_under_this_account():
    plan = plan_bucket(load_balancer_log_target=True, object_expiration_days=90)
    assert KEY not in plan.type_counts()
    rule, = plan.one(SSE).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    arn = plan.one(BUCKET).outputs["arn"]
    statements = json.loads(plan.one(POLICY).inputs["policy"])["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Sid"], s["Principal"]) for s in allows] == [
        ("LoadBalancerLogsFromRegionalAccount", {"AWS": "arn:aws:iam::127311923021:root"}),
        ("LoadBalancerLogsFromDeliveryService", {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
    ]
    assert all(s["Action"] == ["s3:PutObject"] and s["Resource"] == [f"{arn}/AWSLogs/123456789012/*",
                                                                     f"{arn}/*/AWSLogs/123456789012/*"]
               for s in allows)


@pytest.mark.parametrize(("key", "admitted"), [
    # ELB's permission check when access logs are turned on, without and with a prefix (FargateAlbService
    # passes its own name as the prefix): refused, the load balancer create/update fails on a real deploy.
    ("AWSLogs/123456789012/ELBAccessLogTestFile", True),
    ("dev-tabular-api/AWSLogs/123456789012/ELBAccessLogTestFile", True),
    ("dev-tabular-api/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2025/01/01/log.gz", True),
    ("AWSLogs/210987654321/ELBAccessLogTestFile", False),  # another account's load balancers
    ("dev-tabular-api/other/ELBAccessLogTestFile", False),
])
def test_load_balancer_log_statements_cover_prefixed_delivery_of_this_account_only(key, admitted):
    plan = plan_bucket(load_balancer_log_target=True)
    arn = plan.one(BUCKET).outputs["arn"]
    statements = json.loads(plan.one(POLICY).inputs["policy"])["Statement"]
    for statement in (s for s in statements if s["Effect"] == "Allow"):
        # IAM resource wildcards: '*' matches any characters, '/' included, as fnmatchcase's does.
        assert any(fnmatch.fnmatchcase(f"{arn}/{key}", pattern) for pattern in statement["Resource"]) is admitted


def test_a_load_balancer_log_target_refuses_a_kms_key():
    with pytest.raises(ValueError, match=re.escape(
            "kms_key_arn is set but load_balancer_log_target=True: load balancers deliver access logs only into "
            "SSE-S3 buckets; drop kms_key_arn or load_balancer_log_target.")):
        plan_bucket(load_balancer_log_target=True, kms_key_arn=KEY_ARN)


@pytest.mark.parametrize("protect", [True, False])
def test_protect_applies_to_bucket_and_key_only(protect):
    plan = plan_bucket(protect=protect)
    assert plan.one(BUCKET).protect is protect and plan.one(KEY).protect is protect
    assert not any(r.protect for r in plan.resources if r.type not in (BUCKET, KEY))


def allow_statements(plan, output):
    statements = json.loads(plan.outputs[output])["Statement"]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert not [a for a in statement["Action"] if "*" in a]
    return statements


def test_read_and_write_policies_are_least_privilege():
    plan = plan_bucket()
    arn, key = plan.outputs["bucket_arn"], plan.outputs["kms_key_arn"]
    assert allow_statements(plan, "read_policy_json") == [
        {"Sid": "Bucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [arn]},
        {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{arn}/*"]},
        {"Sid": "UseKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key]},
    ]
    assert allow_statements(plan, "write_policy_json") == [
        {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"],
         "Resource": [f"{arn}/*"]},
        {"Sid": "UseKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": [key]},
    ]


def test_outputs_name_arn_and_regional_domain():
    outputs = plan_bucket().outputs
    assert outputs["bucket_name"].startswith("docs-bucket-")
    assert outputs["bucket_arn"] == f"arn:aws:s3:::{outputs['bucket_name']}"
    assert outputs["bucket_regional_domain_name"] == f"{outputs['bucket_name']}.s3.us-east-1.amazonaws.com"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"noncurrent_version_expiration_days": 0},
     "noncurrent_version_expiration_days=0 is out of range: use 1 to 3650."),
    ({"abort_incomplete_multipart_upload_days": 0},
     "abort_incomplete_multipart_upload_days=0 is out of range: use 1 to 365."),
    ({"object_expiration_days": 0}, "object_expiration_days=0 is out of range: use 1 to 36500."),
    ({"kms_key_arn": "alias/docs"},
     "kms_key_arn='alias/docs' is not a KMS key ARN: pass arn:aws:kms:<region>:<account>:key/<key-id> "
     "(IAM policies cannot name a key by alias or bare id)."),
    ({"access_log_target": True, "kms_key_arn": KEY_ARN},
     "kms_key_arn is set but access_log_target=True: S3 cannot deliver access logs into an SSE-KMS bucket, "
     "so a log target uses SSE-S3; drop kms_key_arn or access_log_target."),
])
def test_impossible_arguments_are_refused_with_the_fix(overrides, message):
    with pytest.raises(ValueError) as error:
        plan_bucket(**overrides)
    assert str(error.value) == message


def test_a_name_too_long_for_the_auto_named_bucket_is_refused():
    # Pulumi names the bucket "<name>-bucket-<7 hex>"; S3 allows 63 characters and the provider only
    # refuses a longer one at `pulumi preview`, which the offline plan never runs.
    fits = "staging-tabular-model-artifacts-for-batch-scorin"  # 48 characters: 48 + 7 + 8 = 63
    assert len(run_under_mocks(lambda: Bucket(fits, BucketArgs())).one(BUCKET).outputs["bucket"]) == 63
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: Bucket(fits + "g", BucketArgs()))
    assert str(error.value) == (
        f"name='{fits}g' has 49 characters, too many for the S3 bucket named '{fits}g-bucket-' plus 7 random "
        "characters (at most 63): use a component name of at most 48 characters.")


REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def plan_replicated(**replication):
    def program():
        dr = aws.Provider("dr", region="us-west-2")
        bucket = Bucket("docs", BucketArgs(replication=BucketReplicationArgs(provider=dr, **replication)))
        pulumi.export("bucket_arn", bucket.bucket_arn)
        pulumi.export("replica_bucket_arn", bucket.replica_bucket_arn)
        pulumi.export("replica_bucket_name", bucket.replica_bucket_name)

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def test_replication_adds_a_hardened_replica_in_the_dr_region_with_its_own_key():
    plan = plan_replicated()
    counts = plan.type_counts()
    assert counts["pulumi:providers:aws"] == 1
    expected = {BUCKET: 2, KEY: 2, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 2,
                "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 2, SSE: 2,
                "aws:s3/bucketVersioning:BucketVersioning": 2, POLICY: 2, LIFECYCLE: 2,
                "aws:iam/role:Role": 1, ROLE_POLICY: 1, REPLICATION: 1}
    assert {kind: counts[kind] for kind in expected} == expected
    # The replica and every setting of it live in the DR region; the source stays where it was.
    replica_children = [r for r in plan.resources if r.name.startswith("docs-replica-")]
    assert len(replica_children) == 8
    assert {r.outputs.get("region") for r in replica_children} == {"us-west-2"}
    assert plan.named("docs-bucket").outputs["region"] == "us-east-1"
    assert ".s3.us-west-2." in plan.named("docs-replica-bucket").outputs["bucketRegionalDomainName"]
    replica_key = plan.named("docs-replica-key")
    assert replica_key.outputs["arn"].startswith("arn:aws:kms:us-west-2:")
    assert replica_key.inputs["enableKeyRotation"] is True
    name = plan.outputs["replica_bucket_name"]
    assert plan.named("docs-replica-public-access").inputs == {
        "bucket": name, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
        "restrictPublicBuckets": True}
    assert plan.named("docs-replica-ownership").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert plan.named("docs-replica-versioning").inputs["versioningConfiguration"] == {"status": "Enabled"}
    by_default = plan.named("docs-replica-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert by_default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": replica_key.outputs["arn"]}
    sids = [s["Sid"] for s in json.loads(plan.named("docs-replica-policy").inputs["policy"])["Statement"]]
    assert sids == ["DenyInsecureTransport", "DenyOutdatedTls"]


def test_replication_rule_copies_every_sse_kms_object_into_the_replica_after_both_versionings():
    plan = plan_replicated()
    config = plan.one(REPLICATION)
    assert config.inputs["bucket"] == plan.named("docs-bucket").outputs["bucket"]
    assert config.inputs["role"] == plan.named("docs-replication", "aws:iam/role:Role").outputs["arn"]
    [rule] = config.inputs["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"] == {
        "bucket": plan.outputs["replica_bucket_arn"], "storageClass": "STANDARD_IA",
        "encryptionConfiguration": {"replicaKmsKeyId": plan.named("docs-replica-key").outputs["arn"]}}
    urns = {plan.named(n).urn for n in ("docs-versioning", "docs-replica-versioning")}
    assert urns <= set(config.dependencies)


def test_replication_time_control_turns_on_metrics_too():
    destination = plan_replicated(time_control=True).one(REPLICATION).inputs["rules"][0]["destination"]
    assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    metrics_only = plan_replicated(metrics=True).one(REPLICATION).inputs["rules"][0]["destination"]
    assert "metrics" in metrics_only and "replicationTime" not in metrics_only


def test_replication_role_is_least_privilege_and_bound_to_s3_in_each_region():
    plan = plan_replicated()
    role = plan.named("docs-replication", "aws:iam/role:Role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    source, replica = plan.outputs["bucket_arn"], plan.outputs["replica_bucket_arn"]
    source_key = plan.named("docs-key").outputs["arn"]
    replica_key = plan.named("docs-replica-key").outputs["arn"]
    statements = json.loads(plan.one(ROLE_POLICY).inputs["policy"])["Statement"]
    assert statements == [
        {"Sid": "ReadSourceConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": [source]},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
         "Resource": [f"{source}/*"]},
        {"Sid": "WriteReplicas", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], "Resource": [f"{replica}/*"]},
        {"Sid": "DecryptSource", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [source_key],
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": [source, f"{source}/*"]}}},
        {"Sid": "EncryptReplicas", "Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": [replica_key],
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": [replica, f"{replica}/*"]}}},
    ]


def test_replica_access_logs_go_to_the_dr_log_bucket_and_protect_covers_the_replica():
    def program():
        dr = aws.Provider("dr", region="us-west-2")
        Bucket("docs", BucketArgs(protect=True, replication=BucketReplicationArgs(
            provider=dr, access_log_bucket="dr-logs")))

    plan = run_under_mocks(program)
    logging = plan.named("docs-replica-logging")
    assert logging.inputs["targetBucket"] == "dr-logs" and logging.inputs["targetPrefix"] == "docs-replica/"
    assert logging.outputs["region"] == "us-west-2"
    assert {r.name for r in plan.resources if r.protect} == {"docs-bucket", "docs-key", "docs-replica-bucket",
                                                              "docs-replica-key"}


def test_without_replication_no_replica_outputs():
    assert plan_bucket().outputs["bucket_arn"] and REPLICATION not in plan_bucket().type_counts()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"storage_class": "GLACIER"},
     "replication.storage_class='GLACIER' is not a class a DR copy can fail over to without a restore: use one of "
     "STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR."),
    ({"log_target": True},
     "replication is set on a log target (access_log_target or load_balancer_log_target): replication copies "
     "SSE-KMS data buckets; logs stay in their region, so drop replication."),
])
def test_impossible_replication_is_refused_with_the_fix(overrides, message):
    log_target = overrides.pop("log_target", False)

    def program():
        dr = aws.Provider("dr", region="us-west-2")
        Bucket("docs", BucketArgs(access_log_target=log_target,
                                  replication=BucketReplicationArgs(provider=dr, **overrides)))

    with pytest.raises(ValueError) as error:
        run_under_mocks(program)
    assert str(error.value) == message
