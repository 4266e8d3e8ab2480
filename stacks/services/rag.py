"""rag: question answering over internal documents.

API (EKS Deployment + HPA + PDB behind an internal ALB), an ingestion worker fed by an SQS queue and a
self-hosted LLM (vLLM on the Karpenter GPU pool, weights streamed from the model store); Postgres with
pgvector, a Valkey cache, an S3 documents bucket. Each workload's IAM role grants exactly what it does:

* API: read the bucket, send to the queue (re-embedding), read the database secret; calls the LLM in-cluster.
* worker: receive/delete from the queue, read the bucket, read the database secret.
* LLM: read the model store.

Documents uploaded under ``incoming/`` reach the queue as S3 event notifications. KEDA scales the worker on the
queue's depth (to zero when it is empty) and the LLM on vLLM's waiting requests in the environment's Amazon
Managed Prometheus (to zero outside the awake hours where ``ragLlmMinReplicas`` is 0; docs/runbook.md).
"""

import pulumi

from genai_platform.components.aws import (Bucket, BucketQueueNotification, BucketQueueNotificationArgs, ModelStore, ModelStoreArgs,
                            PostgresDatabase, PostgresTenantDatabase, QueueWithDlq, QueueWithDlqArgs, RedisCache,
                            RedisCacheArgs)
from genai_platform.components.aws.capacity.keda import prometheus_query_policy, sqs_depth_read_policy
from genai_platform.components.k8s import (KubeService, KubeServiceArgs, ScaledObject, ScaledObjectArgs, VllmServer, VllmServerArgs,
                            cpu_trigger, cron_trigger, prometheus_trigger, sqs_queue_trigger)
from genai_platform.components.k8s.vllm_server import WAITING_REQUESTS_METRIC
from genai_platform.components.k8s.vllm_server import base_url as vllm_base_url
from genai_platform.stacks.config import EnvConfig
from genai_platform.stacks.services.images import ServiceImages
from genai_platform.stacks.services.observability import Observability
from genai_platform.stacks.services.platform import Platform

NAMESPACE = "rag"
INCOMING_PREFIX = "incoming/"
"""Where documents are uploaded: each new object there becomes one ingest message."""
MESSAGES_PER_WORKER = 5
"""Queue depth per worker replica KEDA steers to: a worker embeds one large document in minutes."""
LLM_WAITING_PER_REPLICA = 4
"""Requests waiting for a batch slot, per vLLM replica, above which KEDA adds one (vLLM batches up to
``--max-num-seqs``; a steady queue means the GPU is saturated)."""
LLM_CPU_TARGET_PERCENT = 70
"""Without the observability stack's Prometheus: CPU of the vLLM pods, as a share of their request, above which
KEDA adds a replica (a weaker signal: the GPU, not the CPU, saturates first)."""


