"""What every service stands on: the network, the alert topic, the EKS cluster and its node pools."""

import pulumi
import pulumi_aws as aws
from pulumi_kubernetes.core.v1 import Namespace

from genai_platform.components.aws import (AlertTopic, AlertTopicArgs, Bucket, BucketArgs, BucketReplicationArgs, ClusterAddons,
                            ClusterAddonsArgs, EksCluster, EksClusterArgs, Karpenter, KarpenterArgs, KarpenterNodePool,
                            KarpenterNodePoolArgs, Keda, KedaArgs, NvidiaDevicePlugin, NvidiaDevicePluginArgs,
                            PostgresDatabase, PostgresDatabaseArgs, PostgresTenantDatabase, PostgresTenantDatabaseArgs,
                            Vpc, VpcArgs, WorkloadRole, WorkloadRoleArgs)
from genai_platform.components.aws.ops.ci_runner import GithubActionsRunner, GithubActionsRunnerArgs
from genai_platform.components.aws.capacity.karpenter import DISCOVERY_TAG
from genai_platform.stacks.config import ConfigError, EnvConfig


LOAD_BALANCER_LOG_DAYS = 90
"""Access logs of every ALB are kept this long: enough to investigate an incident, cheap in S3."""

DATABASE_PROVISIONING_NAMESPACE = "postgres-provisioning"
"""Namespace of the Jobs that create the services' databases on a shared Postgres instance."""


