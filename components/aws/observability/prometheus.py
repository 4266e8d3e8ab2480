"""PrometheusWorkspace: an Amazon Managed Service for Prometheus workspace with its rules and alert routing.

The workspace is encrypted with its own rotating KMS key, its recording and alerting rules are loaded
from YAML rule files (one rule group namespace per file), and its alert manager sends every alert to
one SNS topic, signed with SigV4 (the topic must admit ``aps.amazonaws.com``: ``AlertTopicArgs.allow_prometheus``).
"""

import re
from dataclasses import dataclass, field

import pulumi
import yaml
from pulumi_aws import amp, cloudwatch, kms

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.data_helpers import KEY_ADMIN_ACTIONS, allow, policy_json, rotating_key
from genai_platform.components.aws.limits import check_log_retention
from genai_platform.components.tagging import child_tags

REMOTE_WRITE_ACTIONS = ["aps:RemoteWrite"]
"""What a collector needs to send samples (the ADOT/Prometheus ``remote_write`` path)."""
QUERY_ACTIONS = ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"]
"""What a dashboard needs to read (the Prometheus HTTP query API)."""

_NAMESPACE_NAME = re.compile(r"^[0-9A-Za-z][-.0-9A-Z_a-z]{0,63}$")


@dataclass
class PrometheusWorkspaceArgs:
    """Arguments of :class:`PrometheusWorkspace`. Every default is the secure one."""

    alert_topic_arn: pulumi.Input[str] | None
    """SNS topic every alert goes to (``AlertTopic.topic_arn`` with ``allow_prometheus=True``). Required
    unless ``allow_no_alert_route``: rules that fire into nothing page nobody."""

    rule_files: dict[str, str] = field(default_factory=dict)
    """Rule group namespaces by name: the text of a Prometheus rule file (``groups:`` of recording and
    alerting rules). Each becomes one ``RuleGroupNamespace``, so editing one file never touches another."""

    allow_no_alert_route: bool = False
    """Accept ``alert_topic_arn=None`` (alerts are routed by something else). Default False."""

    alert_group_by: list[str] = field(default_factory=lambda: ["alertname", "severity"])
    """Labels the alert manager groups notifications by: one e-mail per alert and severity, not per pod."""

    alert_repeat_interval: str = "4h"
    """How often a still-firing alert is sent again."""

    log_retention_days: int = 30
    """Retention of the workspace's own log group: rule evaluation and alert manager errors (a rule that no
    longer parses, an alert SNS refused) land there instead of vanishing."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class PrometheusWorkspace(pulumi.ComponentResource):
    """One AMP workspace (KMS-encrypted) with rule group namespaces and an alert manager routing to SNS."""

    workspace_id: pulumi.Output[str]
    """ID of the workspace (``ws-...``)."""
    workspace_arn: pulumi.Output[str]
    """ARN of the workspace: the resource of ``remote_write_policy_json`` and ``query_policy_json``."""
    prometheus_endpoint: pulumi.Output[str]
    """Base URL of the Prometheus-compatible API (ends with ``/``); Grafana's data source URL."""
    remote_write_url: pulumi.Output[str]
    """Where collectors send samples: ``<endpoint>api/v1/remote_write``."""
    kms_key_arn: pulumi.Output[str]
    """Key encrypting the workspace's samples, rules and alert manager definition."""
    remote_write_policy_json: pulumi.Output[str]
    """IAM policy letting a collector write to this workspace only."""
    query_policy_json: pulumi.Output[str]
    """IAM policy letting a dashboard query this workspace only."""

    def __init__(self, name: str, args: PrometheusWorkspaceArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:PrometheusWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        here = account_of(self)
        region, account, partition = here.region, here.account_id, here.partition
        key = rotating_key(f"{name}-key", f"Encrypts the Prometheus workspace {name} and its logs", args.tags, self,
                           protect=False)
        # /aws/vendedlogs/: the prefix AWS recommends for vended logs (keeps the logs resource policy small).
        log_group_name = f"/aws/vendedlogs/prometheus/{name}"
        key_policy = kms.KeyPolicy(f"{name}-key-policy", key_id=key.key_id, policy=policy_json(
            _key_statements(account, partition, region, log_group_name)), opts=child)
        log_group = cloudwatch.LogGroup(f"{name}-log", name=log_group_name, retention_in_days=args.log_retention_days,
                                        kms_key_id=key.arn, tags=child_tags(f"{name}-log", args.tags),
                                        opts=pulumi.ResourceOptions(parent=self, depends_on=[key_policy]))
        workspace = amp.Workspace(f"{name}-workspace", alias=name, kms_key_arn=key.arn,
                                  logging_configuration=amp.WorkspaceLoggingConfigurationArgs(
                                      log_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*")),
                                  tags=child_tags(f"{name}-workspace", args.tags), opts=child)
        for namespace, text in args.rule_files.items():
            amp.RuleGroupNamespace(f"{name}-{namespace}", name=namespace, workspace_id=workspace.id, data=text,
                                   opts=child)
        if args.alert_topic_arn is not None:
            definition = pulumi.Output.from_input(args.alert_topic_arn).apply(
                lambda arn: alert_manager_definition(arn, region, args.alert_group_by, args.alert_repeat_interval))
            amp.AlertManagerDefinition(f"{name}-alert-manager", workspace_id=workspace.id, definition=definition,
                                       opts=child)

        self.workspace_id, self.workspace_arn, self.kms_key_arn = workspace.id, workspace.arn, key.arn
        self.prometheus_endpoint = workspace.prometheus_endpoint
        self.remote_write_url = workspace.prometheus_endpoint.apply(lambda url: f"{url}api/v1/remote_write")
        self.remote_write_policy_json = workspace.arn.apply(
            lambda arn: policy_json([allow("RemoteWrite", REMOTE_WRITE_ACTIONS, [arn])]))
        self.query_policy_json = workspace.arn.apply(lambda arn: policy_json([allow("Query", QUERY_ACTIONS, [arn])]))
        self.register_outputs({"workspace_id": self.workspace_id, "workspace_arn": self.workspace_arn,
                               "prometheus_endpoint": self.prometheus_endpoint})


def _key_statements(account: str, partition: str, region: str, log_group_name: str) -> list[dict]:
    # In a key policy "Resource": "*" means this key only. AMP itself uses the key through grants the deployer
    # creates with its IAM rights (the first statement); CloudWatch Logs needs the key policy, for one log group.
    return [
        {"Sid": "AccountManagesAndUsesKeyThroughIam", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": KEY_ADMIN_ACTIONS, "Resource": "*"},
        {"Sid": "LogsEncryptTheWorkspaceLog", "Effect": "Allow",
         "Principal": {"Service": f"logs.{region}.amazonaws.com"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
         "Resource": "*", "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn":
                                                      f"arn:{partition}:logs:{region}:{account}:log-group:"
                                                      f"{log_group_name}"}}},
    ]


def alert_manager_definition(topic_arn: str, region: str, group_by: list[str], repeat_interval: str) -> str:
    """The AMP alert manager file: every alert to one SNS receiver, its severity as a message attribute
    (an SNS subscription filter policy can send ``critical`` to a pager and the rest to e-mail)."""
    config = {
        "route": {"receiver": "sns", "group_by": group_by, "group_wait": "30s", "group_interval": "5m",
                  "repeat_interval": repeat_interval},
        "receivers": [{"name": "sns", "sns_configs": [{
            "topic_arn": topic_arn,
            "sigv4": {"region": region},
            "subject": "[{{ .CommonLabels.severity }}] {{ .CommonLabels.alertname }}",
            "attributes": {"severity": "{{ .CommonLabels.severity }}"},
        }]}],
    }
    return yaml.safe_dump({"alertmanager_config": yaml.safe_dump(config, sort_keys=False)}, sort_keys=False)


def _validate(args: PrometheusWorkspaceArgs) -> None:
    check_log_retention("log_retention_days", args.log_retention_days)
    if args.alert_topic_arn is None and not args.allow_no_alert_route:
        raise ValueError("alert_topic_arn=None routes alerts nowhere: pass the environment's AlertTopic.topic_arn, "
                         "or set allow_no_alert_route=True if something else receives them.")
    for namespace, text in args.rule_files.items():
        if not _NAMESPACE_NAME.match(namespace):
            raise ValueError(f"rule_files key {namespace!r} is not a rule group namespace name: use 1-64 letters, "
                             "digits, '-', '_' or '.', starting with a letter or digit.")
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ValueError(f"rule_files[{namespace!r}] is not YAML ({error.__class__.__name__}): "
                             "pass the text of a Prometheus rule file.") from None
        if not isinstance(document, dict) or not isinstance(document.get("groups"), list) or not document["groups"]:
            raise ValueError(f"rule_files[{namespace!r}] has no 'groups' list: a Prometheus rule file is "
                             "'groups: [{name: ..., rules: [...]}]'.")
