"""rag: question answering over internal documents.

API (EKS Deployment + HPA + PDB behind an internal ALB) and an ingestion worker fed by an SQS queue;
Postgres with pgvector, a Valkey cache, an S3 documents bucket. Each workload's IAM role grants
exactly what it does:

* API: read the bucket, send to the queue, read the database secret.
* worker: receive/delete from the queue, read the bucket, read the database secret.
"""

import pulumi

from components.aws import (Bucket, PostgresDatabase, PostgresTenantDatabase, QueueWithDlq, QueueWithDlqArgs,
                            RedisCache, RedisCacheArgs)
from components.k8s import KubeService, KubeServiceArgs
from stacks.config import EnvConfig
from stacks.services.images import ServiceImages
from stacks.services.observability import Observability
from stacks.services.platform import Platform

NAMESPACE = "rag"


class RagService(pulumi.ComponentResource):
    """The RAG API, its ingestion worker and their data stores."""

    api: KubeService
    worker: KubeService
    queue: QueueWithDlq
    database: PostgresDatabase | PostgresTenantDatabase
    cache: RedisCache
    documents: Bucket

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
            alarm_actions=alarm_actions,
            protect=protect,
            tags=tags,
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

        environment = {
            "DB_HOST": self.database.endpoint,
            "DB_NAME": "rag",
            "DB_SECRET_ARN": self.database.secret_arn,
            "REDIS_HOST": self.cache.primary_endpoint_address,
            "DOCUMENTS_BUCKET": self.documents.bucket_name,
            "INGEST_QUEUE_URL": self.queue.queue_url,
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
            cpu_request_millicores=500, memory_request_mib=1024, memory_limit_mib=2048, **common,
        ), pulumi.ResourceOptions(parent=self, depends_on=[*platform.workload_dependencies, self.api]))

        self.register_outputs({"api_hostname": self.api.ingress_hostname, "queue_url": self.queue.queue_url})
