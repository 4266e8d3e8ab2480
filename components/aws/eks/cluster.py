"""EksCluster: a private EKS control plane (pulumi-eks) with access entries, KMS-encrypted secrets,
audit logs, IRSA, pinned managed add-ons and one system node group."""

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_eks
import pulumi_kubernetes
from pulumi_aws import cloudwatch, eks, iam, kms

from genai_platform.components.aws.eks.irsa import irsa_role
from genai_platform.components.aws.eks.nodes import (check_capacity_type, check_instance_types, check_root_volume, check_scaling,
                                      managed_node_group, node_launch_template, node_role)
from genai_platform.components.aws.limits import check_log_retention
from genai_platform.components.tagging import child_tags

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
"""Log types EKS can send to CloudWatch."""

SYSTEM_POOL_LABELS = {"genai-platform/pool": "system"}
"""Labels of the system node group's nodes; cluster add-ons select them."""

CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

# Kubernetes 1.36: released on EKS 2026-06-02, standard support until 2027-08-02 (EKS user guide
# "Kubernetes version lifecycle"; endoflife.date/amazon-eks). policies/rules/lifecycle.py holds the calendar.
DEFAULT_KUBERNETES_VERSION = "1.36"
# Add-on versions EKS publishes for 1.36 (aws eks describe-addon-versions --kubernetes-version 1.36; EKS user
# guide "Manage kube-proxy" and "Manage CoreDNS" version tables, read 2026-12-01).
DEFAULT_KUBE_PROXY_VERSION = "v1.36.0-eksbuild.14"
DEFAULT_COREDNS_VERSION = "v1.14.3-eksbuild.3"
# The VPC CNI is not built per Kubernetes minor: the EKS tables list one build for every minor in support
# (v1.20.1-eksbuild.3 for 1.27-1.33 in the newest table read offline; no 1.36 row could be read, so check
# describe-addon-versions for 1.36 before the first deploy).
DEFAULT_VPC_CNI_VERSION = "v1.20.1-eksbuild.3"

