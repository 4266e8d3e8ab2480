"""The secure pod every Kubernetes workload component runs: one builder, shared by KubeService and KubeCronJob.

What every pod gets, whatever the caller passes:

* a non-root, high UID/GID (10001) with ``runAsNonRoot``, a read-only root filesystem (writable
  ``emptyDir`` scratch at ``/tmp``), no privilege escalation, all Linux capabilities dropped and the
  ``RuntimeDefault`` seccomp profile: the pod passes the ``restricted`` Pod Security Standard;
* its own ServiceAccount (never ``default``), annotated for IRSA when an IAM role is given; the
  Kubernetes API token is mounted only when the app calls the Kubernetes API (``kubernetes_api_access``):
  IRSA does not need it, the EKS pod identity webhook projects its own ``aws-iam-token`` volume;
* CPU and memory requests and a memory limit (no CPU limit by default: CFS throttling hurts latency
  more than it protects neighbours, while a runaway process is stopped by the memory limit);
* environment variables either as plain values or from Kubernetes Secrets by name; plain values whose
  name looks like a credential are refused;
* an image pinned by tag or digest (``:latest`` refused), optionally deployed by digest (``image_digest``);
* with ``gpu_count > 0``: an ``nvidia.com/gpu`` limit, a toleration of the ``nvidia.com/gpu`` NoSchedule
  taint the GPU node pools carry and a node selector for those pools.
"""

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_kubernetes.core.v1 import Namespace, ServiceAccount
from pulumi_kubernetes.provider import Provider

from genai_platform.components.credentials import credential_marker
from genai_platform.components.validation import check_range

DEFAULT_UID = 10001
"""UID and GID the pods run as: high enough to never map to a host or distribution system account."""

GPU_RESOURCE = "nvidia.com/gpu"
"""Extended resource the NVIDIA device plugin advertises; also the key of the GPU pools' taint."""

DEFAULT_GPU_NODE_SELECTOR: dict[str, str] = {"nvidia.com/gpu.present": "true"}
"""Node label every GPU node carries (``GpuNodePool`` sets it; NVIDIA GPU feature discovery uses the same
key): GPU pods select it so they never wait on a CPU-only pool."""

IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
"""ServiceAccount annotation the EKS pod identity webhook reads to hand the pod IAM role credentials."""

MAX_GPUS_PER_POD = 8
"""The largest EKS GPU instance types (p4d, p5, g5.48xlarge) have 8 GPUs; a pod cannot span nodes."""

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


