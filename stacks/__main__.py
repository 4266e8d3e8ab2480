"""Pulumi program: config -> services -> exports. Run with `pulumi up -s <env>` or `genai-infra plan <env>`."""

import pulumi

from genai_platform.stacks import config
from genai_platform.stacks.services.chat import ChatService
from genai_platform.stacks.services.guardrails import Guardrails
from genai_platform.stacks.services.observability import CloudRunMonitoring, Observability
from genai_platform.stacks.services.platform import Platform
from genai_platform.stacks.services.rag import RagService
from genai_platform.stacks.services.tabular import TabularService

settings = config.from_pulumi()
platform = Platform(settings)
observability = Observability(settings, platform)
rag = RagService(settings, platform, observability=observability)
tabular = TabularService(settings, platform, observability=observability)
chat = ChatService(settings)
guardrails = Guardrails(settings, platform, rag, tabular)
CloudRunMonitoring(settings, chat.web.service_name)

pulumi.export("vpcId", platform.network.vpc_id)
pulumi.export("clusterName", platform.cluster.cluster_name)
pulumi.export("alertTopicArn", platform.alerts.topic_arn)
pulumi.export("ragApiHostname", rag.api.ingress_hostname)
pulumi.export("tabularApiUrl", tabular.model_api.url)
pulumi.export("mlflowUrl", tabular.mlflow.url)
pulumi.export("chatWebUrl", chat.web.url)
pulumi.export("chatModelUrl", chat.model.url)
pulumi.export("databaseEndpoints", {"rag": rag.database.endpoint, "tabular": tabular.database.endpoint})
# The login each service uses: the master secret of its own instance, or its own on a shared one.
pulumi.export("databaseSecrets", {"rag": rag.database.secret_arn, "tabular": tabular.database.secret_arn})
pulumi.export("gcpBudgetName", guardrails.gcp_budget.budget_name)
pulumi.export("dashboardUrl", guardrails.dashboard.dashboard_url)
pulumi.export("prometheusEndpoint", observability.prometheus.prometheus_endpoint)
pulumi.export("grafanaUrl", observability.grafana.endpoint if observability.grafana else "")
pulumi.export("gpuNodePoolName", platform.gpu_pool.node_pool_name)
pulumi.export("ecsClusterName", tabular.model_api.cluster_name)
pulumi.export("ecsServiceNames", {"tabular-api": tabular.model_api.service_name,
                                  "mlflow": tabular.mlflow.service_name})

# What `genai-infra verify <env> --outputs` checks after a deploy (genai_platform/aws_ops/output_keys.py).
pulumi.export("databaseIdentifier", {"rag": rag.database.instance_identifier,
                                     "tabular": tabular.database.instance_identifier})
pulumi.export("bucketNames", {"rag-documents": rag.documents.bucket_name,
                              "tabular-artifacts": tabular.artifacts.bucket_name})
pulumi.export("queueUrls", {"rag-ingest": rag.queue.queue_url})
pulumi.export("dlqUrls", {"rag-ingest": rag.queue.dlq_url})
pulumi.export("albTargetGroupArns", tabular.model_api.target_group_arns + tabular.mlflow.target_group_arns)
pulumi.export("budgetNames", {"aws": guardrails.aws_budget.budget_name})
# Alarm names are the logical names plus a suffix, and every logical name starts with the stack name.
pulumi.export("alarmNamePrefix", f"{settings.stack}-")
# What the region-loss procedure reads (docs/runbook.md section 9); copy them out of the primary region's state.
if platform.dr_provider is not None:
    pulumi.export("drRegion", settings.dr_region)
    pulumi.export("replicaBucketNames", {"rag-documents": rag.documents.replica_bucket_name,
                                         "tabular-artifacts": tabular.artifacts.replica_bucket_name})
if platform.access_logs is not None:
    pulumi.export("accessLogBucket", platform.access_logs.bucket_name)
