"""Keda: the KEDA operator on an EKS cluster, with an IRSA role that holds only the reads its scalers make.

KEDA scales Deployments on event sources (an SQS queue's depth, a Prometheus query) and, unlike the HPA, down
to zero pods. Its AWS scalers authenticate as the operator itself (``TriggerAuthentication`` with
``podIdentity: {provider: aws, identityOwner: keda}``, see :class:`genai_platform.components.k8s.ScaledObject`), so the
workloads' own roles keep only what the workloads do. The operator's role starts empty; each service grants the
one read its scaler needs with :meth:`Keda.allow` (``sqs:GetQueueAttributes`` on one queue, ``aps:QueryMetrics``
on one workspace).
"""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import iam
from pulumi_kubernetes.helm.v3 import Release, RepositoryOptsArgs

from genai_platform.components.aws.data_helpers import access_policy_json
from genai_platform.components.aws.eks.cluster import SYSTEM_POOL_LABELS, EksCluster
from genai_platform.components.aws.eks.irsa import irsa_role

KEDA_VERSION = "2.20.2"
"""Chart and operator version (kedacore/charts tag v2.20.2, commit cbb9bb8ce0809dc9048f72302f7c09765d66ed56:
``version`` and ``appVersion`` both 2.20.2); the vendored CRDs (:mod:`genai_platform.components.k8s.keda_crds`) are that release's."""
KEDA_CHART_REPOSITORY = "https://kedacore.github.io/charts"
"""The Helm repository upstream publishes the ``keda`` chart to."""

NAMESPACE = "keda"
OPERATOR_SERVICE_ACCOUNT = "keda-operator"
"""``serviceAccount.operator.name`` in the chart's values: the identity the AWS scalers run as."""


@dataclass
class KedaArgs:
    """Arguments of :class:`Keda`. Every default is the secure, cheap one."""

    cluster: EksCluster
    """The cluster to install into (OIDC provider for the operator's role, Kubernetes provider). The operator, its
    metrics server and webhooks run on the system node group (``SYSTEM_POOL_LABELS``), never on GPU nodes."""

    chart_version: str = KEDA_VERSION
    """Version of the ``keda`` chart (and operator): the vendored CRDs and the scalers' metadata are those of
    2.20.2; refresh them together."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on the operator's IAM role."""


class Keda(pulumi.ComponentResource):
    """The ``keda`` Helm release (CRDs included) in namespace ``keda`` and the operator's IRSA role."""

    release: Release
    """The Helm release: ScaledObjects must be created after it (its CRDs and admission webhook)."""
    operator_role_arn: pulumi.Output[str]
    """The operator's IAM role (scalers with ``identityOwner: keda`` call AWS as it)."""

    def __init__(self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None):
        if not re.fullmatch(r"2\.\d+\.\d+", args.chart_version):
            raise ValueError(f"chart_version={args.chart_version!r} is not a KEDA 2 release: pin one such as "
                             f"{KEDA_VERSION!r} (never a range or 'latest').")
        super().__init__("genai:aws:Keda", name, None, opts)
        self._name = name
        cluster = args.cluster
        self._role = irsa_role(f"{name}-operator", oidc_provider_arn=cluster.oidc_provider_arn,
                               oidc_provider_url=cluster.oidc_provider_url, namespace=NAMESPACE,
                               service_account=OPERATOR_SERVICE_ACCOUNT, tags=args.tags, parent=self)
        self.operator_role_arn = self._role.arn
        self.release = Release(
            f"{name}-keda",
            name="keda",
            chart="keda",
            version=args.chart_version,
            repository_opts=RepositoryOptsArgs(repo=KEDA_CHART_REPOSITORY),
            namespace=NAMESPACE,
            create_namespace=True,
            values=keda_values(self._role.arn),
            opts=pulumi.ResourceOptions(parent=self, provider=cluster.provider),
        )
        self.register_outputs({"operator_role_arn": self.operator_role_arn})

    def allow(self, name: str, policy_json: pulumi.Input[str]) -> iam.RolePolicy:
        """Grant the operator one more read its scalers need (an inline policy ``<component>-<name>``)."""
        return iam.RolePolicy(f"{self._name}-{name}", role=self._role.id, policy=policy_json,
                              opts=pulumi.ResourceOptions(parent=self))


def keda_values(role_arn: pulumi.Input[str]) -> dict:
    """Helm values (keys of the chart's values.yaml at 2.20.2): IRSA for the operator, system nodes only."""
    return {
        # Annotates the operator's service account with the role (podIdentity.aws.irsa in values.yaml).
        "podIdentity": {"aws": {"irsa": {"enabled": True, "roleArn": role_arn}}},
        "nodeSelector": dict(SYSTEM_POOL_LABELS),
        # Only the operator calls AWS: the metrics server and webhooks need no Kubernetes token beyond their own.
        "serviceAccount": {"operator": {"name": OPERATOR_SERVICE_ACCOUNT}},
    }


def sqs_depth_read_policy(queue_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """What the ``aws-sqs-queue`` scaler reads: ``sqs:GetQueueAttributes`` on one queue (no KMS: attributes are
    not encrypted)."""
    return access_policy_json([("ReadQueueDepth", ["sqs:GetQueueAttributes"], queue_arn)], None, [])


def prometheus_query_policy(workspace_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """What the ``prometheus`` scaler reads from Amazon Managed Prometheus: ``aps:QueryMetrics`` on one workspace."""
    return access_policy_json([("QueryMetrics", ["aps:QueryMetrics"], workspace_arn)], None, [])