@dataclass(kw_only=True)
class WorkloadArgs:
    """Arguments every Kubernetes workload shares: the container, its identity and its placement."""

    image: pulumi.Input[str]
    """Container image, pinned by tag (``registry/repo:1.4.2``) or digest (``registry/repo@sha256:...``).
    ``:latest`` and untagged images are refused: a rollout must run the image that was reviewed.
    A plain string is checked here; an Output (``ContainerRepository.image(tag)``) is checked by its maker."""

    image_digest: pulumi.Input[str] | None = None
    """Deploy by digest: the pod runs ``<image>@<digest>`` (``sha256:`` and 64 hex digits), e.g.
    ``repo:1.4.2@sha256:...``, so the runtime pulls exactly that content and the tag stays for people to read.
    Default none: the tag decides (``ContainerRepository`` tags are immutable, so it names one image too, but
    only as long as the registry keeps that promise)."""

    namespace: str
    """Namespace of every object. Required: workloads of different teams must not share ``default``."""

    create_namespace: bool = False
    """Create the namespace, labelled to enforce the ``restricted`` Pod Security Standard. Default off:
    several workloads usually share a namespace, which exactly one of them (or the stack) must own."""

    provider: Provider | None = None
    """Kubernetes provider of the target cluster (the stack passes the EKS cluster's); default: inherited."""

    command: list[str] | None = None
    """Container entrypoint override; default: the image's ENTRYPOINT."""

    args: list[str] | None = None
    """Arguments to the entrypoint; default: the image's CMD."""

    env: dict[str, str] = field(default_factory=dict)
    """Plain, non-secret environment variables. Names that look like credentials (``*_PASSWORD``,
    ``*_TOKEN``, ``*_API_KEY``...) are refused: put those in a Secret and use ``secret_env``."""

    secret_env: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Environment variables read from Secrets: ``{"DB_PASSWORD": ("<secret-name>", "<key>")}``.
    The value never passes through Pulumi state or the pod spec."""

    env_from_secrets: list[str] = field(default_factory=list)
    """Secrets whose every key becomes an environment variable (``envFrom``), by Secret name."""

    cpu_request_millicores: int = 250
    """CPU the scheduler reserves (1000 = one vCPU). It also sizes the node pool and is the base of the
    HPA's utilization target."""

    cpu_limit_millicores: int | None = None
    """CPU cap. Default none: throttling a latency-sensitive API costs more than an idle core; set one
    on noisy batch work sharing nodes with services."""

    memory_request_mib: int = 256
    """Memory the scheduler reserves, MiB."""

    memory_limit_mib: int = 512
    """Memory cap, MiB (at or above the request). A leak kills this container, not its neighbours."""

    gpu_count: int = 0
    """NVIDIA GPUs per pod (0-8). Above 0 the pod gets the ``nvidia.com/gpu`` limit, tolerates the
    ``nvidia.com/gpu`` NoSchedule taint of GPU pools and selects them with ``gpu_node_selector``."""

    gpu_node_selector: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_GPU_NODE_SELECTOR))
    """Node labels GPU pods require; default ``{"nvidia.com/gpu.present": "true"}``, which every GPU node
    pool carries. Pass one pool's labels (``GpuNodePool.labels``) to pin a GPU type. Ignored when
    ``gpu_count`` is 0."""

    node_selector: dict[str, str] = field(default_factory=dict)
    """Extra node labels the pod requires (e.g. a spot pool for batch); default none."""

    iam_role_arn: pulumi.Input[str] | None = None
    """IAM role for the pod via IRSA (``eks.amazonaws.com/role-arn`` on its ServiceAccount). The
    ServiceAccount is named after the component, so the role's trust policy names
    ``system:serviceaccount:<namespace>:<component name>``. Default none: no AWS access."""

    kubernetes_api_access: bool = False
    """Mount the ServiceAccount token so the app can call the Kubernetes API. Default off: a stolen
    token is a foothold in the cluster. IRSA (``iam_role_arn``) does not need it: the EKS pod identity webhook
    adds its own projected ``aws-iam-token`` volume (audience ``sts.amazonaws.com``) and
    ``AWS_WEB_IDENTITY_TOKEN_FILE`` whatever ``automountServiceAccountToken`` says
    (aws/amazon-eks-pod-identity-webhook@3bf80a3, pkg/handler/handler.go)."""

    run_as_user: int = DEFAULT_UID
    """UID of the container process (1000 or more)."""

    run_as_group: int = DEFAULT_UID
    """GID of the process and group owner of the scratch volumes (1000 or more)."""

    writable_paths: list[str] = field(default_factory=lambda: ["/tmp"])
    """Directories that get an ``emptyDir`` (the root filesystem is read-only), e.g. add a model cache."""

    scratch_size_limit_mib: int = 1024
    """Size cap of each writable directory, MiB: a runaway writer gets the pod evicted instead of
    filling the node's disk."""

    labels: dict[str, str] = field(default_factory=dict)
    """Extra labels on every object and pod (e.g. ``team``). The ``app.kubernetes.io/*`` labels the
    component sets win over same-named keys here, so selectors stay stable."""

    part_of: str = "genai-platform"
    """Value of ``app.kubernetes.io/part-of``: the application this workload belongs to (e.g. ``rag``)."""

    pod_annotations: dict[str, str] = field(default_factory=dict)
    """Annotations on the pods only (not on the other objects), e.g. ``{"karpenter.sh/do-not-disrupt": "true"}``
    so Karpenter never consolidates a node away under a model server. Default none."""


def check_image(image: str) -> None:
    """Refuse images that are not pinned by a tag or digest, and the mutable ``latest`` tag."""
    if not image or image != image.strip() or " " in image:
        raise ValueError(
            f"image={image!r} is not an image reference: use '<registry>/<repository>:<tag>' "
            "or '<registry>/<repository>@sha256:<digest>'."
        )
    if "@" in image:
        if not _IMAGE_DIGEST.search(image):
            raise ValueError(f"image={image!r} has a malformed digest: use '@sha256:' followed by 64 hex digits.")
        return
    last_part = image.rsplit("/", 1)[-1]  # a registry port ('host:5000/app') is not a tag
    if ":" not in last_part:
        raise ValueError(
            f"image={image!r} has no tag or digest: pin it, e.g. '{image}:1.0.0' or '{image}@sha256:<digest>', "
            "so every rollout runs the image that was reviewed."
        )
    tag = last_part.rsplit(":", 1)[1]
    if tag == "latest":
        raise ValueError(
            f"image={image!r} uses the mutable tag 'latest': pin a version tag or a digest (@sha256:...) "
            "so rollouts are reproducible and nodes never run a stale cached 'latest'."
        )
    if not _IMAGE_TAG.match(tag):
        raise ValueError(f"image={image!r} has an invalid tag {tag!r}: use letters, digits, '_', '.' and '-'.")


