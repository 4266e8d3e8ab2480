"""tabular: a trained tabular model behind an HTTP API, MLflow tracking, nightly batch scoring.

The model API and MLflow run on ECS Fargate behind one shared ALB (MLflow under ``/mlflow``, the model
API everything else, with canary deploys that roll back on alarms); MLflow keeps runs in Postgres and
artifacts in S3; a nightly CronJob on EKS reads the registered model from the artifacts bucket and
writes predictions to the same Postgres.
"""

import pulumi

from genai_platform.components.aws import (Bucket, FargateAlbService, FargateAlbServiceArgs, PostgresDatabase, PostgresTenantDatabase,
                            SharedAlb, SharedAlbArgs)
from genai_platform.components.k8s import KubeCronJob, KubeCronJobArgs
from genai_platform.stacks.config import EnvConfig
from genai_platform.stacks.services.images import ServiceImages
from genai_platform.stacks.services.observability import Observability
from genai_platform.stacks.services.platform import Platform

NAMESPACE = "tabular"
MLFLOW_PORT = 5000
MLFLOW_PREFIX = "/mlflow"
"""MLflow's path on the shared ALB; ``MLFLOW_STATIC_PREFIX`` makes ``mlflow server`` serve its UI and API under it."""


class TabularService(pulumi.ComponentResource):
    """Model API, MLflow and batch scoring."""

    load_balancer: SharedAlb
    model_api: FargateAlbService
    mlflow: FargateAlbService
    database: PostgresDatabase | PostgresTenantDatabase
    artifacts: Bucket

    def __init__(self, settings: EnvConfig, platform: Platform, opts: pulumi.ResourceOptions | None = None,
                 observability: Observability | None = None):
        env = settings.stack
        super().__init__("genai:stack:TabularService", f"{env}-tabular", None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**settings.tags, "Service": "tabular"}
        network, cluster = platform.network, platform.cluster
        protect = settings.protect_stateful

        images = ServiceImages(f"{env}-tabular", ["api", "mlflow", "scoring"], settings, tags, self)
        self.artifacts = Bucket(f"{env}-tabular-artifacts", platform.data_bucket_args(settings, tags), child)
        # The cluster's nodes (the scoring CronJob) may connect; the Fargate services are admitted below.
        self.database = platform.database(settings, "tabular", "mlflow", tags, self)
        bucket_arn, objects = self.artifacts.bucket_arn, pulumi.Output.concat(self.artifacts.bucket_arn, "/*")
        read_artifacts = [
            {"Sid": "ListArtifacts", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
            {"Sid": "ReadArtifacts", "Action": ["s3:GetObject"], "Resource": [objects]},
            {"Sid": "DecryptArtifacts", "Action": ["kms:Decrypt"], "Resource": [self.artifacts.kms_key_arn]},
        ]
        write_artifacts = [
            {"Sid": "WriteArtifacts", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"], "Resource": [objects]},
            {"Sid": "EncryptArtifacts", "Action": ["kms:GenerateDataKey"], "Resource": [self.artifacts.kms_key_arn]},
        ]
        secret = self.database.secret_arn
        database_credentials = {
            # ECS injects single JSON keys of the RDS-managed secret; the password never enters config.
            "DB_USERNAME": pulumi.Output.concat(secret, ":username::"),
            "DB_PASSWORD": pulumi.Output.concat(secret, ":password::"),
        }
        # One ALB for both services (~$22/month each): MLflow claims its prefix, the model API the rest.
        self.load_balancer = SharedAlb(f"{env}-tabular-lb", SharedAlbArgs(
            vpc_id=network.vpc_id, vpc_cidr_block=network.cidr_block, private_subnet_ids=network.private_subnet_ids,
            certificate_arn=settings.certificate_arn or None,
            # The model API and MLflow serve the platform's own applications and analysts on the
            # network; an internet-facing ALB would admit nobody anyway (the VPC-only security group).
            internal=True,
            deletion_protection=protect,
            access_logs_bucket=platform.load_balancer_logs.bucket_name,
            tags=tags,
        ), child)
        fargate = dict(
            vpc_id=network.vpc_id, vpc_cidr_block=network.cidr_block,
            private_subnet_ids=network.private_subnet_ids, load_balancer=self.load_balancer,
            min_tasks=settings.fargate_min_tasks, max_tasks=settings.fargate_max_tasks,
            fargate_spot=settings.fargate_spot,
            secrets_kms_key_arns=[self.database.kms_key_arn],
            # Postgres, and MLflow's ALB (HTTPS, or HTTP where no certificate is configured).
            egress_vpc_ports=([5432] if settings.certificate_arn else [5432, 80])
            + (observability.task_egress_ports() if observability else []),
            alarm_actions=[platform.alerts.topic_arn],
            tags=tags,
        )
        self.mlflow = FargateAlbService(f"{env}-tabular-mlflow", FargateAlbServiceArgs(
            image=images.image("mlflow"),
            container_port=MLFLOW_PORT,
            health_check_path=f"{MLFLOW_PREFIX}/health",
            path_patterns=[MLFLOW_PREFIX, f"{MLFLOW_PREFIX}/*"],
            listener_rule_priority=10,  # before the model API's catch-all
            environment={"DB_HOST": self.database.endpoint, "DB_NAME": "mlflow", "MLFLOW_STATIC_PREFIX": MLFLOW_PREFIX,
                         "ARTIFACTS_URI": pulumi.Output.concat("s3://", self.artifacts.bucket_name, "/mlflow"),
                         **(observability.task_env("tabular-mlflow", NAMESPACE) if observability else {})},
            secrets=database_credentials,
            task_role_statements=read_artifacts + write_artifacts,
            **fargate,
        ), child)
        self.model_api = FargateAlbService(f"{env}-tabular-api", FargateAlbServiceArgs(
            image=images.image("api"),
            environment={"MLFLOW_TRACKING_URI": self.mlflow.url, "MODEL_NAME": "tabular-model",
                         **(observability.task_env("tabular-api", NAMESPACE) if observability else {})},
            secrets=database_credentials,
            task_role_statements=read_artifacts,
            deployment_strategy="CANARY",
            cluster_arn=self.mlflow.cluster_arn,  # one cluster, one set of Container Insights metrics
            **fargate,
        ), child)
        self.database.admit("mlflow", self.mlflow.security_group_id)
        self.database.admit("model-api", self.model_api.security_group_id)

        scoring_role = platform.workload_role(f"{env}-tabular-scoring", NAMESPACE, {
            "read-artifacts": self.artifacts.read_policy_json,
            "read-db-secret": self.database.secret_read_policy_json(),
        }, tags, self)
        KubeCronJob(f"{env}-tabular-scoring", KubeCronJobArgs(
            image=images.image("scoring"),
            image_digest=images.digest("scoring"),
            namespace=NAMESPACE,
            create_namespace=True,
            provider=cluster.provider,
            schedule="0 2 * * *",  # nightly, after the day's data has landed
            iam_role_arn=scoring_role.role_arn,
            env={"DB_HOST": self.database.endpoint, "DB_NAME": "mlflow", "DB_SECRET_ARN": secret,
                 "MLFLOW_TRACKING_URI": self.mlflow.url, "MODEL_NAME": "tabular-model",
                 **(observability.pod_env("tabular-scoring", NAMESPACE) if observability else {})},
            cpu_request_millicores=1000, memory_request_mib=2048, memory_limit_mib=4096,
        ), pulumi.ResourceOptions(parent=self, depends_on=platform.workload_dependencies))

        self.register_outputs({"model_api_url": self.model_api.url, "mlflow_url": self.mlflow.url})
