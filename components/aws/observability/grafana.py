"""ManagedGrafana: an Amazon Managed Grafana workspace reading Prometheus (AMP), CloudWatch and X-Ray,
with its data sources and dashboards provisioned from JSON kept in the repository.

Prerequisite: IAM Identity Center (or a SAML identity provider) enabled in the account or its
organization; without it AWS refuses to create the workspace. Users and groups are assigned to the
workspace in Identity Center (``aws.grafana.RoleAssociation``), not here.
"""

import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumiverse_grafana as grafana
from pulumi_aws import iam
from pulumi_aws import grafana as aws_grafana

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.data_helpers import allow, policy_json, rotating_key
from genai_platform.components.aws.observability.prometheus import QUERY_ACTIONS
from genai_platform.components.tagging import child_tags

GRAFANA = "grafana.amazonaws.com"
DEFAULT_GRAFANA_VERSION = "10.4"
"""Amazon Managed Grafana versions are one-way upgrades (alerting changes between them): pinned."""
CLOUDWATCH_READ_ACTIONS = ["cloudwatch:DescribeAlarmsForMetric", "cloudwatch:DescribeAlarmHistory",
                           "cloudwatch:DescribeAlarms", "cloudwatch:ListMetrics", "cloudwatch:GetMetricData",
                           "cloudwatch:GetInsightRuleReport", "ec2:DescribeRegions", "tag:GetResources"]
"""The CloudWatch data source's read calls (AWS ``AmazonGrafanaCloudWatchAccess``); none takes a resource ARN."""
XRAY_READ_ACTIONS = ["xray:BatchGetTraces", "xray:GetTraceSummaries", "xray:GetTraceGraph", "xray:GetGroups",
                     "xray:GetTimeSeriesServiceStatistics", "xray:GetInsightSummaries", "xray:GetInsight",
                     "xray:GetServiceGraph"]
