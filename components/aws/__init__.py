"""AWS components. ``from genai_platform.components.aws import Vpc, VpcArgs``.

Modules by domain: ``network``, ``eks``, ``capacity``, ``fargate``, ``data``, ``observability``, ``ops``; a domain
imports only lower ones (capacity and data build on eks) and the shared helpers below them all
(``account``, ``data_helpers``, ``limits``, ``iam_policies``).
"""

from genai_platform.components.exports import lazy_exports

_EXPORTS = {
    "AlertTopic": "observability.alert_topic",
    "AlertTopicArgs": "observability.alert_topic",
    "AwsBudget": "ops.budget",
    "AwsBudgetArgs": "ops.budget",
    "Bucket": "data.bucket",
    "BucketArgs": "data.bucket",
    "BucketQueueNotification": "data.bucket_events",
    "BucketQueueNotificationArgs": "data.bucket_events",
    "BucketReplicationArgs": "data.bucket_replication",
    "ClusterAddons": "eks.addons",
    "ClusterAddonsArgs": "eks.addons",
    "ContainerRepository": "ops.container_repository",
    "ContainerRepositoryArgs": "ops.container_repository",
    "EcsServiceRef": "observability.dashboard",
    "EksCluster": "eks.cluster",
    "EksClusterArgs": "eks.cluster",
    "FargateAlbService": "fargate.service",
    "FargateAlbServiceArgs": "fargate.service",
    "GpuNodePool": "capacity.gpu_node_pool",
    "GpuNodePoolArgs": "capacity.gpu_node_pool",
    "Karpenter": "capacity.karpenter",
    "KarpenterArgs": "capacity.karpenter",
    "KarpenterNodePool": "capacity.karpenter_node_pool",
    "KarpenterNodePoolArgs": "capacity.karpenter_node_pool",
    "Keda": "capacity.keda",
    "KedaArgs": "capacity.keda",
    "ManagedGrafana": "observability.grafana",
    "ManagedGrafanaArgs": "observability.grafana",
    "ModelStore": "data.model_store",
    "ModelStoreArgs": "data.model_store",
    "NvidiaDevicePlugin": "eks.addons",
    "NvidiaDevicePluginArgs": "eks.addons",
    "OnCallDashboard": "observability.dashboard",
    "OnCallDashboardArgs": "observability.dashboard",
    "PostgresDatabase": "data.postgres",
    "PostgresDatabaseArgs": "data.postgres",
    "PostgresTenantDatabase": "data.postgres_tenant",
    "PostgresTenantDatabaseArgs": "data.postgres_tenant",
    "PrometheusWorkspace": "observability.prometheus",
    "PrometheusWorkspaceArgs": "observability.prometheus",
    "QueueWithDlq": "data.queue",
    "QueueWithDlqArgs": "data.queue",
    "RedisCache": "data.redis",
    "RedisCacheArgs": "data.redis",
    "SharedAlb": "fargate.shared_alb",
    "SharedAlbArgs": "fargate.shared_alb",
    "Vpc": "network.vpc",
    "VpcArgs": "network.vpc",
    "WorkloadRole": "eks.workload_role",
    "WorkloadRoleArgs": "eks.workload_role",
    "check_fargate_size": "fargate.sizes",
    "smallest_fargate_size": "fargate.sizes",
}
"""Each exported name and the module defining it: importing the package imports none of them."""

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
