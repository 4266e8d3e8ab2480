"""chat: an LLM chat web service.

The web app serves a small GPT on Cloud Run (CPU, scales to zero; prod keeps one warm instance);
the full model is served from the EKS GPU pool. Outside prod the model server is parked at zero
pods so the GPU pool stays at zero nodes until someone wakes it (docs/runbook.md).
"""

import pulumi
from pulumi_gcp import organizations

from components.gcp import (ArtifactRepository, ArtifactRepositoryArgs, CloudRunService, CloudRunServiceArgs,
                            KmsKeyRing, KmsKeyRingArgs, service_agent)
from components.k8s import KubeService, KubeServiceArgs
from stacks.config import EnvConfig
from stacks.services.images import ServiceImages
from stacks.services.observability import Observability
from stacks.services.platform import Platform

NAMESPACE = "chat"


class ChatService(pulumi.ComponentResource):
    """Chat web app on Cloud Run and the full model on the GPU pool."""

    web: CloudRunService
    model: KubeService

    def __init__(self, settings: EnvConfig, platform: Platform, opts: pulumi.ResourceOptions | None = None,
                 observability: Observability | None = None):
        env = settings.stack
        super().__init__("genai:stack:ChatService", f"{env}-chat", None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**settings.tags, "Service": "chat"}

        project = organizations.get_project(project_id=settings.gcp_project, opts=pulumi.InvokeOptions(parent=self))
        keys = KmsKeyRing(f"{env}-chat-keys", KmsKeyRingArgs(
            location=settings.gcp_region, keys={"images": [service_agent("artifactregistry", project.number)]},
            protect=settings.protect_stateful, tags=tags,
        ), child)
        registry = ArtifactRepository(f"{env}-chat-images", ArtifactRepositoryArgs(
            location=settings.gcp_region, repository_id=f"{env}-chat", kms_key_name=keys.key_ids["images"],
            protect=settings.protect_stateful, tags=tags,
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
            startup_probe_path="/healthz",
            liveness_probe_path="/healthz",
            deletion_protection=settings.protect_stateful,
            tags=tags,
        ), child)

        images = ServiceImages(f"{env}-chat", ["model"], settings, tags, self)
        gpu_pool = platform.gpu_pool
        self.model = KubeService(f"{env}-chat-model", KubeServiceArgs(
            image=images.image("model"),
            image_digest=images.digest("model"),
            namespace=NAMESPACE,
            create_namespace=True,
            provider=platform.cluster.provider,
            gpu_count=1,  # one L4, A10G or L40S holds the model
            gpu_node_selector=gpu_pool.node_selector,
            env=observability.pod_env("chat-model", NAMESPACE) if observability else {},
            allow_from_namespaces=observability.scraper_namespaces if observability else [],  # vLLM's /metrics
            # One GPU per server: the pool's GPU ceiling is the server's ceiling.
            min_replicas=settings.chat_model_min_replicas,
            max_replicas=gpu_pool.gpu_limit,
            startup_timeout_seconds=900,  # loading the weights from disk onto the GPU
            cpu_request_millicores=2000, memory_request_mib=8192, memory_limit_mib=12288,
            ingress=True, ingress_group_name=Platform.ingress_group(settings), certificate_arn=settings.certificate_arn or None,
            load_balancer_cidrs=[platform.network.cidr_block],
            tags=tags,
        ), pulumi.ResourceOptions(parent=self, depends_on=[*platform.workload_dependencies, gpu_pool]))

        self.register_outputs({"web_url": self.web.url, "model_hostname": self.model.ingress_hostname})
