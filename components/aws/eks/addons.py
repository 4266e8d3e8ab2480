"""Cluster add-ons installed with Helm on an :class:`EksCluster`.

* :class:`ClusterAddons`: the AWS Load Balancer Controller with its own least-privilege IRSA role, metrics-server
  (the CPU figures every HorizontalPodAutoscaler reads) and, optionally, the cluster autoscaler: the
  no-Karpenter option for :class:`GpuNodePool` managed node groups. Clusters with
  :class:`genai_platform.components.aws.capacity.karpenter.Karpenter` turn it off (``cluster_autoscaler=False``): two autoscalers
  would fight over the same pending pods.
* :class:`NvidiaDevicePlugin`: advertises ``nvidia.com/gpu`` on GPU nodes. Install it once per cluster
  when a :class:`GpuNodePool` uses ``AL2023_x86_64_NVIDIA`` (``GpuNodePool.needs_device_plugin``).
  Bottlerocket NVIDIA AMIs (and EKS Auto Mode) ship the plugin already: skip it there, or two plugins
  fight over the same devices.
"""

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pulumi
from pulumi_aws import iam
from pulumi_kubernetes.helm.v3 import Release, RepositoryOptsArgs

from genai_platform.components.aws.account import Account, account_of
from genai_platform.components.aws.eks.cluster import SYSTEM_POOL_LABELS, EksCluster
from genai_platform.components.aws.eks.irsa import irsa_role
from genai_platform.components.aws.eks.nodes import GPU_PRESENT_LABEL, GPU_TAINT_KEY

_NAMESPACE = "kube-system"


@dataclass(frozen=True)
class HelmChart:
    """Where a chart comes from and the version this library is tested with."""

    name: str
    repository: str
    version: str


# Pins for Kubernetes 1.36, read from the upstream repositories' release tags (2026-12-01).
CLUSTER_AUTOSCALER_CHART = HelmChart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.59.0")
"""kubernetes/autoscaler tag cluster-autoscaler-chart-9.59.0; the image is set per cluster minor
(``v<kubernetes_version>.0``, tag cluster-autoscaler-1.36.0), because the autoscaler supports one minor only."""
LOAD_BALANCER_CONTROLLER_CHART = HelmChart("aws-load-balancer-controller", "https://aws.github.io/eks-charts", "3.5.0")
"""Chart 3.5.0 is controller v3.5.0 (kubernetes-sigs/aws-load-balancer-controller tag v3.5.0; docs/deploy/
installation.md: v2.5.0+ needs Kubernetes 1.22+). Its ``docs/install/iam_policy.json`` equals
``iam_policies/aws_load_balancer_controller.json`` (unchanged since v2.17.1), and every value set below (clusterName, region, vpcId, serviceAccount, nodeSelector) is still in the chart's values.yaml."""
METRICS_SERVER_CHART = HelmChart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.1")
"""metrics-server-helm-chart-3.13.1 is metrics-server 0.8.1 (README compatibility matrix: 0.8.x for Kubernetes
1.31+); no AWS permissions needed."""
NVIDIA_DEVICE_PLUGIN_CHART = HelmChart("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.20.0")
"""NVIDIA/k8s-device-plugin v0.20.0 (Chart.yaml kubeVersion ``>= 1.10.0-0``; device plugin API v1beta1);
``affinity`` and ``tolerations`` keep their meaning in its values.yaml."""

AUTOSCALER_READ_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
"""The autoscaler's documented discovery calls (cluster-autoscaler/cloudprovider/aws/README.md); they
support no resource-level permissions."""
AUTOSCALER_WRITE_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")