_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_KUBERNETES_VERSION = re.compile(r"^1\.\d{2}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


@dataclass
class EksClusterArgs:
    """Arguments of :class:`EksCluster`. Every default is the secure, cheap one."""

    vpc_id: pulumi.Input[str]
    """VPC of the cluster (``Vpc.vpc_id``)."""

    private_subnet_ids: list[pulumi.Input[str]]
    """Private subnets, at least two zones: the control plane's network interfaces and every node go here,
    so no node has a public IP. Load balancers find the public subnets by their ``kubernetes.io/role/elb`` tag."""

    cluster_name: str | None = None
    """EKS cluster name; default the component name. Fixed (not auto-suffixed) because the control-plane
    log group, the autoscaler's tags and IAM conditions are keyed on it."""

    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    """Kubernetes minor version. Changing it upgrades the control plane in place (one minor at a time);
    pin the add-on versions for the new minor together with it."""

    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """``STANDARD`` (default): when standard support ends EKS upgrades the control plane itself, and the next
    ``pulumi up`` would then ask for a downgrade; the ``eks-version-supported`` policy warns 90 days before and
    refuses a prod plan after the date, so the upgrade happens here first. ``EXTENDED`` keeps the old minor for
    12 more months but bills $0.60/hour instead of $0.10/hour per cluster; opt in knowingly."""

    admin_role_arns: list[str] = field(default_factory=list)
    """IAM roles that get cluster-admin through EKS access entries (``AmazonEKSClusterAdminPolicy``, cluster
    scope). The identity running ``pulumi up`` is also admin (pulumi-eks bootstraps the creator) because it
    installs add-ons; everybody else is granted here, never through the aws-auth ConfigMap."""

    service_ipv4_cidr: str | None = None
    """Range Kubernetes Service IPs come from; must not overlap the VPC or networks peered with it.
    Default none: EKS picks 10.100.0.0/16 or 172.20.0.0/16, whichever does not collide with the VPC."""

    network_policy_enforcement: bool = True
    """Turn on the VPC CNI's network policy agent, so Kubernetes NetworkPolicies (which every
    ``KubeService`` declares) are enforced; without an agent they are silently ignored."""

    endpoint_public_access: bool = False
    """Whether the API server has a public endpoint. Default no: the endpoint is reachable only from the VPC
    (and peered networks/VPN), so ``pulumi up`` of in-cluster resources must run from there."""

    public_access_cidrs: list[str] = field(default_factory=list)
    """Networks allowed to reach the public endpoint (requires ``endpoint_public_access``)."""

    allow_public_endpoint_from_anywhere: bool = False
    """Accept ``0.0.0.0/0`` for the public endpoint. Off: an internet-wide API server is a deliberate choice."""

    control_plane_log_types: list[str] = field(default_factory=lambda: ["api", "audit", "authenticator"])
    """Control-plane logs sent to CloudWatch: API calls, the audit trail and IAM authentication (who did what).
    ``controllerManager``/``scheduler`` are noisy and rarely needed; CloudWatch ingestion is $0.50/GB."""

    log_retention_days: int = 90
    """Retention of ``/aws/eks/<cluster>/cluster``. EKS would create the group itself with no expiry;
    creating it here first bounds the cost."""

    log_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for the control-plane log group; default CloudWatch Logs' own encryption."""

    secrets_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for envelope encryption of Kubernetes secrets. Default: a dedicated key with yearly
    rotation is created (~$1/month), so secrets in etcd are encrypted with a key this account controls."""

    system_instance_types: list[str] = field(default_factory=lambda: ["t3.large"])
    """Instance types of the system node group (CoreDNS, autoscaler, load balancer controller and
    CPU workloads). Instead of pulumi-eks' implicit 2 x t3.medium default group, an explicit one."""

    system_capacity_type: str = "ON_DEMAND"
    """``ON_DEMAND`` or ``SPOT``. On-demand by default: a Spot reclaim of both nodes takes DNS down."""

    system_min_size: int = 2
    """Minimum nodes; 2 keeps CoreDNS on two nodes."""

    system_desired_size: int = 2
    """Initial nodes; afterwards the cluster autoscaler owns it (changes are ignored on update)."""

    system_max_size: int = 4
    """Upper bound the cluster autoscaler may scale the system group to."""

    system_root_volume_gib: int = 50
    """Encrypted gp3 root volume of system nodes (images and logs), 20 to 16384 GiB."""

    node_volume_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for node volumes (system and GPU pools); default the account's EBS key (aws/ebs). A
    customer-managed key must let the AWSServiceRoleForAutoScaling role use it, or nodes fail to launch."""

    vpc_cni_version: str = DEFAULT_VPC_CNI_VERSION
    """Version of the managed ``vpc-cni`` add-on (pinned: add-ons never change under a running cluster)."""

    coredns_version: str = DEFAULT_COREDNS_VERSION
    """Version of the managed ``coredns`` add-on."""

    kube_proxy_version: str = DEFAULT_KUBE_PROXY_VERSION
    """Version of the managed ``kube-proxy`` add-on; must be built for ``kubernetes_version``."""

    protect: bool = False
    """Protect the cluster and its secrets key from ``pulumi destroy`` and set EKS deletion protection."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster built on ``pulumi_eks.Cluster``.

    Private API endpoint by default, access entries only (``API`` authentication mode), secrets encrypted
    with a rotating KMS key, api/audit/authenticator logs with bounded retention, an OIDC provider for
    IRSA, vpc-cni/kube-proxy/coredns as pinned EKS add-ons and an explicit system node group whose
    nodes enforce IMDSv2 and run on encrypted gp3.
    """

    cluster_name: pulumi.Output[str]
    """Name of the EKS cluster, resolved once the control plane exists (use it to order dependents)."""
    known_cluster_name: str
    """The same name as a plain string, known at plan time, for names and tag keys built from it."""
    kubernetes_version: str
    """The Kubernetes minor version the cluster runs."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig (JSON, secret) that authenticates with ``aws eks get-token``."""
    endpoint: pulumi.Output[str]
    """URL of the Kubernetes API server (private unless ``endpoint_public_access``), read from the kubeconfig."""
    oidc_provider_arn: pulumi.Output[str]
    """ARN of the cluster's IAM OIDC provider, for IRSA trust policies."""
    oidc_provider_url: pulumi.Output[str]
    """Issuer URL of the OIDC provider (``https://oidc.eks.<region>.amazonaws.com/id/...``)."""
    cluster_security_group_id: pulumi.Output[str]
    """The EKS-created cluster security group; every managed node group's nodes are in it."""
    node_role_arn: pulumi.Output[str]
    """Node IAM role; pass it to :class:`GpuNodePool` so all pools share one role."""
    node_volume_kms_key_arn: pulumi.Input[str] | None
    """The KMS key node volumes use (None: the account's EBS default key)."""
    private_subnet_ids: list[pulumi.Input[str]]
    """The subnets nodes run in."""
    vpc_id: pulumi.Input[str]
    """The cluster's VPC."""
    provider: pulumi_kubernetes.Provider
    """Kubernetes provider for workloads on this cluster (Helm releases, Deployments...)."""

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:EksCluster", name, None, opts)
        self._name, self._tags = name, args.tags
        cluster_name = args.cluster_name or name

        log_group = cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{cluster_name}/cluster",  # the name EKS writes to; it must exist first
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            tags=self._tagged(f"{name}-control-plane"),
            opts=self._child(),
        )
        secrets_key_arn = args.secrets_kms_key_arn or self._secrets_key(cluster_name, args.protect)

        cluster = pulumi_eks.Cluster(
            f"{name}-eks",
            name=cluster_name,
            version=args.kubernetes_version,
            upgrade_policy=eks.ClusterUpgradePolicyArgs(support_type=args.support_type),
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            kubernetes_service_ip_address_range=args.service_ipv4_cidr,
            endpoint_private_access=True,
            endpoint_public_access=args.endpoint_public_access,
            public_access_cidrs=_public_cidrs(args) or None,
            authentication_mode=pulumi_eks.AuthenticationMode.API,
            access_entries=_admin_access_entries(args.admin_role_arns),
            # No service_role: pulumi-eks creates the cluster role (AmazonEKSClusterPolicy). EKS takes a KMS
            # grant on the secrets key with the deployer's rights at creation, so the role needs no key policy.
            encryption_config_key_arn=secrets_key_arn,
            enabled_cluster_log_types=args.control_plane_log_types,
            create_oidc_provider=True,
            # Our own node groups and add-ons below, nothing implicit: no default node group (2 x t3.medium),
            # no self-managed add-ons, no pulumi-eks security groups (nodes use the EKS cluster SG).
            skip_default_node_group=True,
            skip_default_security_groups=True,
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=pulumi_eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=pulumi_eks.KubeProxyAddonOptionsArgs(enabled=False),
            deletion_protection=args.protect,
            tags=child_tags(f"{name}-eks", args.tags),
            opts=self._child(protect=args.protect, depends_on=[log_group]),
        )
        # The name as an output of the cluster, so whatever uses it waits for the control plane.
        self.cluster_name = cluster.urn.apply(lambda _: cluster_name)
        self.known_cluster_name = cluster_name
        self.kubernetes_version = args.kubernetes_version
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_provider_url = cluster.oidc_provider_url
        self.cluster_security_group_id = cluster.cluster_security_group_id
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.endpoint = cluster.kubeconfig_json.apply(lambda text: json.loads(text)["clusters"][0]["cluster"]["server"])
        self.private_subnet_ids, self.vpc_id = args.private_subnet_ids, args.vpc_id
        self.node_volume_kms_key_arn = args.node_volume_kms_key_arn

        # The VPC CNI manages ENIs; with its own IRSA role the node role needs no EC2 network rights.
        cni_role = irsa_role(f"{name}-vpc-cni", oidc_provider_arn=cluster.oidc_provider_arn,
                             oidc_provider_url=cluster.oidc_provider_url, namespace="kube-system",
                             service_account="aws-node", tags=args.tags, parent=self)
        cni_policy = iam.RolePolicyAttachment(f"{name}-vpc-cni", role=cni_role.name,
                                              policy_arn="arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                                              opts=self._child())
        cni_configuration = json.dumps({"enableNetworkPolicy": "true"}) if args.network_policy_enforcement else None
        # aws-node assigns pod IPs with the role's rights: attach them first, detach them only after the add-on.
        early_addons = [self._addon("vpc-cni", args.vpc_cni_version, service_account_role_arn=cni_role.arn,
                                    configuration_values=cni_configuration, depends_on=[cni_policy]),
                        self._addon("kube-proxy", args.kube_proxy_version)]
        role, role_policies = node_role(f"{name}-node", args.tags, self)
        self.node_role_arn = role.arn
        launch_template = node_launch_template(f"{name}-system", device_name="/dev/xvda",
                                               volume_gib=args.system_root_volume_gib,
                                               kms_key_arn=args.node_volume_kms_key_arn, tags=args.tags, parent=self)
        system = managed_node_group(
            f"{name}-system",
            cluster_name=self.cluster_name,
            node_role_arn=role.arn,
            subnet_ids=args.private_subnet_ids,
            launch_template=launch_template,
            ami_type="AL2023_x86_64_STANDARD",
            instance_types=args.system_instance_types,
            capacity_type=args.system_capacity_type,
            min_size=args.system_min_size,
            desired_size=args.system_desired_size,
            max_size=args.system_max_size,
            labels=SYSTEM_POOL_LABELS,
            taints=[],
            tags=args.tags,
            parent=self,
            # Nodes only turn Ready once the CNI runs and join only with the node role's policies attached.
            depends_on=[*early_addons, *role_policies],
        )
        # CoreDNS is a Deployment: its add-on only becomes ACTIVE once nodes can run it.
        self._addon("coredns", args.coredns_version, depends_on=[system])

        self.provider = pulumi_kubernetes.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, opts=self._child(depends_on=[system]))

        self.register_outputs({
            "cluster_name": self.cluster_name,
            "kubeconfig": self.kubeconfig,
            "oidc_provider_arn": self.oidc_provider_arn,
            "oidc_provider_url": self.oidc_provider_url,
            "cluster_security_group_id": self.cluster_security_group_id,
            "node_role_arn": self.node_role_arn,
        })

    def _tagged(self, name: str) -> dict[str, str]:
        return child_tags(name, self._tags)

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _secrets_key(self, cluster_name: str, protect: bool) -> pulumi.Output[str]:
        key_name = f"{self._name}-secrets"
        key = kms.Key(
            key_name,
            description=f"Envelope encryption of Kubernetes secrets in EKS cluster {cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,  # the longest window: a deleted key makes every secret unreadable
            tags=self._tagged(key_name),
            opts=self._child(protect=protect),
        )
        kms.Alias(key_name, name=f"alias/eks/{cluster_name}", target_key_id=key.key_id, opts=self._child())
        return key.arn

    def _addon(self, addon: str, version: str, service_account_role_arn: pulumi.Input[str] | None = None,
               depends_on: list[pulumi.Resource] | None = None, configuration_values: str | None = None) -> eks.Addon:
        return eks.Addon(
            f"{self._name}-{addon}",
            cluster_name=self.cluster_name,
            addon_name=addon,
            addon_version=version,
            service_account_role_arn=service_account_role_arn,
            configuration_values=configuration_values,
            # The add-on's configuration is owned here; a hand edit in the cluster is drift to overwrite.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=self._tagged(f"{self._name}-{addon}"),
            opts=self._child(depends_on=depends_on or []),
        )


