"""KubeService: an HTTP service on Kubernetes, autoscaled, disruption-safe and fenced by a NetworkPolicy."""

import json
import math
import re
from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_kubernetes.apps.v1 import Deployment
from pulumi_kubernetes.autoscaling.v2 import HorizontalPodAutoscaler
from pulumi_kubernetes.core.v1 import Service
from pulumi_kubernetes.networking.v1 import Ingress, NetworkPolicy
from pulumi_kubernetes.policy.v1 import PodDisruptionBudget

from genai_platform.components.k8s.pod import KubeWorkload, WorkloadArgs, check_cidrs, check_dns_label, check_labels, \
    validate_workload
from genai_platform.components.tagging import PLATFORM_TAGS
from genai_platform.components.validation import check_range

IngressScheme = Literal["internal", "internet-facing"]

ALB_ANNOTATION = "alb.ingress.kubernetes.io"
"""Annotation prefix the AWS Load Balancer Controller reads on Ingress objects."""

ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 only; the controller's default (ELBSecurityPolicy-2016-08) still offers TLS 1.0."""

_STARTUP_PERIOD_SECONDS = 5
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")


@dataclass(kw_only=True)
class KubeServiceArgs(WorkloadArgs):
    """Arguments of :class:`KubeService`; the pod arguments are those of :class:`WorkloadArgs`."""

    container_port: int = 8080
    """Port the app listens on (1024-65535: the container drops every capability, so a non-root
    process cannot bind a privileged port)."""

    service_port: int = 80
    """Port of the ClusterIP Service in front of the pods."""

    health_check_path: str = "/healthz"
    """HTTP path of the liveness and startup probes: answers 200 while the process is healthy."""

    readiness_path: str | None = None
    """HTTP path of the readiness probe and of the ALB health check; default ``health_check_path``."""

    startup_timeout_seconds: int = 120
    """Time a new pod gets to start answering ``health_check_path`` before it is restarted (10-3600).
    Raise it for model servers that load weights at start; liveness only starts checking after that."""

    min_replicas: int = 2
    """Fewest pods the autoscaler keeps. Default 2: one pod survives a node drain or zone loss.
    ``0`` parks the service: the Deployment starts at zero pods with no autoscaler or disruption budget
    (the Kubernetes HPA cannot scale to zero), so a GPU pool under it can sit at zero nodes.
    ``kubectl scale deployment/<name> --replicas=N`` wakes it; Pulumi then leaves the count alone."""

    max_replicas: int = 4
    """Most pods the autoscaler may run: the cost ceiling of a traffic spike."""

    external_autoscaler: bool = False
    """The replica count belongs to another autoscaler (a KEDA ``ScaledObject``, which runs its own HPA and may
    scale to zero): no HPA here, no ``replicas`` in the Deployment, and ``min_replicas=0`` means "may idle at
    zero", not "parked". Default off: the CPU HPA above scales the service."""

    cpu_target_utilization_percent: int = 70
    """Average CPU, as a percentage of ``cpu_request_millicores``, the autoscaler steers to (1-100)."""

    pdb_min_available: int | None = None
    """Pods a voluntary disruption (node drain, upgrade) must leave running. Default
    ``min_replicas - 1``: drains proceed one pod at a time. Must stay below ``min_replicas``, or drains
    block whenever the service runs at its minimum; must be at least 1 when ``min_replicas`` > 1.
    With one replica there is no budget at all: one that lets every pod go protects nothing."""

    allow_from_pod_labels: list[dict[str, str]] = field(default_factory=list)
    """NetworkPolicy: pods of the namespace allowed to call the service, by labels. Default empty:
    every pod of the namespace may call it."""

    allow_from_namespaces: list[str] = field(default_factory=list)
    """NetworkPolicy: other namespaces whose pods may call the service (e.g. ``monitoring``)."""

    ingress: bool = False
    """Expose the service through an AWS Application Load Balancer (AWS Load Balancer Controller)."""

    ingress_host: str | None = None
    """Host name the Ingress rule matches; default none: any host."""

    ingress_scheme: IngressScheme = "internal"
    """``internal`` (reachable from the VPC only) or ``internet-facing``. Default internal: exposing a
    service to the internet must be a deliberate choice, and then needs ``certificate_arn``."""

    certificate_arn: pulumi.Input[str] | None = None
    """ACM certificate: adds an HTTPS listener on 443 with TLS 1.2+ and redirects HTTP to it."""

    ingress_group_name: str | None = None
    """ALB Ingress group to join: services of one group share one ALB (~$16/month each saved)."""

    load_balancer_cidrs: list[str] = field(default_factory=list)
    """Where the ALB's traffic comes from (the VPC CIDR, or its subnets'): with target type ``ip`` the ALB
    calls pod IPs directly, so the NetworkPolicy must admit these. Required with ``ingress``.
    The VPC CNI gives pods addresses from the VPC, and an ``ipBlock`` matches them too: a range that
    holds pod subnets (the VPC CIDR does) admits every pod of the cluster, not only the ALB. Pass the
    load balancer subnets' CIDRs when no pods run there (public subnets of an internet-facing ALB)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra AWS tags on the load balancer (the stack passes ``Environment`` for cost allocation)."""


