"""AWS components. ``from genai_platform.components.aws import Vpc, VpcArgs``.

Modules by domain: ``network``, ``eks``, ``capacity``, ``fargate``, ``data``, ``observability``, ``ops``; a domain
imports only lower ones (capacity and data build on eks) and the shared helpers below them all
(``data_helpers``, ``limits``, ``iam_policies``).
"""

from genai_platform.components.aws.observability.alert_topic import AlertTopic, AlertTopicArgs
from genai_platform.components.aws.data.bucket import Bucket, BucketArgs
from genai_platform.components.aws.data.bucket_events import BucketQueueNotification, BucketQueueNotificationArgs
from genai_platform.components.aws.data.bucket_replication import BucketReplicationArgs
from genai_platform.components.aws.ops.budget import AwsBudget, AwsBudgetArgs
from genai_platform.components.aws.eks.addons import ClusterAddons, ClusterAddonsArgs, NvidiaDevicePlugin, NvidiaDevicePluginArgs
from genai_platform.components.aws.ops.container_repository import ContainerRepository, ContainerRepositoryArgs
from genai_platform.components.aws.observability.dashboard import EcsServiceRef, OnCallDashboard, OnCallDashboardArgs
from genai_platform.components.aws.eks.cluster import EksCluster, EksClusterArgs
from genai_platform.components.aws.fargate.service import FargateAlbService, FargateAlbServiceArgs
from genai_platform.components.aws.fargate.shared_alb import SharedAlb, SharedAlbArgs
from genai_platform.components.aws.fargate.sizes import check_fargate_size, smallest_fargate_size
from genai_platform.components.aws.capacity.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from genai_platform.components.aws.observability.grafana import ManagedGrafana, ManagedGrafanaArgs
from genai_platform.components.aws.capacity.karpenter import Karpenter, KarpenterArgs
from genai_platform.components.aws.capacity.keda import Keda, KedaArgs
from genai_platform.components.aws.capacity.karpenter_node_pool import KarpenterNodePool, KarpenterNodePoolArgs
from genai_platform.components.aws.data.model_store import ModelStore, ModelStoreArgs
from genai_platform.components.aws.data.postgres import PostgresDatabase, PostgresDatabaseArgs
from genai_platform.components.aws.data.postgres_tenant import PostgresTenantDatabase, PostgresTenantDatabaseArgs
from genai_platform.components.aws.observability.prometheus import PrometheusWorkspace, PrometheusWorkspaceArgs
from genai_platform.components.aws.data.queue import QueueWithDlq, QueueWithDlqArgs
from genai_platform.components.aws.data.redis import RedisCache, RedisCacheArgs
from genai_platform.components.aws.network.vpc import Vpc, VpcArgs
from genai_platform.components.aws.eks.workload_role import WorkloadRole, WorkloadRoleArgs

__all__ = [
    "AlertTopic", "AlertTopicArgs", "AwsBudget", "AwsBudgetArgs", "Bucket", "BucketArgs", "BucketReplicationArgs",
    "ClusterAddons",
    "ClusterAddonsArgs", "ContainerRepository", "ContainerRepositoryArgs", "EcsServiceRef", "EksCluster",
    "EksClusterArgs", "FargateAlbService", "FargateAlbServiceArgs", "GpuNodePool", "GpuNodePoolArgs",
    "Karpenter", "KarpenterArgs", "KarpenterNodePool", "KarpenterNodePoolArgs",
    "NvidiaDevicePlugin", "NvidiaDevicePluginArgs", "OnCallDashboard", "OnCallDashboardArgs", "PostgresDatabase",
    "PostgresDatabaseArgs", "PostgresTenantDatabase", "PostgresTenantDatabaseArgs", "QueueWithDlq", "QueueWithDlqArgs", "RedisCache", "RedisCacheArgs", "SharedAlb",
    "SharedAlbArgs", "Vpc", "VpcArgs",
    "WorkloadRole", "WorkloadRoleArgs", "check_fargate_size", "smallest_fargate_size",
    "BucketQueueNotification", "BucketQueueNotificationArgs", "Keda", "KedaArgs", "ModelStore", "ModelStoreArgs",
    "ManagedGrafana", "ManagedGrafanaArgs", "PrometheusWorkspace", "PrometheusWorkspaceArgs",
]
