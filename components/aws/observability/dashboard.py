"""OnCallDashboard: the CloudWatch dashboard an on-call engineer opens first, one per environment."""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import cloudwatch

WIDGETS_PER_ROW = 3
WIDGET_WIDTH = 8  # of the dashboard grid's 24 columns
WIDGET_HEIGHT = 6
PERIOD_SECONDS = 60
"""Every graphed metric is published at one-minute resolution; a coarser period hides short spikes."""

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_ALB_ARN_SUFFIX = re.compile(r"^app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$")


@dataclass(frozen=True)
class EcsServiceRef:
    """One ECS service, as CloudWatch's AWS/ECS dimensions name it."""

    cluster_name: pulumi.Input[str]
    """Name of the ECS cluster (the ``ClusterName`` dimension), not its ARN."""
    service_name: pulumi.Input[str]
    """Name of the service (the ``ServiceName`` dimension)."""


@dataclass(frozen=True)
class Panel:
    """One graph: the same metric(s) for every resource of one kind, one line each."""

    source: str
    """Which argument's resources it graphs: alb, ecs, db, queue, dlq or eks."""
    title: str
    namespace: str
    metrics: tuple[tuple[str, str], ...]
    """(metric name, label suffix) pairs drawn for each resource."""
    stat: str
    percent: bool = False


PANELS: tuple[Panel, ...] = (
    Panel("alb", "ALB requests per minute", "AWS/ApplicationELB", (("RequestCount", ""),), "Sum"),
    # Target 5xx are the application's errors; ELB 5xx are the load balancer's own (no healthy target, timeouts).
    Panel("alb", "ALB 5xx responses per minute", "AWS/ApplicationELB",
          (("HTTPCode_Target_5XX_Count", " targets"), ("HTTPCode_ELB_5XX_Count", " load balancer")), "Sum"),
    Panel("alb", "ALB p95 target response time (seconds)", "AWS/ApplicationELB", (("TargetResponseTime", ""),), "p95"),
    Panel("ecs", "ECS CPU utilization (%)", "AWS/ECS", (("CPUUtilization", ""),), "Average", percent=True),
    Panel("ecs", "ECS memory utilization (%)", "AWS/ECS", (("MemoryUtilization", ""),), "Average", percent=True),
    Panel("db", "RDS CPU utilization (%)", "AWS/RDS", (("CPUUtilization", ""),), "Average", percent=True),
    Panel("db", "RDS database connections", "AWS/RDS", (("DatabaseConnections", ""),), "Maximum"),
    Panel("db", "RDS free storage space (bytes)", "AWS/RDS", (("FreeStorageSpace", ""),), "Minimum"),
    Panel("queue", "SQS messages waiting", "AWS/SQS", (("ApproximateNumberOfMessagesVisible", ""),), "Maximum"),
    Panel("queue", "SQS age of the oldest message (seconds)", "AWS/SQS", (("ApproximateAgeOfOldestMessage", ""),),
          "Maximum"),
    Panel("dlq", "Dead-letter queue messages (should be 0)", "AWS/SQS", (("ApproximateNumberOfMessagesVisible", ""),),
          "Maximum"),
    Panel("eks", "EKS nodes", "ContainerInsights", (("cluster_node_count", ""),), "Average"),
)
"""The panels in on-call order; a panel whose source argument is empty is left out."""