def check_labels(arg: str, labels: Mapping[str, str]) -> None:
    """Refuse label keys and values the API server would reject at deploy time."""
    for key, value in labels.items():
        prefix, slash, label_name = key.rpartition("/")
        if (slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))) or len(label_name) > 63 \
                or not _LABEL_NAME.match(label_name):
            raise ValueError(
                f"{arg} has an invalid label key {key!r}: use an optional DNS prefix and '/', then at most 63 "
                "letters, digits, '-', '_' or '.', starting and ending with a letter or digit."
            )
        if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            raise ValueError(
                f"{arg} has an invalid label value {value!r} for {key!r}: use at most 63 letters, digits, "
                "'-', '_' or '.', starting and ending with a letter or digit."
            )


def check_dns_label(arg: str, value: str) -> None:
    """Refuse a namespace (or other DNS-1123 label) name the API server would reject."""
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{arg}={value!r} is not a valid Kubernetes name: use at most 63 lower-case letters, digits "
            "and '-', starting and ending with a letter or digit."
        )


def check_cidrs(arg: str, cidrs: list[str]) -> None:
    """Refuse malformed CIDRs and the whole internet in a NetworkPolicy ipBlock."""
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise ValueError(f"{arg} entry {cidr!r} is not a CIDR block: use e.g. '10.10.0.0/16'.") from None
        if network.prefixlen == 0:
            raise ValueError(
                f"{arg} entry {cidr!r} admits every address: load balancers reach pods from their own "
                "subnets, so use the VPC CIDR (or the load balancer subnets' CIDRs)."
            )


def validate_workload(name: str, args: WorkloadArgs, *, max_name_length: int) -> None:
    """Every check the shared pod arguments need; the components add their own."""
    if len(name) > max_name_length or not _DNS_1035_LABEL.match(name):
        raise ValueError(
            f"name={name!r} is not a valid Kubernetes object name: use at most {max_name_length} lower-case "
            "letters, digits and '-', starting with a letter and ending with a letter or digit."
        )
    check_dns_label("namespace", args.namespace)
    if isinstance(args.image, str):
        check_image(args.image)
    if args.image_digest is not None:
        _check_image_digest(args)
    check_range("cpu_request_millicores", args.cpu_request_millicores, 1, None, " millicores (1000 = one vCPU)")
    if args.cpu_limit_millicores is not None and args.cpu_limit_millicores < args.cpu_request_millicores:
        raise ValueError(
            f"cpu_limit_millicores={args.cpu_limit_millicores} is below cpu_request_millicores="
            f"{args.cpu_request_millicores}: set the limit at or above the request, or leave it None."
        )
    check_range("memory_request_mib", args.memory_request_mib, 1, None, " MiB")
    if args.memory_limit_mib < args.memory_request_mib:
        raise ValueError(
            f"memory_limit_mib={args.memory_limit_mib} is below memory_request_mib={args.memory_request_mib}: "
            "set the limit at or above the request."
        )
    check_range("gpu_count", args.gpu_count, 0, MAX_GPUS_PER_POD, " GPUs per pod")
    for arg in ("run_as_user", "run_as_group"):
        check_range(arg, getattr(args, arg), 1000, 2**31 - 1, f" (default {DEFAULT_UID}: never root or a host account)")
    if isinstance(args.iam_role_arn, str) and not _ROLE_ARN.match(args.iam_role_arn):
        raise ValueError(
            f"iam_role_arn={args.iam_role_arn!r} is not an IAM role ARN: use 'arn:aws:iam::<account>:role/<name>'."
        )
    _validate_env(args)
    _validate_scratch(args)
    check_labels("labels", args.labels)
    check_labels("node_selector", args.node_selector)
    check_labels("gpu_node_selector", args.gpu_node_selector)
    check_labels("part_of", {"app.kubernetes.io/part-of": args.part_of})
    check_labels("pod_annotations", {key: "" for key in args.pod_annotations})