class KubeService(KubeWorkload):
    """Deployment + ClusterIP Service + HPA (CPU) + PodDisruptionBudget + ServiceAccount (IRSA) +
    NetworkPolicy, and optionally an ALB Ingress.

    The NetworkPolicy admits traffic to the container port only from the namespace's pods (or the
    labelled ones), from ``allow_from_namespaces`` and, with an Ingress, from ``load_balancer_cidrs``
    (a range covering pod subnets admits those pods as well: see that argument); egress is left open
    (the app reaches AWS APIs and databases; per-service egress lists belong to the stack). It is
    enforced only when the cluster runs a policy engine (VPC CNI network policy agent or Calico).
    """

    service_name: str
    """Name of the ClusterIP Service (the component name)."""
    cluster_url: str
    """In-cluster URL of the service, ``http://<name>.<namespace>.svc.cluster.local:<service_port>``."""
    ingress_hostname: pulumi.Output[str] | None
    """DNS name of the ALB in front of the service (None without ``ingress``)."""

    def __init__(self, name: str, args: KubeServiceArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:k8s:KubeService", name, args, "server", opts)
        readiness_path = args.readiness_path or args.health_check_path
        selector = self.selector_labels()

        parked = args.min_replicas == 0 and not args.external_autoscaler
        # An external autoscaler starts from min_replicas (a Deployment without 'replicas' would start one pod,
        # a GPU node, before KEDA takes it back to zero) and owns the count from then on.
        initial = {"replicas": args.min_replicas} if parked or args.external_autoscaler else {}
        Deployment(
            f"{name}-deployment",
            metadata=self._metadata(),
            spec={
                # No 'replicas' for the HPA: it owns the count; declaring it here would reset the
                # service to a fixed size on every update.
                **initial,
                "selector": {"match_labels": selector},
                "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
                "template": self._pod_template(
                    restart_policy="Always",
                    ports=[{"name": "http", "container_port": args.container_port, "protocol": "TCP"}],
                    probes=_probes(args.health_check_path, readiness_path, args.startup_timeout_seconds),
                    extra_spec={"topology_spread_constraints": [{
                        # Prefer spreading replicas over zones, but never leave a pod pending for it.
                        "max_skew": 1, "topology_key": "topology.kubernetes.io/zone",
                        "when_unsatisfiable": "ScheduleAnyway", "label_selector": {"match_labels": selector},
                    }]},
                ),
            },
            # A parked service is woken by hand (or scaled by KEDA); the next update must not reset the count.
            opts=self._child(ignore_changes=["spec.replicas"]) if initial else self._child(),
        )
        Service(
            f"{name}-service",
            metadata=self._metadata(),
            spec={"type": "ClusterIP", "selector": selector,
                  "ports": [{"name": "http", "port": args.service_port, "target_port": "http", "protocol": "TCP"}]},
            opts=self._child(),
        )
        if not parked and not args.external_autoscaler:
            self._autoscale(args, selector)
        if _pdb_min_available(args) > 0:
            self._disruption_budget(args, selector)
        NetworkPolicy(f"{name}-netpol", metadata=self._metadata(), spec=_network_policy(args, selector),
                      opts=self._child())

        self.service_name = name
        self.cluster_url = cluster_url(name, args.namespace, args.service_port)
        self.ingress_hostname = self._ingress(args, readiness_path) if args.ingress else None
        self.register_outputs({
            "namespace": self.namespace,
            "service_name": self.service_name,
            "service_account_name": self.service_account_name,
            "cluster_url": self.cluster_url,
            "ingress_hostname": self.ingress_hostname,
        })

    def _autoscale(self, args: KubeServiceArgs, selector: dict[str, str]) -> None:
        name = self._name
        HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=self._metadata(),
            spec={
                "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": name},
                "min_replicas": args.min_replicas,
                "max_replicas": args.max_replicas,
                "metrics": [{"type": "Resource", "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "average_utilization": args.cpu_target_utilization_percent},
                }}],
            },
            opts=self._child(),
        )

    def _disruption_budget(self, args: KubeServiceArgs, selector: dict[str, str]) -> None:
        PodDisruptionBudget(
            f"{self._name}-pdb",
            metadata=self._metadata(),
            spec={
                "min_available": _pdb_min_available(args),
                "selector": {"match_labels": selector},
                # A crash-looping pod is not serving anyway; without this it blocks every node drain.
                "unhealthy_pod_eviction_policy": "AlwaysAllow",
            },
            opts=self._child(),
        )

    def _ingress(self, args: KubeServiceArgs, health_check_path: str) -> pulumi.Output[str]:
        rule: dict = {"http": {"paths": [{
            "path": "/", "path_type": "Prefix",
            "backend": {"service": {"name": self.service_name, "port": {"name": "http"}}},
        }]}}
        if args.ingress_host:
            rule["host"] = args.ingress_host
        ingress = Ingress(
            f"{self._name}-ingress",
            metadata=self._metadata(alb_annotations(args, health_check_path)),
            spec={"ingress_class_name": "alb", "rules": [rule]},
            opts=self._child(),
        )
        return ingress.status.apply(_load_balancer_hostname)