def _admin_access_entries(role_arns: list[str]) -> dict[str, pulumi_eks.AccessEntryArgs]:
    # Keyed by role name, so adding or removing one admin never renames (replaces) the others' entries.
    return {
        f"admin-{arn.rsplit('/', 1)[-1]}": pulumi_eks.AccessEntryArgs(
            principal_arn=arn,
            access_policies={"cluster-admin": pulumi_eks.AccessPolicyAssociationArgs(
                policy_arn=CLUSTER_ADMIN_POLICY,
                access_scope=eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            )},
        )
        for arn in role_arns
    }


def _public_cidrs(args: EksClusterArgs) -> list[str]:
    if not args.endpoint_public_access:
        return []
    return args.public_access_cidrs or ["0.0.0.0/0"]


def _validate(args: EksClusterArgs) -> None:
    if args.cluster_name is not None and not _CLUSTER_NAME.match(args.cluster_name):
        raise ValueError(
            f"cluster_name={args.cluster_name!r} is not a valid EKS name: use up to 100 letters, digits, "
            "'-' and '_', starting with a letter or digit."
        )
    if len(args.private_subnet_ids) < 2:
        raise ValueError(
            f"private_subnet_ids has {len(args.private_subnet_ids)} subnet(s): EKS needs subnets in at least "
            "two availability zones."
        )
    if args.service_ipv4_cidr is not None:
        _validate_service_cidr(args.service_ipv4_cidr)
    if not _KUBERNETES_VERSION.match(args.kubernetes_version):
        raise ValueError(f"kubernetes_version={args.kubernetes_version!r} is not a Kubernetes minor version: "
                         f"use e.g. {DEFAULT_KUBERNETES_VERSION!r}.")
    if not args.kube_proxy_version.startswith(f"v{args.kubernetes_version}."):
        raise ValueError(
            f"kube_proxy_version={args.kube_proxy_version!r} is not built for kubernetes_version="
            f"{args.kubernetes_version!r}: use a v{args.kubernetes_version}.x-eksbuild.N version (aws eks "
            f"describe-addon-versions --addon-name kube-proxy --kubernetes-version {args.kubernetes_version}) "
            "and pin coredns_version and vpc_cni_version for it too."
        )
    if args.support_type not in ("STANDARD", "EXTENDED"):
        raise ValueError(
            f"support_type={args.support_type!r} is not an EKS support type: use 'STANDARD' or 'EXTENDED'.")
    role_names: dict[str, str] = {}
    for arn in args.admin_role_arns:
        if not _ROLE_ARN.match(arn):
            raise ValueError(f"admin_role_arns contains {arn!r}, which is not an IAM role ARN: "
                             "use arn:aws:iam::<account>:role/<name>.")
        role_name = arn.rsplit("/", 1)[-1]
        if role_name in role_names:
            raise ValueError(f"admin_role_arns names role {role_name!r} twice ({role_names[role_name]!r} and {arn!r}): "
                             "access entries are keyed by role name; list each role once.")
        role_names[role_name] = arn
    _validate_endpoint(args)
    for log_type in args.control_plane_log_types:
        if log_type not in CONTROL_PLANE_LOG_TYPES:
            raise ValueError(
                f"control_plane_log_types contains {log_type!r}: use any of {list(CONTROL_PLANE_LOG_TYPES)}.")
    check_log_retention("log_retention_days", args.log_retention_days)
    check_instance_types("system_instance_types", args.system_instance_types, "t3.large")
    check_capacity_type("system_capacity_type", args.system_capacity_type)
    check_scaling("system_", args.system_min_size, args.system_desired_size, args.system_max_size)
    if args.system_min_size < 1:
        raise ValueError("system_min_size=0 leaves CoreDNS and the cluster autoscaler nowhere to run: use at least 1 "
                         "(2 keeps DNS up when a node goes).")
    check_root_volume("system_root_volume_gib", args.system_root_volume_gib)