def _check_image_digest(args: WorkloadArgs) -> None:
    if isinstance(args.image_digest, str) and not _DIGEST.match(args.image_digest):
        raise ValueError(f"image_digest={args.image_digest!r} is not an image digest: use 'sha256:' followed by 64 "
                         "lower-case hex digits (docker buildx imagetools inspect <image> prints it).")
    if isinstance(args.image, str) and "@" in args.image:
        raise ValueError(f"image={args.image!r} already carries a digest and image_digest is set: keep one of them.")


def _validate_env(args: WorkloadArgs) -> None:
    for variable in [*args.env, *args.secret_env]:
        if not _ENV_NAME.match(variable):
            raise ValueError(
                f"environment variable name {variable!r} is invalid: use letters, digits, '_', '-' and '.', "
                "not starting with a digit."
            )
    for variable in args.env:
        marker = credential_marker(variable)
        if marker:
            raise ValueError(
                f"env[{variable!r}] looks like a credential (its name contains {marker!r}): store it in a "
                f"Kubernetes Secret and pass secret_env={{{variable!r}: ('<secret-name>', '<key>')}}."
            )
    both = sorted(set(args.env) & set(args.secret_env))
    if both:
        raise ValueError(f"environment variable {both[0]!r} is in both env and secret_env: set it once.")
    secret_names = [secret for secret, _ in args.secret_env.values()] + list(args.env_from_secrets)
    for secret in secret_names:
        if len(secret) > 253 or not _DNS_SUBDOMAIN.match(secret):
            raise ValueError(
                f"Secret name {secret!r} is invalid: use lower-case letters, digits, '-' and '.' "
                "(the name of an existing Kubernetes Secret, never its value)."
            )


def _validate_scratch(args: WorkloadArgs) -> None:
    for path in args.writable_paths:
        if not path.startswith("/") or path == "/":
            raise ValueError(f"writable_paths entry {path!r} is not an absolute directory: use e.g. '/tmp'.")
    if len(set(args.writable_paths)) != len(args.writable_paths):
        raise ValueError(f"writable_paths={args.writable_paths} lists a directory twice: list each once.")
    check_range("scratch_size_limit_mib", args.scratch_size_limit_mib, 1, None, " MiB")