"""The X-Ray data source's read calls; X-Ray authorizes them only on ``*``."""
PROMETHEUS_DATA_SOURCE_UID = "amp"
"""Dashboards refer to the AMP data source as ``{"type": "prometheus", "uid": "amp"}``."""
_DASHBOARD_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass
class ManagedGrafanaArgs:
    """Arguments of :class:`ManagedGrafana`. Every default is the secure one."""

    region: str
    """Region of the data sources (the workspace's own)."""

    prometheus_workspace_arn: pulumi.Input[str]
    """``PrometheusWorkspace.workspace_arn``: the only workspace Grafana may query."""

    prometheus_endpoint: pulumi.Input[str]
    """``PrometheusWorkspace.prometheus_endpoint``."""

    dashboards: dict[str, str] = field(default_factory=dict)
    """Dashboards by short name: Grafana dashboard JSON (the repository's files), provisioned as given."""

    authentication_providers: list[str] = field(default_factory=lambda: ["AWS_SSO"])
    """``AWS_SSO`` (IAM Identity Center) or ``SAML``: who may sign in. Never API keys alone."""

    grafana_version: str = DEFAULT_GRAFANA_VERSION
    """Grafana version of the workspace."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class ManagedGrafana(pulumi.ComponentResource):
    """Workspace (KMS-encrypted, Identity Center sign-in, customer-managed read-only role) + data sources for
    AMP, CloudWatch and X-Ray + the dashboards, through a Grafana service account the stack alone uses."""

    endpoint: pulumi.Output[str]
    """URL of the workspace (``https://g-....grafana-workspace.<region>.amazonaws.com``)."""
    role_arn: pulumi.Output[str]
    """The workspace's IAM role (read-only on AMP, CloudWatch and X-Ray)."""

    def __init__(self, name: str, args: ManagedGrafanaArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:ManagedGrafana", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = account_of(self).account_id
        role = iam.Role(f"{name}-role", assume_role_policy=policy_json([{
            "Effect": "Allow", "Principal": {"Service": GRAFANA}, "Action": "sts:AssumeRole",
            # Only workspaces of this account (confused deputy).
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }]), tags=child_tags(f"{name}-role", args.tags), opts=child)
        iam.RolePolicy(f"{name}-read", role=role.id, policy=pulumi.Output.from_input(
            args.prometheus_workspace_arn).apply(lambda arn: policy_json([
                allow("QueryPrometheus", QUERY_ACTIONS, [arn]),
                allow("ReadCloudWatch", CLOUDWATCH_READ_ACTIONS, ["*"]),
                allow("ReadXRay", XRAY_READ_ACTIONS, ["*"]),
            ])), opts=child)
        key = rotating_key(f"{name}-key", f"Encrypts the Grafana workspace {name}", args.tags, self, protect=False)
        workspace = aws_grafana.Workspace(
            f"{name}-workspace", name=name, account_access_type="CURRENT_ACCOUNT",
            authentication_providers=args.authentication_providers, permission_type="CUSTOMER_MANAGED",
            role_arn=role.arn, data_sources=["PROMETHEUS", "CLOUDWATCH", "XRAY"],
            grafana_version=args.grafana_version, kms_key_id=key.arn,
            tags=child_tags(f"{name}-workspace", args.tags), opts=child)
        # The stack's own identity inside Grafana: an admin service account whose token provisions the data
        # sources and dashboards. Tokens live at most 30 days: see the README on rotating it.
        account_sa = aws_grafana.WorkspaceServiceAccount(f"{name}-provisioner", name=f"{name}-provisioner",
                                                         grafana_role="ADMIN", workspace_id=workspace.id, opts=child)
        token = aws_grafana.WorkspaceServiceAccountToken(
            f"{name}-provisioner", name=f"{name}-provisioner", service_account_id=account_sa.service_account_id,
            workspace_id=workspace.id, seconds_to_live=30 * 24 * 3600, opts=child)
        provider = grafana.Provider(f"{name}-grafana", url=workspace.endpoint.apply(lambda host: f"https://{host}"),
                                    auth=token.key, opts=child)
        in_grafana = pulumi.ResourceOptions(parent=self, provider=provider)
        grafana.oss.DataSource(f"{name}-prometheus", name="Amazon Managed Prometheus", type="prometheus",
                               uid=PROMETHEUS_DATA_SOURCE_UID, url=args.prometheus_endpoint, is_default=True,
                               json_data_encoded=json.dumps({"httpMethod": "POST", "sigV4Auth": True,
                                                             "sigV4AuthType": "ec2_iam_role",
                                                             "sigV4Region": args.region}), opts=in_grafana)
        for source, kind in (("cloudwatch", "cloudwatch"), ("xray", "grafana-x-ray-datasource")):
            grafana.oss.DataSource(f"{name}-{source}", name=source, type=kind, uid=source,
                                   json_data_encoded=json.dumps({"authType": "ec2_iam_role",
                                                                 "defaultRegion": args.region}), opts=in_grafana)
        for dashboard, text in args.dashboards.items():
            grafana.oss.Dashboard(f"{name}-{dashboard}", config_json=text, overwrite=True, opts=in_grafana)

        self.endpoint = workspace.endpoint.apply(lambda host: f"https://{host}")
        self.role_arn = role.arn
        self.register_outputs({"endpoint": self.endpoint, "role_arn": self.role_arn})


def _validate(args: ManagedGrafanaArgs) -> None:
    unknown = sorted(set(args.authentication_providers) - {"AWS_SSO", "SAML"})
    if not args.authentication_providers or unknown:
        raise ValueError(f"authentication_providers={args.authentication_providers} is invalid: use ['AWS_SSO'] "
                         "(IAM Identity Center) and/or ['SAML'].")
    for dashboard, text in args.dashboards.items():
        if not _DASHBOARD_NAME.match(dashboard):
            raise ValueError(f"dashboards key {dashboard!r} is not a short name: use lower-case letters, digits "
                             "and '-'.")
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"dashboards[{dashboard!r}] is not JSON: pass the dashboard's JSON model.") from None
        if not isinstance(document, dict) or not document.get("uid") or not document.get("title"):
            raise ValueError(f"dashboards[{dashboard!r}] has no uid or title: a Grafana dashboard model needs both "
                             "(a fixed uid keeps its URL stable).")