def _validate_service_cidr(cidr: str) -> None:
    # EKS's own rule (CreateCluster kubernetesNetworkConfig.serviceIpv4Cidr).
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        network = None
    private = [ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    if network is None or not 12 <= network.prefixlen <= 24 or not any(network.subnet_of(p) for p in private):
        raise ValueError(f"service_ipv4_cidr={cidr!r} is not a range EKS accepts: use a /12 to /24 inside "
                         "10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 that does not overlap the VPC, e.g. '172.20.0.0/16'.")


def _validate_endpoint(args: EksClusterArgs) -> None:
    if args.public_access_cidrs and not args.endpoint_public_access:
        raise ValueError(f"public_access_cidrs={args.public_access_cidrs} is set but endpoint_public_access is False: "
                         "set endpoint_public_access=True or drop the CIDRs.")
    if args.endpoint_public_access and not args.public_access_cidrs and not args.allow_public_endpoint_from_anywhere:
        raise ValueError("endpoint_public_access=True needs public_access_cidrs naming the networks that may reach the "
                         "API server (or allow_public_endpoint_from_anywhere=True to accept 0.0.0.0/0).")
    for cidr in args.public_access_cidrs:
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            raise ValueError(f"public_access_cidrs contains {cidr!r}, which is not an IPv4 CIDR block: "
                             "use e.g. '203.0.113.0/24'.") from None
        if network.prefixlen == 0 and not args.allow_public_endpoint_from_anywhere:
            raise ValueError(f"public_access_cidrs contains {cidr!r}, which opens the API server to the whole "
                             "internet: list your networks or set allow_public_endpoint_from_anywhere=True.")
