"""Kubernetes workloads: restricted pods (non-root, read-only, unprivileged), sized, probed; services and PDBs sane.

Workloads in ``exemptNamespaces`` (kube-system: node agents such as the NVIDIA device plugin need
host paths) are skipped. Resources inside Helm releases are not visible to the engine, so charts
must be vetted when they are chosen.
"""

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import ADVISORY, MANDATORY, PROD_MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import as_list, each_mapping, get, is_true, number

_POD_SPEC_PATHS = {
    "kubernetes:core/v1:Pod": "spec",
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
}
WORKLOADS = tuple(_POD_SPEC_PATHS)
LONG_RUNNING = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet",
                "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:ReplicaSet")
SERVICE = "kubernetes:core/v1:Service"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"

_EXEMPT = {"exemptNamespaces": Setting({"type": "array", "items": {"type": "string"}}, ["kube-system"],
                                       description="Namespaces whose workloads are not checked (kube-system).")}
_DANGEROUS_CAPABILITIES = ("ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_RAW")


@dataclass(frozen=True)
class _Pod:
    spec: Mapping[str, Any]
    containers: list[Mapping[str, Any]]
    """Main containers."""
    all_containers: list[Mapping[str, Any]]
    """Main and init containers."""


def _pod(args: ResourceValidationArgs, ctx: RuleContext) -> _Pod | None:
    """The pod template of a workload, or None when it is not one we check."""
    if args.resource_type not in _POD_SPEC_PATHS:
        return None
    if get(args.props, "metadata.namespace", "default") in ctx["exemptNamespaces"]:
        return None
    spec = get(args.props, _POD_SPEC_PATHS[args.resource_type], {})
    containers = list(each_mapping(as_list(spec.get("containers"))))
    return _Pod(spec, containers, containers + list(each_mapping(as_list(spec.get("initContainers")))))


def _containers(args: ResourceValidationArgs, ctx: RuleContext, *, main_only: bool = False) -> list[Mapping[str, Any]]:
    """The containers a rule checks: main and init containers, or only the main ones."""
    pod = _pod(args, ctx)
    if pod is None:
        return []
    return pod.containers if main_only else pod.all_containers


def _name(container: Mapping[str, Any]) -> str:
    return repr(container.get("name", "?"))


@resource_rule(
    name="k8s-run-as-non-root",
    types=WORKLOADS,
    description="Containers run as a non-root user: runAsNonRoot or a non-zero runAsUser on the container or "
                "pod (checkov CKV_K8S_23, Pod Security Standards restricted).",
    severity="high",
    levels=MANDATORY,
    remediation="Set security_context={'run_as_non_root': True, 'run_as_user': 10001} on the pod or container "
                "(and build the image with a USER).",
    settings=_EXEMPT,
)
def run_as_non_root(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    pod = _pod(args, ctx)
    if pod is None:
        return
    pod_context = get(pod.spec, "securityContext", {})
    for container in pod.all_containers:
        context = get(container, "securityContext", {})
        non_root = get(context, "runAsNonRoot", get(pod_context, "runAsNonRoot"))
        user = number(get(context, "runAsUser", get(pod_context, "runAsUser")))
        if non_root is False or user == 0 or not (is_true(non_root) or (user or 0) > 0):
            yield f"Container {_name(container)} may run as root."


@resource_rule(
    name="k8s-read-only-root-filesystem",
    types=WORKLOADS,
    description="Containers mount their root filesystem read-only (checkov CKV_K8S_22).",
    severity="medium",
    levels=MANDATORY,
    remediation="Set security_context.read_only_root_filesystem=True and mount an emptyDir where the app writes "
                "(/tmp, caches).",
    settings=_EXEMPT,
)
def read_only_root_filesystem(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args, ctx):
        if not is_true(get(container, "securityContext.readOnlyRootFilesystem")):
            yield f"Container {_name(container)} has a writable root filesystem."


@resource_rule(
    name="k8s-resource-limits",
    types=WORKLOADS,
    description="Containers request CPU and memory and cap memory, so the scheduler can place them and a leak "
                "cannot starve the node (checkov CKV_K8S_10/12/13). CPU limits are not required: they throttle.",
    severity="medium",
    levels=MANDATORY,
    remediation="Set resources={'requests': {'cpu': ..., 'memory': ...}, 'limits': {'memory': ...}} "
                "(GPU pods also limit nvidia.com/gpu).",
    settings=_EXEMPT,
)
def resource_limits(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args, ctx, main_only=True):
        missing = [path for path in ("requests.cpu", "requests.memory", "limits.memory")
                   if not get(container, f"resources.{path}")]
        if missing:
            yield f"Container {_name(container)} sets no resources {', '.join(missing)}."


@resource_rule(
    name="k8s-probes",
    types=LONG_RUNNING,
    description="Long-running containers have readiness and liveness probes (checkov CKV_K8S_8/9). "
                "Mandatory in prod.",
    severity="medium",
    levels=PROD_MANDATORY,
    remediation="Add readiness_probe (gates traffic) and liveness_probe (restarts a hung process), e.g. an "
                "HTTP GET on /healthz; slow starters (model loading) also need a startup_probe.",
    settings=_EXEMPT,
)
def probes(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args, ctx, main_only=True):
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if not container.get(probe)]
        if missing:
            yield f"Container {_name(container)} has no {' or '.join(missing)}."


