"""What every service stands on: the network, the alert topic, the EKS cluster and its node pools."""

import pulumi

from components.aws import (AlertTopic, AlertTopicArgs, Bucket, BucketArgs, ClusterAddons, ClusterAddonsArgs, EksCluster,
                            EksClusterArgs, GpuNodePool, GpuNodePoolArgs, NvidiaDevicePlugin, NvidiaDevicePluginArgs,
                            PostgresDatabaseArgs, Vpc, VpcArgs, WorkloadRole, WorkloadRoleArgs)
from components.aws.ci_runner import GithubActionsRunner, GithubActionsRunnerArgs
from stacks.config import EnvConfig


LOAD_BALANCER_LOG_DAYS = 90
"""Access logs of every ALB are kept this long: enough to investigate an incident, cheap in S3."""


class Platform(pulumi.ComponentResource):
    """Network, alerting and the Kubernetes cluster of one environment."""

    network: Vpc
    alerts: AlertTopic
    load_balancer_logs: Bucket
    cluster: EksCluster
    gpu_pool: GpuNodePool
    deploy_runner: GithubActionsRunner | None
    """The in-VPC runner the deploy workflow uses (None until ``ciGithubConnectionArn`` is set)."""
    workload_dependencies: list[pulumi.Resource]
    """What every Kubernetes workload must be created after (``depends_on``)."""

    @staticmethod
    def ingress_group(settings: EnvConfig) -> str:
        """The AWS Load Balancer Controller group every internal Ingress joins: one ALB per environment
        (~$22/month each) instead of one per service."""
        return f"{settings.stack}-internal"

    def __init__(self, settings: EnvConfig, opts: pulumi.ResourceOptions | None = None):
        name = f"{settings.stack}-platform"
        super().__init__("genai:stack:Platform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env, tags = settings.stack, settings.tags

        self.network = Vpc(f"{env}-network", VpcArgs(
            cidr_block=settings.vpc_cidr,
            zone_count=settings.az_count,
            nat_strategy=settings.nat_strategy,
            flow_log_retention_days=settings.flow_log_retention_days,
            interface_endpoints=settings.interface_endpoints,
            tags=tags,
        ), child)
        self.alerts = AlertTopic(f"{env}-alerts", AlertTopicArgs(alert_emails=settings.alert_emails, tags=tags), child)
        self.load_balancer_logs = Bucket(f"{env}-lb-logs", BucketArgs(
            load_balancer_log_target=True,
            object_expiration_days=LOAD_BALANCER_LOG_DAYS,
            noncurrent_version_expiration_days=1,
            protect=settings.protect_stateful,
            tags=tags,
        ), child)

        self.cluster = EksCluster(f"{env}-eks", EksClusterArgs(
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
            protect=settings.protect_stateful,
            tags=tags,
        ), child)
        addons = ClusterAddons(f"{env}-addons", ClusterAddonsArgs(cluster=self.cluster, tags=tags), child)
        self.deploy_runner = self._deploy_runner(settings, child)

        self.gpu_pool = GpuNodePool(f"{env}-gpu", GpuNodePoolArgs(
            cluster=self.cluster,
            instance_types=settings.gpu_instance_types,
            capacity_type=settings.gpu_capacity_type,
            min_size=settings.gpu_min_size,
            desired_size=settings.gpu_min_size,
            max_size=settings.gpu_max_size,
            tags=tags,
        ), child)
        # Workloads wait for the controllers: Services and Ingresses are admitted by the load balancer
        # controller's webhooks, and GPU pods are only schedulable once the device plugin advertises GPUs.
        self.workload_dependencies: list[pulumi.Resource] = [addons]
        if self.gpu_pool.needs_device_plugin:
            self.workload_dependencies.append(
                NvidiaDevicePlugin(f"{env}-nvidia", NvidiaDevicePluginArgs(cluster=self.cluster), child))

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