@dataclass
class ClusterAddonsArgs:
    """Arguments of :class:`ClusterAddons`. Every default is the secure, cheap one."""

    cluster: EksCluster
    """The cluster to install into (its Kubernetes provider, name, OIDC provider and VPC are used)."""

    cluster_autoscaler: bool = True
    """Install the cluster autoscaler: it grows managed node groups for pending pods and removes idle nodes, which
    is what lets a :class:`GpuNodePool` sit at zero. Set False when Karpenter provisions the capacity (the stacks
    do): scale-from-zero of managed node groups is fragile (kubernetes/autoscaler#8799)."""

    cluster_autoscaler_chart_version: str = CLUSTER_AUTOSCALER_CHART.version
    """Version of the ``cluster-autoscaler`` chart."""

    cluster_autoscaler_image_tag: str | None = None
    """Autoscaler image; default ``v<kubernetes_version>.0``: its minor must match the cluster's."""

    load_balancer_controller: bool = True
    """Install the AWS Load Balancer Controller (ALB for Ingress, NLB for Services)."""

    metrics_server: bool = True
    """Install metrics-server. Without it every HorizontalPodAutoscaler reports ``<unknown>`` CPU and never
    scales; EKS does not ship it."""

    load_balancer_controller_chart_version: str = LOAD_BALANCER_CONTROLLER_CHART.version
    """Version of the ``aws-load-balancer-controller`` chart. Its IAM policy is the one shipped for
    controller v3.5.0: refresh ``iam_policies/aws_load_balancer_controller.json`` when changing this."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class ClusterAddons(pulumi.ComponentResource):
    """The cluster autoscaler and the AWS Load Balancer Controller, on the system nodes, with IRSA.

    The autoscaler may only change Auto Scaling groups tagged ``k8s.io/cluster-autoscaler/<cluster>=owned``,
    so it cannot touch another cluster's nodes. The controller's upstream policy is kept as published but
    every write statement on ``"*"`` is narrowed to this account, region and VPC.
    """

    cluster_autoscaler_role_arn: pulumi.Output[str] | None
    """IRSA role of the autoscaler (None when not installed)."""
    load_balancer_controller_role_arn: pulumi.Output[str] | None
    """IRSA role of the load balancer controller (None when not installed)."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:ClusterAddons", name, None, opts)
        self._name, self._args = name, args
        account = account_of(self)
        self.cluster_autoscaler_role_arn = self._autoscaler(account) if args.cluster_autoscaler else None
        self.load_balancer_controller_role_arn = (
            self._load_balancer_controller(account) if args.load_balancer_controller else None)
        if args.metrics_server:
            _release(f"{name}-metrics-server", METRICS_SERVER_CHART, METRICS_SERVER_CHART.version, args.cluster, self,
                     {"nodeSelector": SYSTEM_POOL_LABELS})
        self.register_outputs({
            "cluster_autoscaler_role_arn": self.cluster_autoscaler_role_arn,
            "load_balancer_controller_role_arn": self.load_balancer_controller_role_arn,
        })

    def _irsa(self, suffix: str, service_account: str, policy: pulumi.Input[str]) -> tuple[iam.Role, iam.RolePolicy]:
        cluster = self._args.cluster
        role = irsa_role(f"{self._name}-{suffix}", oidc_provider_arn=cluster.oidc_provider_arn,
                         oidc_provider_url=cluster.oidc_provider_url, namespace=_NAMESPACE,
                         service_account=service_account, tags=self._args.tags, parent=self)
        # The release depends on the policy, not only on the role: the controller starts with its rights,
        # and a destroy revokes them only after uninstalling it (until then it may still be deleting the
        # load balancers of removed Ingresses, or scaling node groups in).
        role_policy = iam.RolePolicy(f"{self._name}-{suffix}", role=role.id, policy=policy,
                                     opts=pulumi.ResourceOptions(parent=self))
        return role, role_policy

    def _autoscaler(self, account: Account) -> pulumi.Output[str]:
        cluster = self._args.cluster
        service_account = "cluster-autoscaler"
        role, role_policy = self._irsa("cluster-autoscaler", service_account,
                                       json.dumps(cluster_autoscaler_policy(cluster.known_cluster_name, account)))
        image_tag = self._args.cluster_autoscaler_image_tag or f"v{cluster.kubernetes_version}.0"
        _release(f"{self._name}-cluster-autoscaler", CLUSTER_AUTOSCALER_CHART,
                 self._args.cluster_autoscaler_chart_version, cluster, self, {
                     "cloudProvider": "aws",
                     "awsRegion": account.region,
                     "autoDiscovery": {"clusterName": cluster.cluster_name},
                     "image": {"tag": image_tag},
                     "rbac": {"serviceAccount": {"create": True, "name": service_account,
                                                 "annotations": {"eks.amazonaws.com/role-arn": role.arn}}},
                     "extraArgs": {
                         # Cheapest fit first: matters when a GPU pod could go to several pool sizes.
                         "expander": "least-waste",
                         "balance-similar-node-groups": True,
                     },
                     "nodeSelector": SYSTEM_POOL_LABELS,
                 }, depends_on=[role_policy])
        return role.arn

    def _load_balancer_controller(self, account: Account) -> pulumi.Output[str]:
        cluster = self._args.cluster
        service_account = "aws-load-balancer-controller"
        policy = pulumi.Output.from_input(cluster.vpc_id).apply(
            lambda vpc_id: json.dumps(load_balancer_controller_policy(account, vpc_id)))
        role, role_policy = self._irsa("load-balancer-controller", service_account, policy)
        _release(f"{self._name}-load-balancer-controller", LOAD_BALANCER_CONTROLLER_CHART,
                 self._args.load_balancer_controller_chart_version, cluster, self, {
                     "clusterName": cluster.cluster_name,
                     # Given explicitly: with the IMDS hop limit of 1 the controller cannot look them up.
                     "region": account.region,
                     "vpcId": cluster.vpc_id,
                     "serviceAccount": {"create": True, "name": service_account,
                                        "annotations": {"eks.amazonaws.com/role-arn": role.arn}},
                     "nodeSelector": SYSTEM_POOL_LABELS,
                 }, depends_on=[role_policy])
        return role.arn