def cluster_url(name: str, namespace: str, service_port: int = 80) -> str:
    """In-cluster URL of the KubeService ``name`` in ``namespace``: known before the service exists, so a client
    created first (or owning the namespace) can be given it."""
    return f"http://{name}.{namespace}.svc.cluster.local:{service_port}"


def alb_annotations(args: KubeServiceArgs, health_check_path: str) -> dict[str, pulumi.Input[str]]:
    """AWS Load Balancer Controller annotations of the service's Ingress."""
    annotations: dict[str, pulumi.Input[str]] = {
        "scheme": args.ingress_scheme,
        # 'ip' targets skip the NodePort hop and let the ALB health-check each pod directly.
        "target-type": "ip",
        "healthcheck-path": health_check_path,
        "load-balancer-attributes": "routing.http.drop_invalid_header_fields.enabled=true",
        "tags": ",".join(f"{key}={value}" for key, value in {**PLATFORM_TAGS, **args.tags}.items()),
    }
    if args.certificate_arn is not None:
        annotations.update({
            "listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
            "certificate-arn": args.certificate_arn,
            "ssl-policy": ALB_SSL_POLICY,
            "ssl-redirect": "443",
        })
    else:
        annotations["listen-ports"] = json.dumps([{"HTTP": 80}])
    if args.ingress_group_name:
        annotations["group.name"] = args.ingress_group_name
    return {f"{ALB_ANNOTATION}/{key}": value for key, value in annotations.items()}


def _load_balancer_hostname(status) -> str:
    entries = (status.load_balancer.ingress if status and status.load_balancer else None) or []
    return (entries[0].hostname or "") if entries else ""


def _probes(health_path: str, readiness_path: str, startup_timeout_seconds: int) -> dict[str, dict]:
    def http_get(path: str, period_seconds: int, failure_threshold: int) -> dict:
        return {"http_get": {"path": path, "port": "http"}, "period_seconds": period_seconds,
                "timeout_seconds": 2, "failure_threshold": failure_threshold}

    return {
        # Liveness only starts once the startup probe passed, so slow starts are not killed in a loop.
        "startup_probe": http_get(health_path, _STARTUP_PERIOD_SECONDS,
                                  math.ceil(startup_timeout_seconds / _STARTUP_PERIOD_SECONDS)),
        "liveness_probe": http_get(health_path, 10, 3),
        "readiness_probe": http_get(readiness_path, 5, 3),
    }


def _pdb_min_available(args: KubeServiceArgs) -> int:
    return args.min_replicas - 1 if args.pdb_min_available is None else args.pdb_min_available


