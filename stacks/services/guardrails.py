"""Budgets on both clouds and the on-call dashboard of one environment."""

import pulumi
from pulumi_gcp import organizations

from genai_platform.components.aws import AwsBudget, AwsBudgetArgs, EcsServiceRef, OnCallDashboard, OnCallDashboardArgs
from genai_platform.components.gcp import GcpBudget, GcpBudgetArgs, KmsKeyRing, KmsKeyRingArgs, service_agent
from genai_platform.stacks.config import EnvConfig
from genai_platform.stacks.services.platform import Platform
from genai_platform.stacks.services.rag import RagService
from genai_platform.stacks.services.tabular import TabularService


class Guardrails(pulumi.ComponentResource):
    """An AWS and a GCP budget, and the dashboard an on-call engineer opens first."""

    aws_budget: AwsBudget
    gcp_budget: GcpBudget
    dashboard: OnCallDashboard

    def __init__(self, settings: EnvConfig, platform: Platform, rag: RagService, tabular: TabularService,
                 opts: pulumi.ResourceOptions | None = None):
        env = settings.stack
        super().__init__("genai:stack:Guardrails", f"{env}-guardrails", None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = settings.tags

        self.aws_budget = AwsBudget(f"{env}-aws-budget", AwsBudgetArgs(
            limit_amount_usd=settings.monthly_budget_usd, alert_emails=settings.alert_emails, tags=tags), child)
        project = organizations.get_project(project_id=settings.gcp_project, opts=pulumi.InvokeOptions(parent=self))
        keys = KmsKeyRing(f"{env}-budget-keys", KmsKeyRingArgs(
            location=settings.gcp_region, keys={"alerts": [service_agent("pubsub", project.number)]},
            protect=settings.protect_stateful, tags=tags), child)
        self.gcp_budget = GcpBudget(f"{env}-gcp-budget", GcpBudgetArgs(
            billing_account=settings.gcp_billing_account, project_number=project.number,
            amount_usd=settings.gcp_monthly_budget_usd, kms_key_name=keys.key_ids["alerts"], tags=tags), child)

        services = [tabular.model_api, tabular.mlflow]
        self.dashboard = OnCallDashboard(f"{env}-oncall", OnCallDashboardArgs(
            region=settings.aws_region,
            alb_arn_suffixes={f"tabular-{label}": svc.alb_arn_suffix
                              for label, svc in zip(("api", "mlflow"), services)},
            ecs_services=[EcsServiceRef(cluster_name=svc.cluster_name, service_name=svc.service_name)
                          for svc in services],
            db_instance_identifiers=[rag.database.instance_identifier, tabular.database.instance_identifier],
            queue_names=[rag.queue.queue_name],
            dlq_names=[rag.queue.dlq_name],
            eks_cluster_names=[platform.cluster.cluster_name],
        ), child)
        self.register_outputs({"aws_budget_name": self.aws_budget.budget_name,
                               "gcp_budget_name": self.gcp_budget.budget_name})
