"""Karpenter: the node autoscaler every GenAI-on-EKS reference uses for GPU and burst capacity.

One component installs what the controller needs on an :class:`EksCluster`: its IAM role, the node
role and its ``EC2_LINUX`` access entry, the interruption queue with its EventBridge rules, the
discovery tags and the Helm release (CRDs included). :class:`KarpenterNodePool` then declares what
capacity it may launch.

Identity: IRSA, not EKS Pod Identity. The cluster already has its OIDC provider and every controller
here (VPC CNI, load balancer controller) and every workload use IRSA, so one mechanism is audited;
Pod Identity would add the ``eks-pod-identity-agent`` add-on (a DaemonSet on every node, GPU nodes
included, with its own version to track per Kubernetes minor) for no permission the role lacks.
"""

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pulumi
import yaml
from pulumi_aws import cloudwatch, ec2, eks, iam, kms, sqs
from pulumi_kubernetes.helm.v3 import Release

from genai_platform.components.aws.account import Account, account_of
from genai_platform.components.aws.data_helpers import (KEY_ADMIN_ACTIONS, check_kms_key_arn, deny_insecure_transport, policy_json,
                                         rotating_key)
from genai_platform.components.aws.eks.cluster import SYSTEM_POOL_LABELS, EksCluster
from genai_platform.components.aws.eks.irsa import irsa_role
from genai_platform.components.aws.eks.nodes import node_role
from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

KARPENTER_VERSION = "1.14.1"
"""Chart and controller version. Its compatibility matrix (website/content/en/v1.14/upgrading/compatibility.md)
covers Kubernetes 1.30 to 1.36, which includes the cluster's 1.36 (genai_platform.components.aws.eks.cluster.DEFAULT_KUBERNETES_VERSION)."""
KARPENTER_CHART = "oci://public.ecr.aws/karpenter/karpenter"
"""The chart as upstream publishes it (an OCI artifact on ECR Public); it installs the CRDs from its crds/ folder."""

DISCOVERY_TAG = "karpenter.sh/discovery"
"""Tag key (value: the cluster name) on the subnets and security group EC2NodeClasses select."""

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
"""Label Karpenter puts on every node it launches (value: the NodePool's name)."""

INTERRUPTION_EVENTS = {
    "spot-interruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "instance-state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
    "scheduled-change": ("aws.health", "AWS Health Event"),
    "capacity-reservation-interruption": ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}
"""EventBridge rules upstream's v1.14 CloudFormation template routes to the queue: suffix -> (source, detail-type)."""

_QUEUE_POLICY_SERVICE = "events.amazonaws.com"
_UPSTREAM_POLICIES = {
    "NodeLifecyclePolicy": "node-lifecycle", "IAMIntegrationPolicy": "iam-integration",
    "EKSIntegrationPolicy": "eks-integration", "InterruptionPolicy": "interruption",
    "ZonalShiftPolicy": "zonal-shift", "ResourceDiscoveryPolicy": "resource-discovery",
}
"""The controller's managed policies in upstream's template -> the suffix of the inline policy each becomes."""