def _network_policy(args: KubeServiceArgs, selector: dict[str, str]) -> dict:
    peers: list[dict] = [{"pod_selector": {"match_labels": labels}} for labels in args.allow_from_pod_labels]
    if not peers:
        peers = [{"pod_selector": {}}]  # every pod of this namespace
    peers += [{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": namespace}}}
              for namespace in args.allow_from_namespaces]
    if args.ingress:
        peers += [{"ip_block": {"cidr": cidr}} for cidr in args.load_balancer_cidrs]
    return {
        "pod_selector": {"match_labels": selector},
        # Only 'Ingress' is listed, so egress stays unrestricted (see the class docstring).
        "policy_types": ["Ingress"],
        "ingress": [{"from": peers, "ports": [{"port": args.container_port, "protocol": "TCP"}]}],
    }


def _validate(name: str, args: KubeServiceArgs) -> None:
    validate_workload(name, args, max_name_length=63)
    check_range("container_port", args.container_port, 1024, 65535,
                " (the container has no capabilities, so it cannot bind a privileged port)")
    check_range("service_port", args.service_port, 1, 65535, "")
    for arg in ("health_check_path", "readiness_path"):
        path = getattr(args, arg)
        if path is not None and not path.startswith("/"):
            raise ValueError(f"{arg}={path!r} is not an HTTP path: start it with '/', e.g. '/healthz'.")
    check_range("startup_timeout_seconds", args.startup_timeout_seconds, 10, 3600, " seconds")
    check_range("min_replicas", args.min_replicas, 0, None, " replicas")
    if args.max_replicas < args.min_replicas:
        raise ValueError(
            f"max_replicas={args.max_replicas} is below min_replicas={args.min_replicas}: "
            "set max_replicas to at least min_replicas."
        )
    check_range("cpu_target_utilization_percent", args.cpu_target_utilization_percent, 1, 100, " percent")
    _validate_pdb(args)
    for labels in args.allow_from_pod_labels:
        check_labels("allow_from_pod_labels", labels)
    for namespace in args.allow_from_namespaces:
        check_dns_label("allow_from_namespaces entry", namespace)
    _validate_ingress(args)


def _validate_pdb(args: KubeServiceArgs) -> None:
    if args.pdb_min_available is None:
        return
    if args.min_replicas == 0 and not args.external_autoscaler:
        raise ValueError(f"pdb_min_available={args.pdb_min_available} with min_replicas=0: a parked service has no "
                         "disruption budget; leave pdb_min_available unset.")
    value, replicas = args.pdb_min_available, args.min_replicas
    low, high = (1, replicas - 1) if replicas > 1 else (0, 0)
    allowed = f"{low}" if low == high else f"{low} to {high}"
    if value >= replicas:
        raise ValueError(
            f"pdb_min_available={value} is not below min_replicas={replicas}: node drains and cluster upgrades "
            f"would block whenever the service runs at its minimum; use {allowed}."
        )
    if value < low:
        raise ValueError(
            f"pdb_min_available={value} with min_replicas={replicas} lets a node drain evict every pod at once: "
            f"use {allowed}."
        )


def _validate_ingress(args: KubeServiceArgs) -> None:
    if args.ingress_scheme not in ("internal", "internet-facing"):
        raise ValueError(
            f"ingress_scheme={args.ingress_scheme!r} is not an ALB scheme: use 'internal' or 'internet-facing'."
        )
    if not args.ingress:
        set_args = [arg for arg in ("ingress_host", "certificate_arn", "ingress_group_name", "load_balancer_cidrs")
                    if getattr(args, arg)]
        if args.ingress_scheme != "internal":
            set_args.append("ingress_scheme")
        if set_args:
            raise ValueError(f"{set_args[0]} is set but ingress=False: set ingress=True or drop {set_args[0]}.")
        return
    if not args.load_balancer_cidrs:
        raise ValueError(
            "ingress=True needs load_balancer_cidrs: the ALB calls pod IPs from its subnets and the "
            "NetworkPolicy must admit them; pass the VPC CIDR."
        )
    check_cidrs("load_balancer_cidrs", args.load_balancer_cidrs)
    if args.ingress_scheme == "internet-facing" and args.certificate_arn is None:
        raise ValueError(
            "ingress_scheme='internet-facing' without certificate_arn would serve plain HTTP to the internet: "
            "pass an ACM certificate_arn."
        )
    if isinstance(args.certificate_arn, str) and not _CERTIFICATE_ARN.match(args.certificate_arn):
        raise ValueError(
            f"certificate_arn={args.certificate_arn!r} is not an ACM certificate ARN: "
            "use 'arn:aws:acm:<region>:<account>:certificate/<id>'."
        )
    if args.ingress_host is not None and (len(args.ingress_host) > 253 or not _HOST.match(args.ingress_host)):
        raise ValueError(
            f"ingress_host={args.ingress_host!r} is not a host name: use a lower-case DNS name like "
            "'rag.internal.example.com' (a leading '*.' is allowed)."
        )
    if args.ingress_group_name is not None and (len(args.ingress_group_name) > 63
                                                or not _GROUP_NAME.match(args.ingress_group_name)):
        raise ValueError(
            f"ingress_group_name={args.ingress_group_name!r} is invalid: use at most 63 lower-case letters, "
            "digits, '-' and '.', starting and ending with a letter or digit."
        )
    for key, value in args.tags.items():
        if any(c in f"{key}{value}" for c in ",="):
            raise ValueError(
                f"tags entry {key!r}: {value!r} contains ',' or '=', which the ALB tags annotation cannot carry: "
                "remove them."
            )