class Platform(pulumi.ComponentResource):
    """Network, alerting and the Kubernetes cluster of one environment."""

    network: Vpc
    alerts: AlertTopic
    load_balancer_logs: Bucket
    access_logs: Bucket | None
    """Receives the S3 server access logs of the environment's buckets (``s3AccessLogs``), one prefix per bucket."""
    dr_provider: aws.Provider | None
    """AWS provider of ``drRegion`` where the tier asks for cross-region DR (``crossRegionDr``)."""
    dr_access_logs: Bucket | None
    """The access-log bucket of the DR region (S3 logs only within a region), for the replicas."""
    cluster: EksCluster
    karpenter: Karpenter
    gpu_pool: KarpenterNodePool
    burst_pool: KarpenterNodePool
    keda: Keda
    """Scales workloads on events (queue depth, Prometheus) and to zero; ScaledObjects wait for ``keda.release``."""
    deploy_runner: GithubActionsRunner | None
    """The in-VPC runner the deploy workflow uses (None until ``ciGithubConnectionArn`` is set)."""
    workload_dependencies: list[pulumi.Resource]
    """What every Kubernetes workload must be created after (``depends_on``)."""
    shared_postgres: PostgresDatabase | None
    """With ``postgresSharedInstance``: the instance every service's database lives on."""

    @staticmethod
    def ingress_group(settings: EnvConfig) -> str:
        """The AWS Load Balancer Controller group every internal Ingress joins: one ALB per environment
        (~$22/month each) instead of one per service."""
        return f"{settings.stack}-internal"

    @staticmethod
    def cluster_name(settings: EnvConfig) -> str:
        """The EKS cluster's name (``EksCluster`` names it after its component)."""
        return f"{settings.stack}-eks"

    def __init__(self, settings: EnvConfig, opts: pulumi.ResourceOptions | None = None):
        name = f"{settings.stack}-platform"
        super().__init__("genai:stack:Platform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env, tags = settings.stack, settings.tags

        self.alerts = AlertTopic(f"{env}-alerts", AlertTopicArgs(alert_emails=settings.alert_emails,
                                                                  allow_prometheus=True, tags=tags), child)
        self.network = Vpc(f"{env}-network", VpcArgs(
            cidr_block=settings.vpc_cidr,
            zone_count=settings.az_count,
            nat_strategy=settings.nat_strategy,
            nat_type=settings.nat_type,
            nat_alarm_actions=[self.alerts.topic_arn],
            flow_log_retention_days=settings.flow_log_retention_days,
            interface_endpoints=settings.interface_endpoints,
            # Karpenter launches nodes into the subnets carrying its discovery tag: the private ones only.
            private_subnet_tags={DISCOVERY_TAG: self.cluster_name(settings)},
            tags=tags,
        ), child)
        self._trails(settings)
        self.load_balancer_logs = Bucket(f"{env}-lb-logs", BucketArgs(
            load_balancer_log_target=True,
            object_expiration_days=LOAD_BALANCER_LOG_DAYS,
            noncurrent_version_expiration_days=1,
            access_log_bucket=self.access_logs.bucket_name if self.access_logs else None,
            protect=settings.protect_stateful,
            tags=tags,
        ), child)

        self.cluster = EksCluster(self.cluster_name(settings), EksClusterArgs(
            vpc_id=self.network.vpc_id,
            private_subnet_ids=self.network.private_subnet_ids,
            service_ipv4_cidr=settings.eks_service_cidr,
            admin_role_arns=settings.eks_admin_role_arns,
            endpoint_public_access=bool(settings.eks_public_access_cidrs),
            public_access_cidrs=settings.eks_public_access_cidrs,
            system_instance_types=settings.system_node_instance_types,
            system_capacity_type=settings.system_node_capacity_type,
            system_min_size=settings.system_nodes_min,
            system_desired_size=settings.system_nodes_min,
            system_max_size=settings.system_nodes_max,
            system_root_volume_gib=settings.system_node_root_volume_gib,
            protect=settings.protect_stateful,
            tags=tags,
        ), child)
        # Karpenter provisions GPU and burst nodes, so the cluster autoscaler (fragile scale-from-zero for managed
        # node groups, kubernetes/autoscaler#8799) is left out; the system node group keeps its minimum size.
        addons = ClusterAddons(f"{env}-addons", ClusterAddonsArgs(cluster=self.cluster, cluster_autoscaler=False,
                                                                  tags=tags), child)
        self.deploy_runner = self._deploy_runner(settings, child)
        self.karpenter = Karpenter(f"{env}-karpenter", KarpenterArgs(
            cluster=self.cluster, subnet_ids=[], protect=settings.protect_stateful, tags=tags), child)  # tagged by Vpc
        self.gpu_pool = KarpenterNodePool(f"{env}-gpu", KarpenterNodePoolArgs(
            karpenter=self.karpenter,
            preset="gpu-serving",
            instance_families=settings.gpu_instance_families,
            capacity_types=["spot" if settings.gpu_capacity_type == "SPOT" else "on-demand"],
            gpu_limit=settings.gpu_max_gpus,
            cpu_limit=settings.gpu_max_vcpus,
            memory_limit_gib=settings.gpu_max_memory_gib,
            tags=tags,
        ), child)
        # CPU pods the fixed-size system group cannot hold (API scale-out, ingestion and scoring bursts) go here.
        self.burst_pool = KarpenterNodePool(f"{env}-burst", KarpenterNodePoolArgs(
            karpenter=self.karpenter,
            preset="general-burst",
            cpu_limit=settings.burst_max_vcpus,
            memory_limit_gib=settings.burst_max_memory_gib,
            tags=tags,
        ), child)
        self.keda = Keda(f"{env}-keda", KedaArgs(cluster=self.cluster, tags=tags), child)
        # Workloads wait for the controllers: Services and Ingresses are admitted by the load balancer
        # controller's webhooks, and GPU pods are only schedulable once the device plugin advertises GPUs
        # (GPU workloads also wait for gpu_pool).
        self.workload_dependencies: list[pulumi.Resource] = [addons]
        if self.gpu_pool.needs_device_plugin:
            self.workload_dependencies.append(
                NvidiaDevicePlugin(f"{env}-nvidia", NvidiaDevicePluginArgs(cluster=self.cluster), child))

        self.shared_postgres, self._provisioning = None, []
        if settings.postgres_shared_instance:
            # Its own database is only the master user's; each service gets one through database().
            self.shared_postgres = PostgresDatabase(f"{env}-postgres", self.postgres_args(settings, "platform", tags),
                                                    child)
            psa = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
            self._provisioning = [*self.workload_dependencies, Namespace(
                f"{env}-postgres-provisioning", metadata={"name": DATABASE_PROVISIONING_NAMESPACE, "labels": psa},
                opts=pulumi.ResourceOptions(parent=self, provider=self.cluster.provider))]

        self.register_outputs({"cluster_name": self.cluster.cluster_name, "vpc_id": self.network.vpc_id})

    @staticmethod
    def runner_name(env: str) -> str:
        """The runner's component and CodeBuild project name; the deploy workflow's ``runs-on`` names it."""
        return f"{env}-deploy-runner"

    def _deploy_runner(self, settings: EnvConfig, child: pulumi.ResourceOptions) -> GithubActionsRunner | None:
        if not (settings.ci_github_connection_arn or settings.ci_github_repository):
            return None
        # In the private subnets, allowed to the private API endpoint through the cluster security group.
        return GithubActionsRunner(self.runner_name(settings.stack), GithubActionsRunnerArgs(
            vpc_id=self.network.vpc_id,
            private_subnet_ids=self.network.private_subnet_ids,
            repository=settings.ci_github_repository,
            github_connection_arn=settings.ci_github_connection_arn,
            api_security_group_ids=[self.cluster.cluster_security_group_id],
            tags=settings.tags,
        ), child)

    def database(self, settings: EnvConfig, service: str, db_name: str, tags: dict[str, str],
                 parent: pulumi.Resource, extensions: list[str] | None = None) -> PostgresDatabase | PostgresTenantDatabase:
        """The database of ``service``: an instance of its own, or with ``postgresSharedInstance`` a database,
        owner role (``<db_name>_app``) and secret of its own on the shared instance, with ``extensions``."""
        name, opts = f"{settings.stack}-{service}-db", pulumi.ResourceOptions(parent=parent)
        if self.shared_postgres is None:
            return PostgresDatabase(name, self.postgres_args(settings, db_name, tags), opts)
        return PostgresTenantDatabase(name, PostgresTenantDatabaseArgs(
            instance=self.shared_postgres, db_name=db_name, username=f"{db_name}_app",
            provider=self.cluster.provider, namespace=DATABASE_PROVISIONING_NAMESPACE,
            oidc_provider_arn=self.cluster.oidc_provider_arn, oidc_provider_url=self.cluster.oidc_provider_url,
            extensions=extensions or [], depends_on=self._provisioning, tags=tags,
        ), opts)

    def _trails(self, settings: EnvConfig) -> None:
        """The DR region's provider and the access-log buckets, where the tier asks for them.

        Access trails are S3 server access logs rather than CloudTrail data events: they cost only their storage
        (data events are $0.10 per 100,000 requests, and the ingestion worker and MLflow read every object), they
        record every request including anonymous and refused ones, and ``Bucket`` already hardens a log target.
        What they give up: delivery is best-effort within hours, not CloudTrail's 15 minutes, and they name the
        IAM principal but not its session tags; docs/runbook.md says how to query them.
        """
        env, tags, protect = settings.stack, settings.tags, settings.protect_stateful
        child = pulumi.ResourceOptions(parent=self)
        self.dr_provider = self.access_logs = self.dr_access_logs = None
        if settings.cross_region_dr:
            if settings.dr_region == settings.aws_region:
                raise ConfigError(
                    f"stacks/Pulumi.{env}.yaml: genai-platform:drRegion = {settings.dr_region!r} is invalid: it is "
                    "aws:region itself, so a region loss would take the copies too; pick another region, e.g. "
                    f"{'us-east-1' if settings.aws_region != 'us-east-1' else 'us-west-2'}.")
            self.dr_provider = aws.Provider(f"{env}-dr", region=settings.dr_region, opts=child)
        if not settings.s3_access_logs:
            return
        log_args = dict(access_log_target=True, object_expiration_days=settings.access_log_retention_days,
                        noncurrent_version_expiration_days=1, protect=protect, tags=tags)
        self.access_logs = Bucket(f"{env}-access-logs", BucketArgs(**log_args), child)
        if self.dr_provider is not None:
            self.dr_access_logs = Bucket(f"{env}-dr-access-logs", BucketArgs(**log_args),
                                         pulumi.ResourceOptions(parent=self, provider=self.dr_provider))

    def data_bucket_args(self, settings: EnvConfig, tags: dict[str, str]) -> BucketArgs:
        """A service's data bucket: access logs into the environment's log bucket, and a replica in the DR
        region where the tier asks for one."""
        replication = None
        if self.dr_provider is not None:
            replication = BucketReplicationArgs(
                provider=self.dr_provider,
                access_log_bucket=self.dr_access_logs.bucket_name if self.dr_access_logs else None,
                time_control=settings.replication_time_control,
            )
        return BucketArgs(
            access_log_bucket=self.access_logs.bucket_name if self.access_logs else None,
            replication=replication,
            protect=settings.protect_stateful,
            tags=tags,
        )

    def postgres_args(self, settings: EnvConfig, db_name: str, tags: dict[str, str]) -> PostgresDatabaseArgs:
        """A service database sized by the tier, in the isolated subnets, reachable from the cluster's nodes."""
        return PostgresDatabaseArgs(
            vpc_id=self.network.vpc_id,
            db_subnet_group_name=self.network.database_subnet_group_name,
            allowed_security_group_ids=[self.cluster.cluster_security_group_id],
            db_name=db_name,
            instance_class=settings.postgres_instance_class,
            multi_az=settings.postgres_multi_az,
            backup_retention_days=settings.postgres_backup_retention_days,
            allocated_storage_gb=settings.postgres_allocated_storage_gb,
            max_allocated_storage_gb=settings.postgres_max_allocated_storage_gb,
            performance_insights_enabled=settings.postgres_performance_insights,
            backup_replica_provider=self.dr_provider,
            protect=settings.protect_stateful,
            tags=tags,
        )

    def workload_role(self, name: str, namespace: str, policies: dict[str, pulumi.Input[str]],
                      tags: dict[str, str], parent: pulumi.Resource) -> WorkloadRole:
        """The IRSA role of the workload component ``name`` (KubeService/KubeCronJob name their service
        account after themselves), granting exactly ``policies``."""
        return WorkloadRole(name, WorkloadRoleArgs(
            oidc_provider_arn=self.cluster.oidc_provider_arn,
            oidc_provider_url=self.cluster.oidc_provider_url,
            namespace=namespace,
            service_account=name,
            policies=policies,
            tags=tags,
        ), pulumi.ResourceOptions(parent=parent))