@resource_rule(
    name="k8s-no-privileged-containers",
    types=WORKLOADS,
    description="Containers are not privileged and add no dangerous capabilities such as SYS_ADMIN or "
                "NET_ADMIN (checkov CKV_K8S_16/39).",
    severity="critical",
    levels=MANDATORY,
    remediation="Remove privileged: true and capabilities.add; set capabilities={'drop': ['ALL']}.",
    settings=_EXEMPT,
)
def no_privileged(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args, ctx):
        if is_true(get(container, "securityContext.privileged")):
            yield f"Container {_name(container)} is privileged."
        added = [c for c in as_list(get(container, "securityContext.capabilities.add")) if c in _DANGEROUS_CAPABILITIES]
        if added:
            yield f"Container {_name(container)} adds capabilities {added}."


@resource_rule(
    name="k8s-no-privilege-escalation",
    types=WORKLOADS,
    description="Containers set allowPrivilegeEscalation=false, so setuid binaries cannot gain root "
                "(checkov CKV_K8S_20).",
    severity="high",
    levels=MANDATORY,
    remediation="Set security_context.allow_privilege_escalation=False on every container.",
    settings=_EXEMPT,
)
def no_privilege_escalation(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args, ctx):
        if get(container, "securityContext.allowPrivilegeEscalation") is not False:
            yield f"Container {_name(container)} does not set allowPrivilegeEscalation=false."


@resource_rule(
    name="k8s-no-host-path",
    types=WORKLOADS,
    description="Pods mount no hostPath volumes, which expose the node's filesystem "
                "(Pod Security Standards baseline; checkov CKV_K8S_27 for the Docker socket case).",
    severity="high",
    levels=MANDATORY,
    remediation="Use emptyDir, a PersistentVolumeClaim, a ConfigMap or a CSI volume instead of hostPath.",
    settings=_EXEMPT,
)
def no_host_path(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    pod = _pod(args, ctx)
    for volume in each_mapping(as_list(pod.spec.get("volumes"))) if pod else []:
        if volume.get("hostPath"):
            yield f"Volume {volume.get('name')!r} mounts hostPath {get(volume, 'hostPath.path')!r}."


@resource_rule(
    name="k8s-no-host-namespaces",
    types=WORKLOADS,
    description="Pods do not share the node's network, PID or IPC namespace (checkov CKV_K8S_17/18/19).",
    severity="high",
    levels=MANDATORY,
    remediation="Remove host_network, host_pid and host_ipc from the pod spec.",
    settings=_EXEMPT,
)
def no_host_namespaces(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    pod = _pod(args, ctx)
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod and is_true(pod.spec.get(flag)):
            yield f"{flag} is true."


@resource_rule(
    name="k8s-image-pinned",
    types=WORKLOADS,
    description="Container images name a version tag or digest, never :latest or nothing "
                "(checkov CKV_K8S_14/43).",
    severity="low",
    levels=ADVISORY,
    remediation="Reference images by immutable tag or digest (repo/image:1.4.2 or repo/image@sha256:...).",
    settings=_EXEMPT,
)
def image_pinned(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    for container in _containers(args, ctx):
        image = str(container.get("image", ""))
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        if "@sha256:" not in image and tag in ("", "latest"):
            yield f"Container {_name(container)} uses image {image!r} without a fixed tag."


@resource_rule(
    name="k8s-no-load-balancer-service",
    types=[SERVICE],
    description="Services are not type LoadBalancer (each creates its own internet-facing load balancer, "
                "~$16+/month) unless listed in allowedLoadBalancerServices; expose HTTP through the shared "
                "ALB ingress (platform rule).",
    severity="medium",
    levels=MANDATORY,
    remediation="Use type ClusterIP behind an Ingress (AWS Load Balancer Controller), or list the service "
                "as namespace/name in allowedLoadBalancerServices.",
    settings={"allowedLoadBalancerServices": Setting(
        {"type": "array", "items": {"type": "string"}}, ["observability/*-otel-collector-nlb"],
        # The collector's OTLP endpoint for ECS tasks: an internal NLB admitting the VPC only (OtelCollector).
        description="Glob patterns of namespace/name allowed to be type LoadBalancer.")},
)
def no_load_balancer_service(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    if get(args.props, "spec.type") != "LoadBalancer":
        return
    name = f"{get(args.props, 'metadata.namespace', 'default')}/{get(args.props, 'metadata.name', args.name)}"
    if not any(fnmatch.fnmatchcase(name, pattern) for pattern in ctx["allowedLoadBalancerServices"]):
        yield f"Service {name} is type LoadBalancer."


def _is_zero(value: Any) -> bool:
    return value in (0, "0", "0%")


@resource_rule(
    name="k8s-pdb-effective",
    types=[PDB],
    description="PodDisruptionBudgets protect something and still allow drains: minAvailable is not 0 and "
                "maxUnavailable is not 100% (no protection); maxUnavailable is not 0 and minAvailable is not "
                "100% (node drains and upgrades block forever) (platform rule).",
    severity="medium",
    levels=MANDATORY,
    remediation="Use max_unavailable=1 (or minAvailable below the replica count) with at least 2 replicas.",
)
def pdb_effective(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    min_available, max_unavailable = get(args.props, "spec.minAvailable"), get(args.props, "spec.maxUnavailable")
    if _is_zero(min_available) or max_unavailable == "100%":
        yield "The budget allows every pod to be evicted: it protects nothing."
    if _is_zero(max_unavailable) or min_available == "100%":
        yield "The budget allows no eviction: node drains and cluster upgrades would hang."
