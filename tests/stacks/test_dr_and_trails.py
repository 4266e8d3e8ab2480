"""Cross-region DR and access trails in the stacks: what each tier replicates, where it logs, and into which region."""

import json
import re
import runpy

import pytest

from genai_platform.components.k8s.vllm_server import VLLM_IMAGE
from genai_platform import planning
from genai_platform.mockcloud import Plan, run_under_mocks
from genai_platform.stacks.config import ConfigError, load
from genai_platform.stacks.services.platform import Platform

BUCKET = "aws:s3/bucket:Bucket"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
PROVIDER = "pulumi:providers:aws"


def settings_for(tier: str, **overrides: str):
    return load({"aws:region": "us-east-1", "gcp:project": "genai-platform-dev", "genai-platform:tier": tier,
                 "genai-platform:gcpBillingAccount": "01A2B3-C4D5E6-F7A8B9",
                 "genai-platform:redisAuthToken": "a-long-enough-token",
                 **{f"genai-platform:{key}": value for key, value in overrides.items()}},
                tier, f"stacks/Pulumi.{tier}.yaml")



def bucket_name(plan: Plan, component: str) -> str:
    return plan.named(f"{component}-bucket", BUCKET).outputs["bucket"]


def logging_of(plan: Plan) -> dict[str, tuple[str, str]]:
    """Logged bucket name -> (target bucket name, prefix)."""
    return {r.inputs["bucket"]: (r.inputs["targetBucket"], r.inputs["targetPrefix"]) for r in plan.of_type(LOGGING)}


def test_prod_replicates_documents_and_artifacts_into_the_dr_region(plans):
    plan = plans["prod"]
    [provider] = plan.of_type(PROVIDER)
    assert provider.name == "prod-dr" and provider.inputs["region"] == "us-west-2"
    configs = {r.name: r for r in plan.of_type(REPLICATION)}
    assert set(configs) == {"prod-rag-documents-replication", "prod-tabular-artifacts-replication"}
    for component in ("prod-rag-documents", "prod-tabular-artifacts"):
        config = configs[f"{component}-replication"]
        replica = plan.named(f"{component}-replica-bucket", BUCKET)
        assert config.inputs["bucket"] == bucket_name(plan, component)
        assert replica.outputs["region"] == "us-west-2" and replica.protect
        destination = config.inputs["rules"][0]["destination"]
        assert destination["bucket"] == replica.outputs["arn"]
        assert destination["encryptionConfiguration"]["replicaKmsKeyId"].startswith("arn:aws:kms:us-west-2:")
        assert "replicationTime" not in destination  # replicationTimeControl is off by default


def test_prod_replicates_both_databases_backups_into_the_dr_region_under_keys_there(plans):
    plan = plans["prod"]
    replications = {r.name: r for r in plan.of_type(BACKUP_REPLICATION)}
    assert set(replications) == {"prod-rag-db-backup-replication", "prod-tabular-db-backup-replication"}
    for name, replication in replications.items():
        database = plan.named(name.replace("-backup-replication", "-db"), "aws:rds/instance:Instance")
        key = plan.named(name.replace("-backup-replication", "-backup-replica-key"), "aws:kms/key:Key")
        assert replication.inputs == {"sourceDbInstanceArn": database.outputs["arn"], "kmsKeyId": key.outputs["arn"],
                                      "retentionPeriod": 30}
        assert replication.outputs["region"] == "us-west-2" and key.outputs["arn"].startswith("arn:aws:kms:us-west-2:")


