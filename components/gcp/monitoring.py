"""CloudRunAlerts: Cloud Monitoring alert policies and an authenticated uptime check for one Cloud Run service,
notifying an e-mail channel.

The conditions are PromQL (Cloud Monitoring's ``conditionPrometheusQueryLanguage``), like the AMP rules on
the AWS side: a 5xx ratio burning the availability error budget, p95 latency above the SLO, the service
pinned at its maximum instances, and the uptime check failing.
"""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import cloudrunv2, monitoring

from genai_platform.components.aws.data_helpers import EMAIL_ADDRESS
from genai_platform.components.tagging import gcp_labels
from genai_platform.components.validation import check_range

FAST_BURN_RATE = 14.4
"""Error-budget burn rate that spends 2% of a 30-day budget in one hour (Google SRE workbook, ch. 5):
page when the 5xx ratio exceeds this multiple of the budget."""
_PROJECT_NUMBER = re.compile(r"^\d{6,20}$")


@dataclass
class CloudRunAlertsArgs:
    """Arguments of :class:`CloudRunAlerts`."""

    project: str
    """Project of the service and of the alert policies."""

    project_number: str
    """Project number: names the Cloud Monitoring service agent the uptime check signs its OIDC token as."""

    region: str
    """Region of the Cloud Run service."""

    service_name: pulumi.Input[str]
    """``CloudRunService.service_name``."""

    max_instances: int
    """The service's ``max_instances``: sitting there means requests queue or are refused."""

    notification_emails: list[str]
    """Who is notified; one e-mail notification channel per address."""

    availability_slo_percent: float = 99.5
    """Availability objective; the 5xx-ratio alert fires at ``FAST_BURN_RATE`` times its error budget."""

    p95_latency_ms: int = 800
    """p95 latency objective in milliseconds."""

    uptime_check_path: str = "/healthz"
    """Path the uptime check requests (with an OIDC token: the service admits no anonymous caller)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Labels on the policies (the stack passes ``Environment``)."""