class RagService(pulumi.ComponentResource):
    """The RAG API, its ingestion worker and their data stores."""

    api: KubeService
    worker: KubeService
    queue: QueueWithDlq
    database: PostgresDatabase | PostgresTenantDatabase
    cache: RedisCache
    documents: Bucket
    models: ModelStore
    llm: VllmServer

    def __init__(self, settings: EnvConfig, platform: Platform, opts: pulumi.ResourceOptions | None = None,
                 observability: Observability | None = None):
        env = settings.stack
        super().__init__("genai:stack:RagService", f"{env}-rag", None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**settings.tags, "Service": "rag"}
        network, cluster = platform.network, platform.cluster
        protect = settings.protect_stateful
        alarm_actions = [platform.alerts.topic_arn]

        images = ServiceImages(f"{env}-rag", ["api", "worker"], settings, tags, self)
        self.documents = Bucket(f"{env}-rag-documents", platform.data_bucket_args(settings, tags), child)
        self.queue = QueueWithDlq(f"{env}-rag-ingest", QueueWithDlqArgs(
            # Parsing and embedding a large PDF takes minutes; the message must stay hidden meanwhile.
            visibility_timeout_seconds=900,
            s3_source_bucket_arns=[self.documents.bucket_arn],
            alarm_actions=alarm_actions,
            protect=protect,
            tags=tags,
        ), child)
        BucketQueueNotification(f"{env}-rag-incoming", BucketQueueNotificationArgs(
            bucket_name=self.documents.bucket_name, queue_arn=self.queue.event_target_arn, prefix=INCOMING_PREFIX,
        ), child)
        # pgvector: the service's migration creates it on an own instance; on a shared one (where the
        # service is not the master user) the provisioning Job does.
        self.database = platform.database(settings, "rag", "rag", tags, self, extensions=["vector"])
        self.cache = RedisCache(f"{env}-rag-cache", RedisCacheArgs(
            vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            allowed_security_group_ids=[cluster.cluster_security_group_id],
            node_type=settings.redis_node_type,
            num_cache_clusters=settings.redis_node_count,
            auth_token=settings.redis_auth_token,
            protect=protect,
            tags=tags,
        ), child)

        read_secret = self.database.secret_read_policy_json()
        api_role = platform.workload_role(f"{env}-rag-api", NAMESPACE, {
            "read-documents": self.documents.read_policy_json,
            "send-ingest": self.queue.producer_policy_json,
            "read-db-secret": read_secret,
        }, tags, self)
        worker_role = platform.workload_role(f"{env}-rag-worker", NAMESPACE, {
            "consume-ingest": self.queue.consumer_policy_json,
            "read-documents": self.documents.read_policy_json,
            "read-db-secret": read_secret,
        }, tags, self)

        llm_name = f"{env}-rag-llm"
        environment = {
            "DB_HOST": self.database.endpoint,
            "DB_NAME": "rag",
            "DB_SECRET_ARN": self.database.secret_arn,
            "REDIS_HOST": self.cache.primary_endpoint_address,
            "DOCUMENTS_BUCKET": self.documents.bucket_name,
            "INGEST_QUEUE_URL": self.queue.queue_url,
            # OpenAI-compatible endpoint of the in-cluster vLLM Service, and the model name it serves.
            "LLM_BASE_URL": vllm_base_url(llm_name, NAMESPACE),
            "LLM_MODEL": _served_name(settings),
        }
        def telemetry(service: str) -> dict:
            return {**environment, **(observability.pod_env(service, NAMESPACE) if observability else {})}

        common = dict(namespace=NAMESPACE, provider=cluster.provider,
                      allow_from_namespaces=observability.scraper_namespaces if observability else [],
                      min_replicas=settings.api_replicas, max_replicas=settings.api_max_replicas)
        self.api = KubeService(f"{env}-rag-api", KubeServiceArgs(
            image=images.image("api"), image_digest=images.digest("api"), env=telemetry("rag-api"),
            create_namespace=True, iam_role_arn=api_role.role_arn,
            ingress=True, ingress_group_name=Platform.ingress_group(settings), certificate_arn=settings.certificate_arn or None,
            load_balancer_cidrs=[network.cidr_block], tags=tags, **common,
        ), pulumi.ResourceOptions(parent=self, depends_on=platform.workload_dependencies))
        # After the API: its component creates the namespace.
        self.worker = KubeService(f"{env}-rag-worker", KubeServiceArgs(
            image=images.image("worker"), image_digest=images.digest("worker"), env=telemetry("rag-worker"),
            iam_role_arn=worker_role.role_arn,
            cpu_request_millicores=500, memory_request_mib=1024, memory_limit_mib=2048,
            # KEDA owns the count: zero workers while the queue is empty.
            external_autoscaler=True, **{**common, "min_replicas": 0},
        ), pulumi.ResourceOptions(parent=self, depends_on=[*platform.workload_dependencies, self.api]))
        self.llm = self._llm(llm_name, settings, platform, tags, observability)
        keda = platform.keda
        keda.allow(f"{env}-rag-ingest-depth", sqs_depth_read_policy(self.queue.queue_arn))
        ScaledObject(f"{env}-rag-worker", ScaledObjectArgs(
            namespace=NAMESPACE, deployment=self.worker.service_name,
            triggers=[sqs_queue_trigger(self.queue.queue_url, settings.aws_region, MESSAGES_PER_WORKER)],
            min_replicas=0, max_replicas=settings.api_max_replicas, aws_operator_identity=True,
            provider=cluster.provider,
        ), pulumi.ResourceOptions(parent=self, depends_on=[keda.release, self.worker]))

        self.register_outputs({"api_hostname": self.api.ingress_hostname, "queue_url": self.queue.queue_url})

    def _llm(self, name: str, settings: EnvConfig, platform: Platform, tags: dict[str, str],
             observability: Observability | None) -> VllmServer:
        """vLLM on the GPU pool, its weights store and its KEDA scaling."""
        env, cluster, gpu_pool = settings.stack, platform.cluster, platform.gpu_pool
        self.models = ModelStore(f"{env}-rag-models", ModelStoreArgs(
            oidc_provider_arn=cluster.oidc_provider_arn, oidc_provider_url=cluster.oidc_provider_url,
            namespace=NAMESPACE, service_account=name,
            access_log_bucket=platform.access_logs.bucket_name if platform.access_logs else None,
            protect=settings.protect_stateful, tags=tags,
        ), pulumi.ResourceOptions(parent=self))
        gpus = settings.rag_gpus_per_replica
        llm = VllmServer(name, VllmServerArgs(
            namespace=NAMESPACE,
            model_uri=self.models.model_uri(settings.rag_model_path),
            served_model_name=_served_name(settings),
            model_size_gib=settings.rag_model_size_gib,
            iam_role_arn=self.models.reader_role_arn,
            aws_region=settings.aws_region,
            max_model_len=settings.rag_max_model_len,
            gpu_memory_utilization=settings.rag_gpu_memory_utilization_percent / 100,
            tensor_parallel_size=gpus,
            gpus_per_replica=gpus,
            gpu_node_selector=gpu_pool.node_selector,
            min_replicas=settings.rag_llm_min_replicas,
            max_replicas=settings.rag_llm_max_replicas,
            env=observability.pod_env("rag-llm", NAMESPACE) if observability else {},
            # The collector scrapes vLLM's /metrics (the waiting-requests signal KEDA scales on).
            allow_from_namespaces=observability.scraper_namespaces if observability else [],
            provider=cluster.provider,
        # After the API: its component creates the namespace.
        ), pulumi.ResourceOptions(parent=self, depends_on=[*platform.workload_dependencies, gpu_pool, self.api]))
        keda = platform.keda
        if observability is not None:
            workspace = observability.prometheus
            keda.allow(f"{env}-rag-llm-metrics", prometheus_query_policy(workspace.workspace_arn))
            triggers = [prometheus_trigger(
                workspace.prometheus_endpoint.apply(lambda url: url.rstrip("/")),
                f'sum({WAITING_REQUESTS_METRIC}{{namespace="{NAMESPACE}",pod=~"{name}-.*"}})',
                LLM_WAITING_PER_REPLICA, settings.aws_region)]
        else:
            triggers = [cpu_trigger(LLM_CPU_TARGET_PERCENT)]
        if settings.rag_llm_min_replicas == 0 and settings.rag_llm_awake_hours:
            start, end, timezone = settings.rag_llm_awake_hours
            triggers.append(cron_trigger(start, end, timezone, replicas=1))
        ScaledObject(name, ScaledObjectArgs(
            namespace=NAMESPACE, deployment=llm.deployment_name, triggers=triggers,
            min_replicas=settings.rag_llm_min_replicas, max_replicas=settings.rag_llm_max_replicas,
            # A model takes minutes to load: keep a replica 30 minutes after the last load before letting it go.
            cooldown_period_seconds=1800, aws_operator_identity=observability is not None, provider=cluster.provider,
        ), pulumi.ResourceOptions(parent=self, depends_on=[keda.release, llm]))
        return llm


def _served_name(settings: EnvConfig) -> str:
    """The model name the RAG API sends: the last part of its path, lower-cased (``mistral-7b-instruct-v0.3``)."""
    return settings.rag_model_path.rsplit("/", 1)[-1].lower()