@dataclass
class NvidiaDevicePluginArgs:
    """Arguments of :class:`NvidiaDevicePlugin`."""

    cluster: EksCluster
    """The cluster to install into."""

    chart_version: str = NVIDIA_DEVICE_PLUGIN_CHART.version
    """Version of the ``nvidia-device-plugin`` chart."""


class NvidiaDevicePlugin(pulumi.ComponentResource):
    """The NVIDIA device plugin DaemonSet, only on GPU nodes, tolerating their ``nvidia.com/gpu`` taint.

    Without it an AL2023 NVIDIA node has GPUs but advertises no ``nvidia.com/gpu`` resource, so GPU
    pods stay Pending. One per cluster, whatever the number of GPU pools.
    """

    release_name: pulumi.Output[str]
    """Name of the Helm release."""

    def __init__(self, name: str, args: NvidiaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("genai:aws:NvidiaDevicePlugin", name, None, opts)
        release = _release(f"{name}-nvidia-device-plugin", NVIDIA_DEVICE_PLUGIN_CHART, args.chart_version,
                           args.cluster, self, device_plugin_values())
        self.release_name = release.name
        self.register_outputs({"release_name": self.release_name})


def device_plugin_values() -> dict[str, Any]:
    """Helm values: schedule on nodes labelled ``nvidia.com/gpu.present=true`` and tolerate the GPU taint.

    The chart's default affinity expects labels from Node Feature Discovery, which is not installed;
    :class:`GpuNodePool` sets the label itself.
    """
    return {
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": GPU_PRESENT_LABEL, "operator": "In", "values": ["true"]}]},
        ]}}},
        "tolerations": [
            {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"},
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
        ],
    }


