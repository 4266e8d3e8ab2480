import json
import re

import pulumi
import pytest

from genai_platform.components.aws.ops.container_repository import PULL_ACTIONS, ContainerRepository, ContainerRepositoryArgs
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

CONFIG = {"aws:region": "us-east-1"}
REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def plan_repository(name="rag-api", tag="3f2c1ab", **kwargs):
    def program():
        repository = ContainerRepository(name, ContainerRepositoryArgs(**kwargs))
        pulumi.export("url", repository.repository_url)
        pulumi.export("arn", repository.repository_arn)
        pulumi.export("name", repository.repository_name)
        pulumi.export("image", repository.image(tag))

    return run_under_mocks(program, config=CONFIG)


def test_defaults_create_a_repository_and_a_lifecycle_policy_only():
    plan = plan_repository(tags={"Environment": "dev"})
    assert plan.type_counts() == {"genai:aws:ContainerRepository": 1, REPOSITORY: 1, LIFECYCLE: 1}
    repository = plan.one(REPOSITORY)
    assert repository.name == "rag-api-repo"
    assert repository.parent.endswith("genai:aws:ContainerRepository::rag-api")
    assert repository.inputs["tags"] == {"Name": "rag-api-repo", "ManagedBy": "pulumi", "Platform": "genai-platform",
                                         "Environment": "dev"}
    assert "name" not in repository.inputs  # auto-named: unique when environments share an account
    assert repository.protect is False


def test_tags_are_immutable_pushes_are_scanned_and_images_encrypted_with_kms():
    inputs = plan_repository().one(REPOSITORY).inputs
    assert inputs["imageTagMutability"] == "IMMUTABLE"
    assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]  # AWS-managed aws/ecr key
    assert inputs["forceDelete"] is False


def test_a_customer_managed_key_is_used_when_given():
    inputs = plan_repository(kms_key_arn=KEY_ARN).one(REPOSITORY).inputs
    assert inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]


def test_lifecycle_policy_expires_untagged_images_then_keeps_the_most_recent():
    plan = plan_repository(untagged_expiry_days=3, keep_tagged_images=20)
    lifecycle = plan.one(LIFECYCLE)
    assert lifecycle.inputs["repository"] == plan.outputs["name"]
    rules = json.loads(lifecycle.inputs["policy"])["rules"]
    assert [rule["rulePriority"] for rule in rules] == [1, 2]
    assert rules[0]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                     "countNumber": 3}
    # The "any" rule must come last with the highest priority; "tagged" would need a tag pattern list.
    assert rules[1]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20}
    assert rules[-1]["rulePriority"] == max(rule["rulePriority"] for rule in rules)
    assert all(rule["action"] == {"type": "expire"} for rule in rules)


def test_default_lifecycle_is_seven_days_and_fifty_images():
    rules = json.loads(plan_repository().one(LIFECYCLE).inputs["policy"])["rules"]
    assert (rules[0]["selection"]["countNumber"], rules[1]["selection"]["countNumber"]) == (7, 50)


def test_named_accounts_may_pull_and_nothing_else():
    plan = plan_repository(pull_account_ids=["210987654321", "111122223333"])
    policy = plan.one(REPOSITORY_POLICY)
    assert policy.inputs["repository"] == plan.outputs["name"]
    assert json.loads(policy.inputs["policy"]) == {"Version": "2012-10-17", "Statement": [{
        "Sid": "PullFromNamedAccounts", "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::210987654321:root", "arn:aws:iam::111122223333:root"]},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]}
    assert PULL_ACTIONS == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]


def test_protect_and_explicit_name():
    plan = plan_repository(repository_name="rag/api", protect=True)
    repository = plan.one(REPOSITORY)
    assert repository.protect is True
    assert repository.inputs["name"] == "rag/api"
    assert plan.outputs["url"] == f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/rag/api"


def test_outputs_and_image_helper():
    plan = plan_repository(repository_name="rag-api", tag="v1.2.3")
    assert plan.outputs["url"] == f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/rag-api"
    assert plan.outputs["arn"] == f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/rag-api"
    assert plan.outputs["name"] == "rag-api"
    assert plan.outputs["image"] == f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/rag-api:v1.2.3"


def test_image_accepts_an_output_tag():
    def program():
        repository = ContainerRepository("rag-api", ContainerRepositoryArgs(repository_name="rag-api"))
        pulumi.export("image", repository.image(pulumi.Output.from_input("sha-abc")))

    plan = run_under_mocks(program, config=CONFIG)
    assert plan.outputs["image"] == f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/rag-api:sha-abc"


@pytest.mark.parametrize("tag", ["-bad", "with space", "x" * 129, ""])
def test_image_rejects_invalid_tags(tag):
    message = (f"tag={tag!r} is not a Docker image tag: use up to 128 letters, digits, '_', '.' or '-', "
               "not starting with '.' or '-'.")
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_repository(tag=tag)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"repository_name": "Rag-API"},
     "repository_name='Rag-API' is not an ECR repository name: use lower-case letters and digits separated by "
     "'.', '_', '-' or '/', at most 256 characters."),
    ({"repository_name": "rag//api"},
     "repository_name='rag//api' is not an ECR repository name: use lower-case letters and digits separated by "
     "'.', '_', '-' or '/', at most 256 characters."),
    ({"kms_key_arn": "alias/ecr"},
     "kms_key_arn='alias/ecr' is not a KMS key ARN: pass arn:aws:kms:<region>:<account>:key/<key-id> "
     "(IAM policies cannot name a key by alias or bare id)."),
    ({"untagged_expiry_days": 0}, "untagged_expiry_days=0 is out of range: use 1 to 365."),
    ({"keep_tagged_images": 0},
     "keep_tagged_images=0 is out of range: use 1 to 100000 (ECR's default images-per-repository quota)."),
    ({"pull_account_ids": ["21098765432"]},
     "pull_account_ids contains '21098765432', which is not a 12-digit AWS account ID."),
    ({"pull_account_ids": ["210987654321", "210987654321"]},
     "pull_account_ids=['210987654321', '210987654321'] lists an account twice: list each once."),
])
def test_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_repository(**kwargs)


def test_an_upper_case_component_name_needs_an_explicit_repository_name():
    message = ("name='RagApi' cannot prefix an auto-named ECR repository (lower-case letters and digits separated "
               "by '.', '_' or '-'): pass repository_name or use a lower-case component name.")
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_repository(name="RagApi")
    assert plan_repository(name="RagApi", repository_name="rag-api").one(REPOSITORY).inputs["name"] == "rag-api"