class KubeWorkload(pulumi.ComponentResource):
    """Base of the workload components: namespace, ServiceAccount, labels and the secure pod template."""

    namespace: str
    """Namespace of the workload's objects."""
    service_account_name: str
    """Name of the workload's ServiceAccount: the component name, known before the role is created."""

    def __init__(self, type_token: str, name: str, args: WorkloadArgs, component: str,
                 opts: pulumi.ResourceOptions | None):
        super().__init__(type_token, name, None, opts)
        self._name, self._args = name, args
        self.namespace, self.service_account_name = args.namespace, name
        self._labels = {**args.labels, **self.selector_labels(), "app.kubernetes.io/component": component,
                        "app.kubernetes.io/part-of": args.part_of, "app.kubernetes.io/managed-by": "pulumi"}
        # Pulumi does not pass a component's depends_on to its children (pulumi/pulumi#8721): without
        # this, depends_on=[<the workload that creates the namespace>] or [<the load balancer
        # controller>] orders nothing, and the objects race the namespace or the admission webhooks.
        self._depends_on: list[pulumi.Input[pulumi.Resource]] = _as_resources(opts.depends_on if opts else None)
        if args.create_namespace:
            self._depends_on.append(self._create_namespace())
        self._automount_token = args.kubernetes_api_access
        self._create_service_account()

    def selector_labels(self) -> dict[str, str]:
        # Selectors are immutable on Deployments: keep them to the one label that never changes.
        return {"app.kubernetes.io/name": self._name}

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.provider, depends_on=self._depends_on,
                                      **kwargs)

    def _metadata(self, annotations: Mapping[str, pulumi.Input[str]] | None = None) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self._name, "namespace": self.namespace, "labels": self._labels}
        if annotations:
            metadata["annotations"] = dict(annotations)
        return metadata

    def _create_namespace(self) -> Namespace:
        # Pod Security Admission rejects any pod in this namespace that is not 'restricted', so a
        # hand-applied manifest cannot bring back root or privileged containers.
        psa = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
        return Namespace(
            f"{self._name}-namespace",
            metadata={"name": self.namespace, "labels": {**self._labels, **psa}},
            opts=pulumi.ResourceOptions(parent=self, provider=self._args.provider, depends_on=list(self._depends_on)),
        )

    def _create_service_account(self) -> ServiceAccount:
        annotations = {IRSA_ROLE_ANNOTATION: self._args.iam_role_arn} if self._args.iam_role_arn is not None else None
        return ServiceAccount(
            f"{self._name}-sa",
            metadata=self._metadata(annotations),
            automount_service_account_token=self._automount_token,
            opts=self._child(),
        )

    def _pod_template(self, *, restart_policy: str, ports: list[dict[str, Any]] | None = None,
                      probes: Mapping[str, dict[str, Any]] | None = None,
                      extra_spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The pod template: the secure defaults plus the caller's ports, probes and spec fields."""
        args = self._args
        scratch = [(f"scratch-{index}", path) for index, path in enumerate(args.writable_paths)]
        image = args.image if args.image_digest is None else pulumi.Output.concat(args.image, "@", args.image_digest)
        container: dict[str, Any] = {
            "name": self._name,
            "image": image,
            "image_pull_policy": "IfNotPresent",  # the image is pinned, so the node cache is never stale
            "security_context": {
                "allow_privilege_escalation": False,
                "privileged": False,
                "read_only_root_filesystem": True,
                "run_as_non_root": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "resources": self._resources(),
            "env": self._env(),
            "volume_mounts": [{"name": volume, "mount_path": path} for volume, path in scratch],
            **({"command": args.command} if args.command else {}),
            **({"args": args.args} if args.args else {}),
            **({"ports": ports} if ports else {}),
            **dict(probes or {}),
        }
        if args.env_from_secrets:
            container["env_from"] = [{"secret_ref": {"name": secret}} for secret in args.env_from_secrets]
        spec: dict[str, Any] = {
            "service_account_name": self.service_account_name,
            "automount_service_account_token": self._automount_token,
            # Docker-link style variables for every Service in the namespace leak topology and can
            # shadow the app's own settings.
            "enable_service_links": False,
            "restart_policy": restart_policy,
            "security_context": {
                "run_as_non_root": True,
                "run_as_user": args.run_as_user,
                "run_as_group": args.run_as_group,
                "fs_group": args.run_as_group,
                "seccomp_profile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [{"name": volume, "empty_dir": {"size_limit": f"{args.scratch_size_limit_mib}Mi"}}
                        for volume, _ in scratch],
            **self._placement(),
            **dict(extra_spec or {}),
        }
        metadata: dict[str, Any] = {"labels": self._labels}
        if args.pod_annotations:
            metadata["annotations"] = dict(args.pod_annotations)
        return {"metadata": metadata, "spec": spec}

    def _resources(self) -> dict[str, Any]:
        args = self._args
        requests = {"cpu": f"{args.cpu_request_millicores}m", "memory": f"{args.memory_request_mib}Mi"}
        limits = {"memory": f"{args.memory_limit_mib}Mi"}
        if args.cpu_limit_millicores is not None:
            limits["cpu"] = f"{args.cpu_limit_millicores}m"
        if args.gpu_count:
            # Extended resources cannot be overcommitted: the request defaults to this limit.
            limits[GPU_RESOURCE] = str(args.gpu_count)
        return {"requests": requests, "limits": limits}

    def _env(self) -> list[dict[str, Any]]:
        plain = [{"name": key, "value": value} for key, value in sorted(self._args.env.items())]
        from_secrets = [
            {"name": key, "value_from": {"secret_key_ref": {"name": secret, "key": secret_key}}}
            for key, (secret, secret_key) in sorted(self._args.secret_env.items())
        ]
        return plain + from_secrets

    def _placement(self) -> dict[str, Any]:
        args = self._args
        node_selector = dict(args.node_selector)
        placement: dict[str, Any] = {}
        if args.gpu_count:
            node_selector.update(args.gpu_node_selector)
            # 'Exists' tolerates the taint whatever its value ('nvidia.com/gpu=true:NoSchedule' or the
            # value-less form some AMIs and node-pool modules use).
            placement["tolerations"] = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
        if node_selector:
            placement["node_selector"] = node_selector
        return placement


def _as_resources(depends_on: Any) -> list[Any]:
    if depends_on is None:
        return []
    return list(depends_on) if isinstance(depends_on, (list, tuple)) else [depends_on]
