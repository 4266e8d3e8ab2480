"""AWS components. ``from components.aws import Vpc, VpcArgs``."""

from components.aws.alert_topic import AlertTopic, AlertTopicArgs
from components.aws.bucket import Bucket, BucketArgs
from components.aws.bucket_events import BucketQueueNotification, BucketQueueNotificationArgs
from components.aws.bucket_replication import BucketReplicationArgs
from components.aws.budget import AwsBudget, AwsBudgetArgs
from components.aws.cluster_addons import ClusterAddons, ClusterAddonsArgs, NvidiaDevicePlugin, NvidiaDevicePluginArgs
from components.aws.container_repository import ContainerRepository, ContainerRepositoryArgs
from components.aws.dashboard import EcsServiceRef, OnCallDashboard, OnCallDashboardArgs
from components.aws.eks import EksCluster, EksClusterArgs
from components.aws.fargate_service import FargateAlbService, FargateAlbServiceArgs
from components.aws.fargate_shared_alb import SharedAlb, SharedAlbArgs
from components.aws.fargate_sizes import check_fargate_size, smallest_fargate_size
from components.aws.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from components.aws.grafana import ManagedGrafana, ManagedGrafanaArgs
from components.aws.karpenter import Karpenter, KarpenterArgs
from components.aws.keda import Keda, KedaArgs
from components.aws.karpenter_node_pool import KarpenterNodePool, KarpenterNodePoolArgs
from components.aws.model_store import ModelStore, ModelStoreArgs
from components.aws.postgres import PostgresDatabase, PostgresDatabaseArgs
from components.aws.postgres_tenant import PostgresTenantDatabase, PostgresTenantDatabaseArgs
from components.aws.prometheus import PrometheusWorkspace, PrometheusWorkspaceArgs
from components.aws.queue import QueueWithDlq, QueueWithDlqArgs
from components.aws.redis import RedisCache, RedisCacheArgs
from components.aws.vpc import Vpc, VpcArgs
from components.aws.workload_role import WorkloadRole, WorkloadRoleArgs

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
