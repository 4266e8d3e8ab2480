"""ModelBucket and what CloudRunService adds for a model service: GCS volumes, GPU regions, caller-bound invokers."""

import pytest

from genai_platform.components.gcp.cloud_run import CloudRunService, CloudRunServiceArgs, GcsVolume
from genai_platform.components.gcp.model_bucket import ModelBucket, ModelBucketArgs
from genai_platform.mockcloud import run_under_mocks

CONFIG = {"gcp:project": "genai-platform-dev", "gcp:region": "europe-west4", "aws:region": "us-east-1"}
IMAGE = "europe-west4-docker.pkg.dev/genai-platform-dev/apps/model:1.0.0"
KEY = "projects/genai-platform-dev/locations/europe-west4/keyRings/r/cryptoKeys/models"
GPU = {"gpu": "nvidia-l4", "cpu": 4, "memory_mib": 16384, "cpu_idle": False}


def plan_pair(**model_args):
    def program():
        weights = ModelBucket("weights", ModelBucketArgs(location="europe-west4", kms_key_name=KEY, protect=True))
        model = CloudRunService("model", CloudRunServiceArgs(
            image=IMAGE, **{**GPU, "gcs_volumes": {"weights": GcsVolume(weights.bucket_name, "/models")},
                            **model_args}))
        web = CloudRunService("web", CloudRunServiceArgs(image=IMAGE, env={"MODEL_URL": model.url}))
        model.allow_invocation_by(web)

    return run_under_mocks(program, config=CONFIG)


def test_the_bucket_is_private_versioned_and_cmek_encrypted_granting_nobody_itself():
    plan = plan_pair()
    bucket = plan.one("gcp:storage/bucket:Bucket")
    assert bucket.parent.endswith("genai:gcp:ModelBucket::weights") and bucket.protect is True
    inputs = bucket.inputs
    assert (inputs["location"], inputs["uniformBucketLevelAccess"], inputs["publicAccessPrevention"],
            inputs["versioning"], inputs["encryption"], inputs["forceDestroy"]) == (
        "EUROPE-WEST4", True, "enforced", {"enabled": True}, {"defaultKmsKeyName": KEY}, False)
    assert inputs["lifecycleRules"] == [{"action": {"type": "Delete"},
                                         "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}}]
    (reader,) = plan.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    assert reader.parent.endswith("genai:gcp:CloudRunService::model")
    assert (reader.inputs["bucket"], reader.inputs["role"], reader.inputs["member"]) == (
        bucket.outputs["name"], "roles/storage.objectViewer",
        "serviceAccount:model-run@genai-platform-dev.iam.gserviceaccount.com")


def test_the_model_mounts_the_bucket_read_only_on_gen2_and_only_the_web_app_invokes_it():
    plan = plan_pair()
    model = plan.named("model-service", "gcp:cloudrunv2/service:Service")
    template = model.inputs["template"]
    assert template["volumes"] == [{"name": "weights", "gcs": {"bucket": plan.one(
        "gcp:storage/bucket:Bucket").outputs["name"], "readOnly": True}}]
    assert template["executionEnvironment"] == "EXECUTION_ENVIRONMENT_GEN2"
    (binding,) = plan.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert binding.name == "model-invoker-web" and binding.parent.endswith("genai:gcp:CloudRunService::model")
    assert (binding.inputs["name"], binding.inputs["role"], binding.inputs["member"]) == (
        model.outputs["name"], "roles/run.invoker", "serviceAccount:web-run@genai-platform-dev.iam.gserviceaccount.com")
    web = plan.named("web-service", "gcp:cloudrunv2/service:Service").inputs["template"]
    assert web["containers"][0]["envs"] == [{"name": "MODEL_URL", "value": model.outputs["uri"]}]
    assert "volumes" not in web and "executionEnvironment" not in web


@pytest.mark.parametrize(("overrides", "message"), [
    ({"region": "europe-west3"}, "region='europe-west3' has no Cloud Run nvidia-l4 GPUs: use one of ['asia-southeast1', "
                                 "'europe-west1', 'europe-west4', 'us-central1', 'us-east4']."),
    ({"gcs_volumes": {"Weights": GcsVolume("b", "/models")}},
     "gcs_volumes has the volume name 'Weights': use lower-case letters, digits and '-', starting with a letter."),
    ({"gcs_volumes": {"weights": GcsVolume("b", "models")}},
     "gcs_volumes['weights'].mount_path='models' is not an absolute directory: use e.g. '/models'."),
    ({"gcs_volumes": {"a": GcsVolume("b", "/m"), "c": GcsVolume("d", "/m")}},
     "gcs_volumes mount two buckets at one path (['/m', '/m']): give each its own mount_path."),
])
def test_invalid_model_service_arguments_are_refused(overrides, message):
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: CloudRunService("model", CloudRunServiceArgs(image=IMAGE, **{**GPU, **overrides})),
                        config=CONFIG)
    assert str(error.value) == message


def test_a_bucket_location_must_be_a_region():
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: ModelBucket("weights", ModelBucketArgs(location="Europe West", kms_key_name=KEY)),
                        config=CONFIG)
    assert str(error.value) == ("location='Europe West' is not a Cloud Storage region: use the Cloud Run region, "
                                "e.g. 'europe-west4'.")