def cluster_autoscaler_policy(cluster_name: str, account: Account) -> dict[str, Any]:
    """The autoscaler's documented permissions; writes only on this cluster's own Auto Scaling groups."""
    p, r, a = account.partition, account.region, account.account_id
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Discover", "Effect": "Allow", "Action": list(AUTOSCALER_READ_ACTIONS), "Resource": "*"},
            {"Sid": "ReadOwnNodeGroups", "Effect": "Allow", "Action": ["eks:DescribeNodegroup"],
             "Resource": f"arn:{p}:eks:{r}:{a}:nodegroup/{cluster_name}/*/*"},
            {"Sid": "ScaleOwnGroups", "Effect": "Allow", "Action": list(AUTOSCALER_WRITE_ACTIONS),
             "Resource": f"arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/*",
             # EKS tags every managed node group's ASG with this; another cluster's ASGs do not match.
             "Condition": {"StringEquals": {
                 f"autoscaling:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}}},
        ],
    }


def upstream_load_balancer_controller_policy() -> dict[str, Any]:
    """The controller's IAM policy as upstream publishes it (see ``genai_platform.components.aws.iam_policies``)."""
    text = resources.files("genai_platform.components.aws.iam_policies").joinpath("aws_load_balancer_controller.json").read_text()
    return json.loads(text)


def load_balancer_controller_policy(account: Account, vpc_id: str) -> dict[str, Any]:
    """The upstream policy with every write on ``"*"`` narrowed to this account, region and VPC."""
    p, r, a = account.partition, account.region, account.account_id
    load_balancers = f"arn:{p}:elasticloadbalancing:{r}:{a}:loadbalancer/app/*/*"
    return narrow_write_resources(upstream_load_balancer_controller_policy(), {
        "ec2": [f"arn:{p}:ec2:{r}:{a}:security-group/*", f"arn:{p}:ec2:{r}:{a}:vpc/{vpc_id}"],
        "elasticloadbalancing": [f"arn:{p}:elasticloadbalancing:{r}:{a}:*"],
        "iam": [f"arn:{p}:iam::{a}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
                "AWSServiceRoleForElasticLoadBalancing"],
        "waf-regional": [f"arn:{p}:waf-regional:{r}:{a}:webacl/*", load_balancers],
        "wafv2": [f"arn:{p}:wafv2:{r}:{a}:regional/webacl/*/*", load_balancers],
        "shield": [f"arn:{p}:shield::{a}:protection/*"],
    })


def is_read_action(action: str) -> bool:
    """Describe/Get/List calls: they change nothing (and mostly support no resource-level permissions)."""
    return action.split(":", 1)[1].startswith(("Describe", "Get", "List"))


def narrow_write_resources(document: dict[str, Any], resources_by_service: dict[str, list[str]]) -> dict[str, Any]:
    """Split every statement on ``"*"`` that has write actions: reads keep ``"*"``, writes get the
    service's ARNs from ``resources_by_service``; conditions are kept on both halves."""
    statements = []
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        writes = [action for action in actions if not is_read_action(action)]
        if statement.get("Resource") != "*" or not writes:
            statements.append(statement)
            continue
        reads = [action for action in actions if is_read_action(action)]
        if reads:
            statements.append({**statement, "Action": reads})
        by_service: dict[str, list[str]] = {}
        for action in writes:
            by_service.setdefault(action.split(":", 1)[0], []).append(action)
        for service, service_actions in by_service.items():
            if service not in resources_by_service:
                raise ValueError(f"the policy writes to service {service!r} on '*' and no ARNs are known for it: "
                                 "add them to resources_by_service.")
            statements.append({**statement, "Action": service_actions, "Resource": resources_by_service[service]})
    return {**document, "Statement": statements}


def _release(name: str, chart: HelmChart, version: str, cluster: EksCluster, parent: pulumi.Resource,
             values: dict[str, Any], depends_on: list[pulumi.Resource] | None = None) -> Release:
    return Release(
        name,
        name=chart.name,
        chart=chart.name,
        version=version,
        repository_opts=RepositoryOptsArgs(repo=chart.repository),
        namespace=_NAMESPACE,
        values=values,
        opts=pulumi.ResourceOptions(parent=parent, provider=cluster.provider, depends_on=depends_on or []),
    )


def _validate(args: ClusterAddonsArgs) -> None:
    tag = args.cluster_autoscaler_image_tag
    minor = f"v{args.cluster.kubernetes_version}."
    if tag is not None and not tag.startswith(minor):
        raise ValueError(f"cluster_autoscaler_image_tag={tag!r} does not match the cluster's Kubernetes "
                         f"{args.cluster.kubernetes_version}: use a {minor}x tag (the autoscaler supports only "
                         "its own minor).")