@dataclass
class KarpenterArgs:
    """Arguments of :class:`Karpenter`. Every default is the secure, cheap one."""

    cluster: EksCluster
    """The cluster to install into: its name, endpoint, OIDC provider, node security group, private subnets
    and Kubernetes provider are used. The controller runs on its system node group (``SYSTEM_POOL_LABELS``)."""

    subnet_ids: list[pulumi.Input[str]] | None = None
    """Subnets this component tags ``karpenter.sh/discovery=<cluster>`` (with ``ec2.Tag``) for nodes; default the
    cluster's private subnets (no node gets a public IP). Pass ``[]`` when the subnets already carry the tag, as
    with ``VpcArgs(private_subnet_tags={DISCOVERY_TAG: <cluster>})`` (the stacks do): a subnet whose tags the same
    program manages would drop a tag added beside it on its next update."""

    chart_version: str = KARPENTER_VERSION
    """Version of the ``karpenter`` chart. The controller policy and the vendored CRDs are those of 1.14.1:
    refresh ``iam_policies/karpenter_cloudformation.yaml`` and ``karpenter_crds/`` with it."""

    replicas: int = 2
    """Controller replicas (one leader, one standby on another node); 1 to 3."""

    interruption_message_retention_seconds: int = 300
    """How long an interruption event waits in the queue (upstream: 300 s). A Spot warning is stale after its
    two minutes, so a longer retention only replays events for instances that are gone."""

    queue_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key of the interruption queue and its DLQ. Default: a dedicated key with yearly rotation (~$1/month)
    whose policy lets EventBridge encrypt; a key given here must allow ``events.amazonaws.com`` to use it."""

    protect: bool = False
    """Protect the interruption queues and their key from ``pulumi destroy`` (the events are transient, but a
    replaced queue silently disconnects a running controller until its release is updated too)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class Karpenter(pulumi.ComponentResource):
    """Karpenter's controller, its AWS prerequisites and its CRDs, on the cluster's system node group."""

    cluster: EksCluster
    """The cluster Karpenter provisions for."""
    controller_role_arn: pulumi.Output[str]
    """IRSA role of the controller (``kube-system/karpenter``)."""
    node_role_arn: pulumi.Output[str]
    """Role of the nodes Karpenter launches (its access entry is ``EC2_LINUX``)."""
    node_role_name: pulumi.Output[str]
    """The same role by name: what an EC2NodeClass's ``spec.role`` takes."""
    interruption_queue_name: pulumi.Output[str]
    """SQS queue the controller reads interruption events from."""
    release: Release
    """The Helm release; NodePools and EC2NodeClasses must be created after it (its CRDs)."""

    def __init__(self, name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:Karpenter", name, None, opts)
        self._name, self._tags = name, args.tags
        cluster = self.cluster = args.cluster
        cluster_name = cluster.known_cluster_name
        account = account_of(self)

        node, node_policies = node_role(f"{name}-node", args.tags, self)
        # Nodes Karpenter launches are not in a managed node group, so EKS creates no access entry for their role.
        access_entry = eks.AccessEntry(f"{name}-node", cluster_name=cluster.cluster_name, principal_arn=node.arn,
                                       type="EC2_LINUX", tags=self._tagged(f"{name}-node"), opts=self._child())
        self.node_role_arn, self.node_role_name = node.arn, node.name

        key_arn = args.queue_kms_key_arn or self._queue_key(account, args.protect)
        queue = self._interruption_queue(args, key_arn)
        self.interruption_queue_name = queue.name

        role = irsa_role(f"{name}-controller", oidc_provider_arn=cluster.oidc_provider_arn,
                         oidc_provider_url=cluster.oidc_provider_url, namespace=NAMESPACE,
                         service_account=SERVICE_ACCOUNT, tags=args.tags, parent=self)
        self.controller_role_arn = role.arn
        controller_policies = [
            iam.RolePolicy(
                f"{name}-{suffix}",
                role=role.id,
                policy=pulumi.Output.all(node.arn, queue.arn, key_arn).apply(
                    lambda values, policy=policy: json.dumps(controller_policy(
                        policy, account, cluster_name, node_role_arn=values[0], queue_arn=values[1],
                        queue_key_arn=values[2]))),
                opts=self._child(),
            )
            for policy, suffix in _UPSTREAM_POLICIES.items()
        ]
        discovery = self._discovery_tags(args, cluster_name)

        # The controller starts with its rights, finds its subnets and security group tagged, and its nodes can join;
        # on destroy it is uninstalled (and stops launching) before any of that is taken away.
        self.release = Release(
            f"{name}-karpenter",
            name="karpenter",
            chart=KARPENTER_CHART,
            version=args.chart_version,
            namespace=NAMESPACE,
            values=controller_values(cluster.known_cluster_name, cluster.endpoint, queue.name, role.arn,
                                     account.region, args.replicas),
            opts=pulumi.ResourceOptions(parent=self, provider=cluster.provider,
                                        depends_on=[*controller_policies, *node_policies, access_entry, *discovery]),
        )
        self.register_outputs({
            "controller_role_arn": self.controller_role_arn,
            "node_role_arn": self.node_role_arn,
            "interruption_queue_name": self.interruption_queue_name,
        })

    def _tagged(self, name: str) -> dict[str, str]:
        return child_tags(name, self._tags)

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _queue_key(self, account: Account, protect: bool) -> pulumi.Output[str]:
        name = f"{self._name}-queue-key"
        key = rotating_key(name, f"Encrypts the Karpenter interruption queue of {self._name}", self._tags, self,
                           protect=protect)
        # In a key policy "Resource": "*" means this key only. EventBridge encrypts what it sends; the controller
        # decrypts through its IAM policy, which the root statement delegates to.
        kms_policy = policy_json([
            {"Sid": "AccountManagesAndUsesKeyThroughIam", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{account.partition}:iam::{account.account_id}:root"},
             "Action": KEY_ADMIN_ACTIONS, "Resource": "*"},
            {"Sid": "EventBridgeEncryptsEvents", "Effect": "Allow", "Principal": {"Service": _QUEUE_POLICY_SERVICE},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
        ])
        key_policy = kms.KeyPolicy(name, key_id=key.key_id, policy=kms_policy, opts=self._child())
        # The ARN resolves once the key policy is in place, so the queues (and the rules feeding them) wait for it:
        # an event EventBridge cannot encrypt is dropped without an error.
        return pulumi.Output.all(key.arn, key_policy.id).apply(lambda values: values[0])

    def _interruption_queue(self, args: KarpenterArgs, key_arn: pulumi.Input[str]) -> sqs.Queue:
        name = self._name
        encryption = {"kms_master_key_id": key_arn, "kms_data_key_reuse_period_seconds": 300}
        # Messages the controller fails to handle five times are kept a day for diagnosis instead of vanishing.
        dlq = sqs.Queue(f"{name}-interruption-dlq", message_retention_seconds=86400, **encryption,
                        tags=self._tagged(f"{name}-interruption-dlq"), opts=self._child(protect=args.protect))
        queue = sqs.Queue(f"{name}-interruption", message_retention_seconds=args.interruption_message_retention_seconds,
                          **encryption, tags=self._tagged(f"{name}-interruption"),
                          opts=self._child(protect=args.protect))
        sqs.RedrivePolicy(f"{name}-interruption", queue_url=queue.url,
                          redrive_policy=dlq.arn.apply(lambda arn: json.dumps(
                              {"deadLetterTargetArn": arn, "maxReceiveCount": 5})), opts=self._child())
        sqs.RedriveAllowPolicy(f"{name}-interruption-dlq", queue_url=dlq.url,
                               redrive_allow_policy=queue.arn.apply(lambda arn: json.dumps(
                                   {"redrivePermission": "byQueue", "sourceQueueArns": [arn]})), opts=self._child())
        sqs.QueuePolicy(f"{name}-interruption-dlq", queue_url=dlq.url,
                        policy=dlq.arn.apply(lambda arn: policy_json([deny_insecure_transport("sqs", [arn])])),
                        opts=self._child())

        rules = []
        for suffix, (source, detail_type) in INTERRUPTION_EVENTS.items():
            rule = cloudwatch.EventRule(
                f"{name}-{suffix}",
                description=f"{detail_type} events for Karpenter of {args.cluster.known_cluster_name}",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail_type]}),
                tags=self._tagged(f"{name}-{suffix}"),
                opts=self._child(),
            )
            cloudwatch.EventTarget(f"{name}-{suffix}", rule=rule.name, arn=queue.arn,
                                   target_id="KarpenterInterruptionQueueTarget", opts=self._child())
            rules.append(rule)
        sqs.QueuePolicy(
            f"{name}-interruption",
            queue_url=queue.url,
            policy=pulumi.Output.all(queue.arn, *(rule.arn for rule in rules)).apply(
                lambda values: policy_json(interruption_queue_statements(values[0], values[1:]))),
            opts=self._child(),
        )
        return queue

    def _discovery_tags(self, args: KarpenterArgs, cluster_name: str) -> list[ec2.Tag]:
        subnets = args.cluster.private_subnet_ids if args.subnet_ids is None else args.subnet_ids
        tagged: list[tuple[str, pulumi.Input[str]]] = [(f"subnet-{index}", subnet) for index, subnet in enumerate(subnets)]
        # Nodes must share the managed node groups' security group (the EKS cluster security group, created by EKS,
        # so tagged from here): the database and cache security groups admit exactly that one.
        tagged.append(("node-security-group", args.cluster.cluster_security_group_id))
        return [ec2.Tag(f"{self._name}-discovery-{suffix}", resource_id=resource_id, key=DISCOVERY_TAG,
                        value=cluster_name, opts=self._child())
                for suffix, resource_id in tagged]


