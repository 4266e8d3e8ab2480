"""WorkloadRole: the IAM role of one Kubernetes service account (IRSA) with exactly the policies given."""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import iam

from genai_platform.components.aws.eks.irsa import irsa_role
from genai_platform.components.aws.limits import check_auto_name

_KUBERNETES_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass
class WorkloadRoleArgs:
    """Arguments of :class:`WorkloadRole`."""

    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (``EksCluster.oidc_provider_arn``)."""

    oidc_provider_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL (``EksCluster.oidc_provider_url``)."""

    namespace: str
    """Namespace of the service account; the trust policy pins it."""

    service_account: str
    """Service account name (a ``KubeService``/``KubeCronJob`` names it after the component)."""

    policies: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Inline policies by name: IAM policy JSON such as ``Bucket.read_policy_json`` or
    ``QueueWithDlq.consumer_policy_json``. The role gets these and nothing else (no managed policies)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on the role."""


def check_service_account(namespace: str, service_account: str) -> None:
    """Refuse a namespace or service account name the trust policy could never match."""
    for argument, value in (("namespace", namespace), ("service_account", service_account)):
        if not _KUBERNETES_NAME.match(value):
            raise ValueError(f"{argument}={value!r} is not a Kubernetes name: use lower-case letters, digits "
                             "and '-', at most 63 characters.")


class WorkloadRole(pulumi.ComponentResource):
    """An IRSA role only ``namespace/service_account`` can assume, with one inline policy per grant."""

    role_arn: pulumi.Output[str]
    """ARN to annotate the service account with (``eks.amazonaws.com/role-arn``)."""

    def __init__(self, name: str, args: WorkloadRoleArgs, opts: pulumi.ResourceOptions | None = None):
        check_service_account(args.namespace, args.service_account)
        if not args.policies:
            raise ValueError("policies={} grants nothing: name at least one policy, or give the workload no role.")
        check_auto_name(name, "-role", 64, "IAM role")
        super().__init__("genai:aws:WorkloadRole", name, None, opts)

        role = irsa_role(f"{name}-role", oidc_provider_arn=args.oidc_provider_arn,
                         oidc_provider_url=args.oidc_provider_url, namespace=args.namespace,
                         service_account=args.service_account, tags=args.tags, parent=self)
        for policy_name, document in args.policies.items():
            iam.RolePolicy(f"{name}-{policy_name}", role=role.id, policy=document,
                           opts=pulumi.ResourceOptions(parent=self))
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