def test_every_bucket_logs_its_access_into_its_regions_log_bucket_from_staging_on(plans):
    prod = plans["prod"]
    logs, dr_logs = bucket_name(prod, "prod-access-logs"), bucket_name(prod, "prod-dr-access-logs")
    assert logging_of(prod) == {
        bucket_name(prod, "prod-rag-documents"): (logs, "prod-rag-documents/"),
        bucket_name(prod, "prod-tabular-artifacts"): (logs, "prod-tabular-artifacts/"),
        bucket_name(prod, "prod-lb-logs"): (logs, "prod-lb-logs/"),
        bucket_name(prod, "prod-rag-models-weights"): (logs, "prod-rag-models-weights/"),
        bucket_name(prod, "prod-rag-documents-replica"): (dr_logs, "prod-rag-documents-replica/"),
        bucket_name(prod, "prod-tabular-artifacts-replica"): (dr_logs, "prod-tabular-artifacts-replica/"),
    }
    assert prod.named("prod-dr-access-logs-bucket", BUCKET).outputs["region"] == "us-west-2"
    assert prod.named("prod-access-logs-bucket", BUCKET).outputs["region"] == "us-east-1"
    # The log buckets keep logs for the tier's retention, use SSE-S3 (S3 cannot deliver into SSE-KMS) and admit
    # only this account's S3 log delivery.
    lifecycle = prod.named("prod-access-logs-lifecycle").inputs["rules"]
    assert {"id": "expire-current-objects", "status": "Enabled", "filter": {"prefix": ""},
            "expiration": {"days": 365}} in lifecycle
    sse = prod.named("prod-access-logs-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "AES256"}
    statements = json.loads(prod.named("prod-access-logs-policy").inputs["policy"])["Statement"]
    assert [s["Principal"] for s in statements if s["Effect"] == "Allow"] == [
        {"Service": "logging.s3.amazonaws.com"}]

    staging = plans["staging"]
    staging_logs = bucket_name(staging, "staging-access-logs")
    assert {target for target, _ in logging_of(staging).values()} == {staging_logs}
    assert len(logging_of(staging)) == 4
    assert not staging.of_type(REPLICATION) and not staging.of_type(BACKUP_REPLICATION)
    assert not staging.of_type(PROVIDER)


def test_dev_has_neither_copies_nor_trails(plans):
    dev = plans["dev"]
    assert not (dev.of_type(REPLICATION) + dev.of_type(BACKUP_REPLICATION) + dev.of_type(LOGGING)
                + dev.of_type(PROVIDER))


def test_a_dr_region_equal_to_the_primary_region_is_refused():
    settings = settings_for("prod", drRegion="us-east-1")
    with pytest.raises(ConfigError) as error:
        run_under_mocks(lambda: Platform(settings))
    assert str(error.value) == (
        "stacks/Pulumi.prod.yaml: genai-platform:drRegion = 'us-east-1' is invalid: it is aws:region itself, so a "
        "region loss would take the copies too; pick another region, e.g. us-west-2.")


def plan_with(stack: str, **overrides: str) -> Plan:
    root = planning.project_dir()
    config, secret_keys = planning.read_stack_config(root, stack)
    config.update({f"genai-platform:{key}": value for key, value in overrides.items()})
    program = str(root / "stacks" / "__main__.py")
    return run_under_mocks(lambda: runpy.run_path(program, run_name="__main__"), project="genai-platform",
                           stack=stack, config=config, secret_keys=secret_keys)


def test_deploy_by_digest_runs_every_pod_by_the_digest_ecr_holds_for_the_release_tag(plans):
    plan = plan_with("dev", deployByDigest="true")
    images = {}
    for workload in plan.of_type("kubernetes:apps/v1:Deployment") + plan.of_type("kubernetes:batch/v1:CronJob"):
        spec = workload.inputs["spec"]
        template = spec["jobTemplate"]["spec"]["template"] if "jobTemplate" in spec else spec["template"]
        images[workload.name] = template["spec"]["containers"][0]["image"]
    # The collector runs the upstream ADOT image, pinned by its release tag (components/k8s/otel_collector.py).
    assert images.pop("dev-otel-collector-deployment") == "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0"
    assert len(images) == 4
    # vLLM is upstream's public image, pinned by its release tag; the platform's own images go by digest.
    assert images.pop("dev-rag-llm-deployment") == VLLM_IMAGE
    for name, image in images.items():
        reference, _, digest = image.partition("@")
        assert reference.endswith(":0.1.0") and re.fullmatch(r"sha256:[0-9a-f]{64}", digest), (name, image)
    # By default the tag decides, as before.
    default = [w.inputs["spec"]["template"]["spec"]["containers"][0]["image"]
               for w in plans["dev"].of_type("kubernetes:apps/v1:Deployment")]
    assert default and all("@" not in image for image in default)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_gcp_registry_and_budget_topic_use_rotating_cmek_keys_their_service_agents_may_use(plans, stack):
    plan = plans[stack]
    keys = {key.name: key for key in plan.of_type("gcp:kms/cryptoKey:CryptoKey")}
    assert set(keys) == {f"{stack}-chat-keys-images", f"{stack}-chat-keys-models", f"{stack}-budget-keys-alerts"}
    assert {key.inputs["rotationPeriod"] for key in keys.values()} == {"7776000s"}
    assert {key.protect for key in keys.values()} == {stack == "prod"}
    registry = plan.one("gcp:artifactregistry/repository:Repository")
    topic = plan.one("gcp:pubsub/topic:Topic")
    weights = plan.one("gcp:storage/bucket:Bucket")
    assert weights.inputs["encryption"] == {"defaultKmsKeyName": keys[f"{stack}-chat-keys-models"].id}
    assert registry.inputs["kmsKeyName"] == keys[f"{stack}-chat-keys-images"].id
    assert topic.inputs["kmsKeyName"] == keys[f"{stack}-budget-keys-alerts"].id
    grants = {m.inputs["cryptoKeyId"]: (m.inputs["role"], m.inputs["member"])
              for m in plan.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    role, agent = "roles/cloudkms.cryptoKeyEncrypterDecrypter", "serviceAccount:service-123456789012@gcp-sa-{}"
    assert grants == {
        registry.inputs["kmsKeyName"]: (role, agent.format("artifactregistry.iam.gserviceaccount.com")),
        topic.inputs["kmsKeyName"]: (role, agent.format("pubsub.iam.gserviceaccount.com")),
        weights.inputs["encryption"]["defaultKmsKeyName"]: (role, "serviceAccount:service-123456789012@"
                                                                  "gs-project-accounts.iam.gserviceaccount.com"),
    }
    # The repository and the topic are created only after their agent may use the key.
    member_urns = {m.urn for m in plan.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    assert member_urns & set(registry.dependencies) and member_urns & set(topic.dependencies)
    assert member_urns & set(weights.dependencies)


@pytest.mark.parametrize(("tier", "dr", "logs", "retention"), [("dev", False, False, 30), ("staging", False, True, 90),
                                                              ("prod", True, True, 365)])
def test_tier_presets_of_dr_and_trails(tier, dr, logs, retention):
    settings = settings_for(tier)
    assert (settings.cross_region_dr, settings.dr_region, settings.replication_time_control, settings.s3_access_logs,
            settings.access_log_retention_days, settings.deploy_by_digest) == (dr, "us-west-2", False, logs,
                                                                                retention, False)


def test_a_malformed_dr_region_is_refused():
    with pytest.raises(ConfigError) as error:
        settings_for("prod", drRegion="oregon")
    assert str(error.value) == ("stacks/Pulumi.prod.yaml: genai-platform:drRegion = 'oregon' is invalid: use the form "
                                "us-west-2.")