def interruption_queue_statements(queue_arn: str, rule_arns: list[str]) -> list[dict[str, Any]]:
    """Only this component's EventBridge rules may send (aws:SourceArn), and only over TLS.

    Upstream also admits ``sqs.amazonaws.com``; nothing here needs it, so it is left out.
    """
    return [
        {"Sid": "EventBridgeSendsInterruptionEvents", "Effect": "Allow", "Principal": {"Service": _QUEUE_POLICY_SERVICE},
         "Action": "sqs:SendMessage", "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}}},
        deny_insecure_transport("sqs", [queue_arn]),
    ]


def controller_values(cluster_name: str, cluster_endpoint: pulumi.Input[str], queue_name: pulumi.Input[str],
                      role_arn: pulumi.Input[str], region: str, replicas: int) -> dict[str, Any]:
    """Helm values: settings, the IRSA service account, and scheduling on the system node group only."""
    return {
        "settings": {"clusterName": cluster_name, "clusterEndpoint": cluster_endpoint, "interruptionQueue": queue_name},
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT,
                           "annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        "replicas": replicas,
        # IMDS answers only hop 1 (the node itself), so the controller cannot ask it for its region.
        "controller": {"env": [{"name": "AWS_REGION", "value": region}]},
        # Never on a node Karpenter manages: it would be evicting the node it runs on. Helm merges these maps into
        # the chart's defaults (which keep the podAntiAffinity and zone spread); the term list replaces theirs.
        "nodeSelector": dict(SYSTEM_POOL_LABELS),
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [
                {"key": NODEPOOL_LABEL, "operator": "DoesNotExist"},
                *({"key": key, "operator": "In", "values": [value]} for key, value in SYSTEM_POOL_LABELS.items()),
            ]},
        ]}}},
    }


