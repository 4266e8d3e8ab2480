"""chat: an LLM chat web service, on GCP end to end.

The web app runs on Cloud Run (CPU, scales to zero; prod keeps one warm instance) and calls the full model,
served by a second Cloud Run service with an NVIDIA L4 in the same project and region. Only the web app's service
account may invoke the model (``roles/run.invoker`` on that service alone); the web app finds it through
``MODEL_URL`` and calls it with an ID token for that URL. The model's weights are mounted read-only from a private,
versioned, CMEK-encrypted bucket that only the model's own service account may read.
"""

import pulumi
from pulumi_gcp import organizations

from genai_platform.components.gcp import (ArtifactRepository, ArtifactRepositoryArgs, CloudRunService, CloudRunServiceArgs,
                            GcsVolume, KmsKeyRing, KmsKeyRingArgs, ModelBucket, ModelBucketArgs, service_agent)
from genai_platform.stacks.config import EnvConfig

MODELS_MOUNT = "/models"
"""Where the weights bucket is mounted in the model container."""


class ChatService(pulumi.ComponentResource):
    """Chat web app and its model service, both on Cloud Run."""

    web: CloudRunService
    model: CloudRunService
    weights: ModelBucket

    def __init__(self, settings: EnvConfig, opts: pulumi.ResourceOptions | None = None):
        env = settings.stack
        super().__init__("genai:stack:ChatService", f"{env}-chat", None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**settings.tags, "Service": "chat"}

        project = organizations.get_project(project_id=settings.gcp_project, opts=pulumi.InvokeOptions(parent=self))
        keys = KmsKeyRing(f"{env}-chat-keys", KmsKeyRingArgs(
            location=settings.gcp_region,
            keys={"images": [service_agent("artifactregistry", project.number)],
                  "models": [service_agent("storage", project.number)]},
            protect=settings.protect_stateful, tags=tags,
        ), child)
        registry = ArtifactRepository(f"{env}-chat-images", ArtifactRepositoryArgs(
            location=settings.gcp_region, repository_id=f"{env}-chat", kms_key_name=keys.key_ids["images"],
            protect=settings.protect_stateful, tags=tags,
        ), child)
        self.weights = ModelBucket(f"{env}-chat-weights", ModelBucketArgs(
            location=settings.gcp_region, kms_key_name=keys.key_ids["models"], protect=settings.protect_stateful,
            tags=tags,
        ), child)
        self.model = CloudRunService(f"{env}-chat-model", CloudRunServiceArgs(
            image=registry.image("chat-model", settings.release_tag),
            region=settings.gcp_region,
            # The web app calls the run.app URL without a VPC connector, which Cloud Run counts as external traffic,
            # so internal-only ingress would refuse it: IAM is the gate (only the web app's account holds invoker).
            ingress="INGRESS_TRAFFIC_ALL",
            min_instances=settings.chat_model_min_instances,
            max_instances=settings.chat_model_max_instances,
            # One L4 batches a handful of chats; more requests wait for the next instance.
            max_instance_request_concurrency=8,
            cpu=4, memory_mib=16384, cpu_idle=False,  # Cloud Run's GPU minimums, instance-based billing
            gpu="nvidia-l4",
            # Outside prod the cheaper GPU price beats reserved failover capacity in other zones.
            gpu_zonal_redundancy_disabled=settings.tier != "prod",
            gcs_volumes={"weights": GcsVolume(bucket=self.weights.bucket_name, mount_path=MODELS_MOUNT)},
            env={"MODEL_PATH": f"{MODELS_MOUNT}/{settings.chat_model_path}"},
            # Reading ~18 GB of weights through Cloud Storage FUSE: up to 20 minutes (Cloud Run allows 30 on a GPU).
            startup_probe_path="/health", startup_probe_period_seconds=10, startup_probe_failure_threshold=120,
            deletion_protection=settings.protect_stateful,
            tags=tags,
        ), child)
        self.web = CloudRunService(f"{env}-chat-web", CloudRunServiceArgs(
            image=registry.image("chat-web", settings.release_tag),
            region=settings.gcp_region,
            # Reachable from the internet, but only for callers holding roles/run.invoker
            # (the web front end's identity-aware proxy); nothing here grants allUsers.
            ingress="INGRESS_TRAFFIC_ALL",
            min_instances=settings.cloud_run_min_instances,
            max_instances=settings.cloud_run_max_instances,
            cpu=2,
            memory_mib=4096,
            # The app fetches an ID token with audience MODEL_URL from the metadata server and sends it as Bearer.
            env={"MODEL_URL": self.model.url},
            startup_probe_path="/healthz",
            liveness_probe_path="/healthz",
            deletion_protection=settings.protect_stateful,
            tags=tags,
        ), child)
        self.model.allow_invocation_by(self.web)

        self.register_outputs({"web_url": self.web.url, "model_url": self.model.url})
