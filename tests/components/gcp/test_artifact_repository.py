import re

import pulumi
import pytest

from genai_platform.components.gcp.artifact_repository import ArtifactRepository, ArtifactRepositoryArgs
from genai_platform.mockcloud import run_under_mocks

CONFIG = {"gcp:project": "genai-platform-dev", "gcp:region": "europe-west4"}
REPOSITORY = "gcp:artifactregistry/repository:Repository"
MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
RUN_SA = "serviceAccount:chat-run@genai-platform-dev.iam.gserviceaccount.com"
RUN_AGENT = "serviceAccount:service-123456789012@serverless-robot-prod.iam.gserviceaccount.com"


def plan_repository(name="chat-images", image=("chat", "v1"), **kwargs):
    def program():
        repository = ArtifactRepository(name, ArtifactRepositoryArgs(**{"location": "europe-west4", **kwargs}))
        pulumi.export("repository_id", repository.repository_id)
        pulumi.export("image_prefix", repository.image_prefix)
        pulumi.export("image", repository.image(*image))

    return run_under_mocks(program, config=CONFIG)


def test_defaults_create_one_private_docker_repository():
    plan = plan_repository(tags={"Environment": "dev"})
    assert plan.type_counts() == {"genai:gcp:ArtifactRepository": 1, REPOSITORY: 1}
    repository = plan.one(REPOSITORY)
    assert repository.name == "chat-images-repo"
    assert repository.parent.endswith("genai:gcp:ArtifactRepository::chat-images")
    inputs = repository.inputs
    assert (inputs["format"], inputs["location"], inputs["repositoryId"]) == ("DOCKER", "europe-west4", "chat-images")
    assert inputs["dockerConfig"] == {"immutableTags": True}
    assert inputs["cleanupPolicyDryRun"] is False
    assert inputs["labels"] == {"managedby": "pulumi", "platform": "genai-platform", "environment": "dev"}
    assert "project" not in inputs  # the provider's project
    assert "deletionPolicy" not in inputs and repository.protect is False


def test_cleanup_deletes_untagged_after_a_week_and_keeps_the_fifty_most_recent():
    assert plan_repository().one(REPOSITORY).inputs["cleanupPolicies"] == [
        {"id": "delete-untagged", "action": "DELETE", "condition": {"tagState": "UNTAGGED", "olderThan": "604800s"}},
        {"id": "keep-recent", "action": "KEEP", "mostRecentVersions": {"keepCount": 50}},
    ]


def test_cleanup_of_old_tagged_versions_is_opt_in():
    policies = plan_repository(untagged_expiry_days=2, keep_recent_versions=10, delete_tagged_after_days=90,
                               cleanup_policy_dry_run=True).one(REPOSITORY).inputs
    assert policies["cleanupPolicies"] == [
        {"id": "delete-untagged", "action": "DELETE", "condition": {"tagState": "UNTAGGED", "olderThan": "172800s"}},
        {"id": "keep-recent", "action": "KEEP", "mostRecentVersions": {"keepCount": 10}},
        {"id": "delete-old-tagged", "action": "DELETE", "condition": {"tagState": "TAGGED", "olderThan": "7776000s"}},
    ]
    assert policies["cleanupPolicyDryRun"] is True


def test_readers_are_granted_on_the_repository_only():
    plan = plan_repository(reader_members=[RUN_SA, RUN_AGENT])
    members = {m.name: m.inputs for m in plan.of_type(MEMBER)}
    assert members == {
        "chat-images-reader-serviceAccount-chat-run-genai-platform-dev-iam-gserviceaccount-com": {
            "repository": "chat-images", "location": "europe-west4", "project": "genai-platform-dev",
            "role": "roles/artifactregistry.reader", "member": RUN_SA},
        "chat-images-reader-serviceAccount-service-123456789012-serverless-robot-prod-iam-gserviceaccount-com": {
            "repository": "chat-images", "location": "europe-west4", "project": "genai-platform-dev",
            "role": "roles/artifactregistry.reader", "member": RUN_AGENT},
    }


def test_protect_sets_pulumi_protect_and_prevent_deletion():
    repository = plan_repository(protect=True).one(REPOSITORY)
    assert repository.protect is True
    assert repository.inputs["deletionPolicy"] == "PREVENT"


def test_outputs_image_prefix_and_image():
    plan = plan_repository(repository_id="images", project="genai-platform-prod", location="europe",
                           image=("rag/api", "3f2c1ab"))
    assert plan.outputs == {
        "repository_id": "images",
        "image_prefix": "europe-docker.pkg.dev/genai-platform-prod/images",
        "image": "europe-docker.pkg.dev/genai-platform-prod/images/rag/api:3f2c1ab",
    }
    assert plan.one(REPOSITORY).inputs["project"] == "genai-platform-prod"


def test_default_project_comes_from_the_provider():
    assert plan_repository().outputs["image_prefix"] == "europe-west4-docker.pkg.dev/genai-platform-dev/chat-images"


@pytest.mark.parametrize(("image", "message"), [
    (("Chat", "v1"), "name='Chat' is not an image name: use lower-case letters and digits separated by '.', '_', "
                     "'-' or '/'."),
    (("chat", ".v1"), "tag='.v1' is not a Docker image tag: use up to 128 letters, digits, '_', '.' or '-', "
                      "not starting with '.' or '-'."),
])
def test_image_rejects_bad_names_and_tags(image, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_repository(image=image)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"location": "Europe West 4"},
     "location='Europe West 4' is not an Artifact Registry location: use a region such as 'europe-west4' or a "
     "multi-region: 'europe', 'us', 'asia'."),
    ({"repository_id": "Chat_Images"},
     "repository_id='Chat_Images' is not a repository ID: use at most 63 lower-case letters, digits and '-', "
     "starting with a letter (pass repository_id explicitly)."),
    ({"untagged_expiry_days": 0}, "untagged_expiry_days=0 is out of range: use 1 to 365."),
    ({"keep_recent_versions": 0}, "keep_recent_versions=0 is out of range: use 1 or more."),
    ({"delete_tagged_after_days": 0},
     "delete_tagged_after_days=0 is out of range: use 1 to 3650, or None to keep tagged images."),
    ({"reader_members": ["allUsers"]},
     "reader_members contains 'allUsers', which would make every image public: name the service accounts or "
     "groups that pull."),
    ({"reader_members": ["chat-run@genai-platform-dev.iam.gserviceaccount.com"]},
     "reader_members contains 'chat-run@genai-platform-dev.iam.gserviceaccount.com', which is not an IAM principal: "
     "prefix it with one of user:, group:, serviceAccount:, domain:, principal:, principalSet:."),
    ({"reader_members": [RUN_SA, RUN_SA]},
     f"reader_members=['{RUN_SA}', '{RUN_SA}'] names a principal twice: list each once."),
])
def test_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_repository(**kwargs)


def test_a_component_name_that_is_no_repository_id_needs_repository_id():
    message = ("repository_id='2chat' is not a repository ID: use at most 63 lower-case letters, digits and '-', "
               "starting with a letter (pass repository_id explicitly).")
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_repository(name="2chat")


def test_kms_key_name_encrypts_the_images_with_a_customer_managed_key():
    key = "projects/genai-platform-dev/locations/europe-west4/keyRings/chat-keys/cryptoKeys/images"
    assert plan_repository(kms_key_name=key).one(REPOSITORY).inputs["kmsKeyName"] == key
    assert "kmsKeyName" not in plan_repository().one(REPOSITORY).inputs