def upstream_controller_policies() -> dict[str, str]:
    """The controller's policy documents from upstream's CloudFormation template, as ``!Sub`` templates.

    Source: aws/karpenter-provider-aws ``website/content/en/v1.14/getting-started/getting-started-with-karpenter/
    cloudformation.yaml`` (main at 1d927085dd81a9df9301e613f371dac5b4d16bfe, the v1.14.1 docs), vendored unmodified
    as ``iam_policies/karpenter_cloudformation.yaml``.
    """
    return dict(_read_upstream_policies())


@functools.cache
def _read_upstream_policies() -> tuple[tuple[str, str], ...]:
    # Read once per process: every Karpenter of every plan fills in the same vendored file.
    text = resources.files("genai_platform.components.aws.iam_policies").joinpath("karpenter_cloudformation.yaml").read_text()
    template = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 - a loader that only adds !Sub/!Ref/!GetAtt
    return tuple((name, template["Resources"][name]["Properties"]["PolicyDocument"]) for name in _UPSTREAM_POLICIES)


def controller_policy(policy: str, account: Account, cluster_name: str, *, node_role_arn: str, queue_arn: str,
                      queue_key_arn: str) -> dict[str, Any]:
    """One upstream policy with its parameters filled in and every ``*`` account in an ARN set to this account.

    The upstream statements already scope every write by the cluster's tags (``kubernetes.io/cluster/<name>``,
    ``eks:eks-cluster-name``, ``karpenter.sh/nodepool``) and by ARN; reads stay on ``"*"`` where EC2 has no
    resource-level permissions. The interruption policy also gets ``kms:Decrypt`` on the queue's key.
    """
    substitutions = {
        "AWS::Partition": account.partition, "AWS::Region": account.region, "AWS::AccountId": account.account_id,
        "ClusterName": cluster_name, "KarpenterNodeRole.Arn": node_role_arn,
        "KarpenterInterruptionQueue.Arn": queue_arn,
    }
    text = re.sub(r"\$\{([^}]+)\}", lambda match: substitutions[match.group(1)], upstream_controller_policies()[policy])
    text = text.replace(f":{account.region}:*:", f":{account.region}:{account.account_id}:")
    document = json.loads(text)
    if policy == "InterruptionPolicy":
        document["Statement"].append({"Sid": "AllowInterruptionQueueDecryption", "Effect": "Allow",
                                      "Resource": queue_key_arn, "Action": "kms:Decrypt"})
    return document


class _CloudFormationLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's, when PyYAML has it
    """A safe loader that reads CloudFormation's short-form tags as plain values (``!Sub "x"`` -> ``"x"``)."""


for _tag in ("!Sub", "!Ref", "!GetAtt"):
    _CloudFormationLoader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


def _validate(args: KarpenterArgs) -> None:
    if not re.fullmatch(r"1\.\d+\.\d+", args.chart_version):
        raise ValueError(f"chart_version={args.chart_version!r} is not a Karpenter release: pin one such as "
                         f"{KARPENTER_VERSION!r} (the chart is published per release, never 'latest').")
    check_range("replicas", args.replicas, 1, 3)
    check_range("interruption_message_retention_seconds", args.interruption_message_retention_seconds, 60, 1209600,
                " seconds (SQS allows 60 s to 14 days)")
    check_kms_key_arn("queue_kms_key_arn", args.queue_kms_key_arn)