class CloudRunAlerts(pulumi.ComponentResource):
    """E-mail channels, three PromQL alert policies and an uptime check with its alert policy."""

    policy_names: pulumi.Output[list[str]]
    """Resource names of the alert policies."""

    def __init__(self, name: str, args: CloudRunAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:gcp:CloudRunAlerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        channels = [monitoring.NotificationChannel(
            f"{name}-email-{re.sub(r'[^a-z0-9]+', '-', address.lower()).strip('-')}", project=args.project,
            display_name=f"{name} on-call {address}", type="email", labels={"email_address": address},
            user_labels=gcp_labels(args.tags), opts=child).name for address in args.notification_emails]

        budget = 1 - args.availability_slo_percent / 100
        queries = cloud_run_queries(args.service_name, FAST_BURN_RATE * budget, args.p95_latency_ms / 1000,
                                    args.max_instances)
        policies = [self._policy(f"{name}-{key}", args, channels, title, query, severity)
                    for key, (title, query, severity) in queries.items()]

        # The uptime check calls the service as the Cloud Monitoring service agent, so it may invoke it.
        agent = f"serviceAccount:service-{args.project_number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
        invoker = cloudrunv2.ServiceIamMember(f"{name}-uptime-invoker", name=args.service_name,
                                              location=args.region, project=args.project, role="roles/run.invoker",
                                              member=agent, opts=child)
        check = monitoring.UptimeCheckConfig(
            f"{name}-uptime", project=args.project, display_name=f"{name} uptime", period="300s", timeout="10s",
            monitored_resource=monitoring.UptimeCheckConfigMonitoredResourceArgs(
                type="cloud_run_revision",
                labels={"project_id": args.project, "service_name": args.service_name, "location": args.region}),
            http_check=monitoring.UptimeCheckConfigHttpCheckArgs(
                path=args.uptime_check_path, use_ssl=True, validate_ssl=True, request_method="GET",
                service_agent_authentication=monitoring.UptimeCheckConfigHttpCheckServiceAgentAuthenticationArgs(
                    type="OIDC_TOKEN")),
            user_labels=gcp_labels(args.tags), opts=pulumi.ResourceOptions(parent=self, depends_on=[invoker]))
        uptime_query = check.uptime_check_id.apply(lambda check_id: (
            f'avg by (check_id) (avg_over_time(monitoring_googleapis_com:uptime_check_check_passed'
            f'{{monitored_resource="cloud_run_revision", check_id="{check_id}"}}[10m])) < 0.5'))
        policies.append(self._policy(f"{name}-uptime", args, channels, "uptime check failing", uptime_query,
                                     "CRITICAL"))

        self.policy_names = pulumi.Output.all(*[policy.name for policy in policies])
        self.register_outputs({"policy_names": self.policy_names})

    def _policy(self, name: str, args: CloudRunAlertsArgs, channels: list[pulumi.Output[str]], title: str,
                query: pulumi.Input[str], severity: str) -> monitoring.AlertPolicy:
        return monitoring.AlertPolicy(
            name, project=args.project, display_name=f"{name}: {title}", combiner="OR", severity=severity,
            conditions=[monitoring.AlertPolicyConditionArgs(
                display_name=title,
                condition_prometheus_query_language=monitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs(
                    query=query, duration="300s", evaluation_interval="60s"))],
            notification_channels=channels,
            documentation=monitoring.AlertPolicyDocumentationArgs(
                mime_type="text/markdown",
                content=f"{title}. Triage: docs/runbook.md, section 'Alerts' ({name})."),
            user_labels=gcp_labels(args.tags), opts=pulumi.ResourceOptions(parent=self))


def cloud_run_queries(service_name: pulumi.Input[str], max_5xx_ratio: float, p95_seconds: float,
                      max_instances: int) -> dict[str, tuple[str, pulumi.Output[str], str]]:
    """The PromQL of each alert policy by key: (title, query, severity)."""
    def query(template: str) -> pulumi.Output[str]:
        return pulumi.Output.from_input(service_name).apply(
            lambda service: template.replace("SERVICE", f'monitored_resource="cloud_run_revision", '
                                                        f'service_name="{service}"'))
    requests = "run_googleapis_com:request_count"
    return {
        "5xx-ratio": ("5xx ratio burning the error budget", query(
            f'sum(rate({requests}{{SERVICE, response_code_class="5xx"}}[5m])) / '
            f'sum(rate({requests}{{SERVICE}}[5m])) > {max_5xx_ratio:.4g}'), "CRITICAL"),
        "p95-latency": ("p95 latency above the SLO", query(
            'histogram_quantile(0.95, sum by (le) (rate(run_googleapis_com:request_latencies_bucket{SERVICE}[5m])))'
            f' > {p95_seconds * 1000:g}'), "WARNING"),
        "max-instances": ("instances at the maximum", query(
            f'max(run_googleapis_com:container_instance_count{{SERVICE}}) >= {max_instances}'), "WARNING"),
    }


def _validate(args: CloudRunAlertsArgs) -> None:
    if not args.notification_emails:
        raise ValueError("notification_emails=[] notifies nobody: name at least one address.")
    for address in args.notification_emails:
        if not EMAIL_ADDRESS.match(address):
            raise ValueError(f"notification_emails contains {address!r}, which is not an e-mail address.")
    if not _PROJECT_NUMBER.match(str(args.project_number)):
        raise ValueError(f"project_number={args.project_number!r} is not a project number: use the digits "
                         "`gcloud projects describe <project> --format='value(projectNumber)'` prints.")
    check_range("availability_slo_percent", args.availability_slo_percent, 90, 99.99, " percent")
    check_range("p95_latency_ms", args.p95_latency_ms, 1, 600_000, " milliseconds")
    check_range("max_instances", args.max_instances, 1, 1000, " instances")
    if not args.uptime_check_path.startswith("/"):
        raise ValueError(f"uptime_check_path={args.uptime_check_path!r} is not an HTTP path: start it with '/'.")