@dataclass
class OnCallDashboardArgs:
    """Arguments of :class:`OnCallDashboard`. Pass what the environment runs; at least one source."""

    region: str
    """Region the resources are in (the stack's ``aws:region``): every widget queries it, and the console URL
    names it. Required because components never read config."""

    alb_arn_suffixes: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Application Load Balancers by a short label (``{"tabular": lb.arn_suffix}``): requests, 5xx from targets
    and from the load balancer, p95 target response time. The ``arn_suffix`` (``app/<name>/<id>``) is what
    the ``LoadBalancer`` dimension holds; the full ARN matches no metric."""

    ecs_services: list[EcsServiceRef] = field(default_factory=list)
    """ECS services: CPU and memory utilization (percent of the task size) per service."""

    db_instance_identifiers: list[pulumi.Input[str]] = field(default_factory=list)
    """RDS instance identifiers: CPU, connections (maximum), free storage (minimum)."""

    queue_names: list[pulumi.Input[str]] = field(default_factory=list)
    """SQS queues: messages waiting and the age of the oldest one (the signal that consumers are stuck)."""

    dlq_names: list[pulumi.Input[str]] = field(default_factory=list)
    """Dead-letter queues: messages waiting; anything above zero is a message that failed for good."""

    eks_cluster_names: list[pulumi.Input[str]] = field(default_factory=list)
    """EKS clusters: node count from Container Insights (``ContainerInsights``/``cluster_node_count``). The
    metric exists only when the ``amazon-cloudwatch-observability`` EKS add-on (or the CloudWatch agent with
    Container Insights) runs in the cluster; without it the graph stays empty."""

    dashboard_name: str | None = None
    """Dashboard name (letters, digits, '-', '_'; at most 255). Default: the component name. Names are unique per
    account, so environments sharing an account need distinct names (name the component ``oncall-<env>``)."""


class OnCallDashboard(pulumi.ComponentResource):
    """A CloudWatch dashboard with one graph per metric family and one line per resource.

    Costs $3/month beyond the three free dashboards per account. Graphs only: alarms stay in the
    components that own the resources, so deleting the dashboard never silences an alert.
    """

    dashboard_name: pulumi.Output[str]
    """Name of the dashboard."""
    dashboard_url: pulumi.Output[str]
    """Console address of the dashboard, for runbooks and alarm descriptions."""

    def __init__(self, name: str, args: OnCallDashboardArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:aws:OnCallDashboard", name, None, opts)
        labels = list(args.alb_arn_suffixes)
        resolved = pulumi.Output.all(
            alb=list(args.alb_arn_suffixes.values()),
            ecs=[[service.cluster_name, service.service_name] for service in args.ecs_services],
            db=list(args.db_instance_identifiers),
            queue=list(args.queue_names),
            dlq=list(args.dlq_names),
            eks=list(args.eks_cluster_names),
        )
        dashboard = cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name or name,
            dashboard_body=resolved.apply(lambda values: json.dumps(dashboard_body(args.region, _sources(labels, values)))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        region = args.region
        self.dashboard_name = dashboard.dashboard_name
        self.dashboard_url = dashboard.dashboard_name.apply(
            lambda dashboard_name: f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
                                   f"#dashboards:name={dashboard_name}")
        self.register_outputs({"dashboard_name": self.dashboard_name, "dashboard_url": self.dashboard_url})


Resource = tuple[str, list[tuple[str, str]]]
"""(line label, [(dimension name, value), ...]) for one graphed resource."""


def _sources(alb_labels: list[str], values: Mapping[str, list[Any]]) -> dict[str, list[Resource]]:
    """Resolved argument values as graphable resources, per panel source."""

    def single(dimension: str, names: list[str]) -> list[Resource]:
        return [(value, [(dimension, value)]) for value in names]

    return {
        "alb": [(label, [("LoadBalancer", suffix)]) for label, suffix in zip(alb_labels, values["alb"], strict=True)],
        "ecs": [(f"{cluster}/{service}", [("ClusterName", cluster), ("ServiceName", service)])
                for cluster, service in values["ecs"]],
        "db": single("DBInstanceIdentifier", values["db"]),
        "queue": single("QueueName", values["queue"]),
        "dlq": single("QueueName", values["dlq"]),
        "eks": single("ClusterName", values["eks"]),
    }


def dashboard_body(region: str, sources: Mapping[str, Sequence[Resource]]) -> dict[str, Any]:
    """The CloudWatch dashboard body: the panels whose source has resources, three to a row."""
    widgets = []
    for panel in PANELS:
        resources = sources.get(panel.source) or []
        if not resources:
            continue
        index = len(widgets)
        lines = [[panel.namespace, metric, *[part for dimension in dimensions for part in dimension],
                  {"label": f"{label}{suffix}"}]
                 for label, dimensions in resources for metric, suffix in panel.metrics]
        widgets.append({
            "type": "metric",
            "x": (index % WIDGETS_PER_ROW) * WIDGET_WIDTH,
            "y": (index // WIDGETS_PER_ROW) * WIDGET_HEIGHT,
            "width": WIDGET_WIDTH,
            "height": WIDGET_HEIGHT,
            "properties": {
                "title": panel.title,
                "region": region,
                "view": "timeSeries",
                "stacked": False,
                "stat": panel.stat,
                "period": PERIOD_SECONDS,
                "metrics": lines,
                "yAxis": {"left": {"min": 0, "max": 100} if panel.percent else {"min": 0}},
            },
        })
    return {"widgets": widgets}


def _validate(name: str, args: OnCallDashboardArgs) -> None:
    if not isinstance(args.region, str) or not _REGION.match(args.region):
        raise ValueError(f"region={args.region!r} is not an AWS region name: pass the stack's region, e.g. 'us-east-1'.")
    dashboard_name = args.dashboard_name or name
    if not _DASHBOARD_NAME.match(dashboard_name):
        raise ValueError(f"dashboard_name={dashboard_name!r} is not a CloudWatch dashboard name: use at most 255 "
                         "letters, digits, '-' or '_' (pass dashboard_name explicitly).")
    sources = (args.alb_arn_suffixes, args.ecs_services, args.db_instance_identifiers, args.queue_names,
               args.dlq_names, args.eks_cluster_names)
    if not any(sources):
        raise ValueError("alb_arn_suffixes, ecs_services, db_instance_identifiers, queue_names, dlq_names and "
                         "eks_cluster_names are all empty: the dashboard would have no panels; pass at least one.")
    for label, suffix in args.alb_arn_suffixes.items():
        if not label.strip():
            raise ValueError("alb_arn_suffixes has an empty label: key each load balancer by a short name, "
                             "e.g. {'tabular': lb.arn_suffix}.")
        if isinstance(suffix, str) and not _ALB_ARN_SUFFIX.match(suffix):
            raise ValueError(f"alb_arn_suffixes[{label!r}]={suffix!r} is not an ALB ARN suffix: pass the load "
                             "balancer's arn_suffix (app/<name>/<16-hex id>), not its ARN or DNS name.")
    for argument in ("db_instance_identifiers", "queue_names", "dlq_names", "eks_cluster_names"):
        _check_unique(argument, getattr(args, argument))
    _check_unique("ecs_services", args.ecs_services)


def _check_unique(argument: str, values: Sequence[Any]) -> None:
    # Only values known before deployment can be compared; outputs are trusted to differ.
    plain = [value for value in values if isinstance(value, str) or (
        isinstance(value, EcsServiceRef) and isinstance(value.cluster_name, str)
        and isinstance(value.service_name, str))]
    repeated = [value for index, value in enumerate(plain) if value in plain[:index]]
    if repeated:
        raise ValueError(f"{argument} lists {repeated[0]!r} twice: list each once.")
