"""Arguments of the Fargate family: :class:`FargateAlbServiceArgs`, :class:`SharedAlbArgs` and what they share.

They sit below every module of the family (checks, load balancer, security groups, roles, task, service),
which import them; this module imports none of them, so the family has no import circle.
"""

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Union

import pulumi

TLS13_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 with forward-secret ciphers only; AWS's recommended policy for HTTPS listeners."""

TRAFFIC_SHIFTING_STRATEGIES = ("BLUE_GREEN", "CANARY", "LINEAR")
"""Strategies where ECS starts a full green fleet in a second target group and moves traffic by
re-weighting a listener rule."""


ALL_PATHS = ["/*"]
"""Every request path: what a service on its own load balancer serves."""


class SharedLoadBalancer(Protocol):
    """What a service needs of the load balancer it joins: a
    :class:`~genai_platform.components.aws.fargate.shared_alb.SharedAlb`."""

    arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    listener_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    https: bool

    def claim_priority(self, priority: int, service: str) -> None: ...


DeploymentStrategy = Literal["ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"]
CpuArchitecture = Literal["ARM64", "X86_64"]
ContainerInsights = Literal["enabled", "enhanced", "disabled"]


@dataclass
class FargateAlbServiceArgs:
    """Arguments of :class:`FargateAlbService`. Every default is the secure, cheap one."""

    image: pulumi.Input[str]
    """Container image, ideally pinned by digest. For a private ECR image the execution role may pull
    from that one repository only; other registries must be public (no registry credentials here)."""

    vpc_id: pulumi.Input[str]
    """VPC of the service, its load balancer and security groups."""

    vpc_cidr_block: str
    """The VPC's IPv4 range (``Vpc.cidr_block``): the default ``allowed_cidrs`` and the destination of
    ``egress_vpc_ports``."""

    private_subnet_ids: list[pulumi.Input[str]]
    """Subnets of the tasks (and of the load balancer when ``internal``); at least two zones."""

    public_subnet_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """Subnets of an internet-facing load balancer; at least two zones. Unused when ``internal``."""

    container_port: int = 8080
    """Port the container listens on; an unprivileged port, since the process does not run as root."""

    container_name: str = "app"
    """Name of the container in the task definition (and in log stream names)."""

    cpu: int = 512
    """Task CPU units (1024 = 1 vCPU): 256, 512, 1024, 2048, 4096, 8192 or 16384."""

    memory_mib: int = 1024
    """Task memory in MiB; must be a size Fargate pairs with ``cpu`` (see ``fargate_sizes``)."""

    cpu_architecture: CpuArchitecture = "ARM64"
    """``ARM64`` (Graviton, ~20% cheaper per vCPU-hour than ``X86_64``); the image must be built for it
    (or be multi-arch)."""

    family: str | None = None
    """Task definition family; default the component name. Families are per account and region:
    two stacks in one account need distinct component names or families."""

    environment: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain, non-secret environment variables (values may be outputs, e.g. a database host). They are visible in the task definition, so a key
    that names a credential (``*_PASSWORD``, ``*_TOKEN``, ``*_SECRET``, ``*_API_KEY``...) is rejected:
    put those in ``secrets``."""

    secrets: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Environment variable name -> full ARN of a Secrets Manager secret (optionally with
    ``:json-key::`` suffix) or SSM parameter. ECS injects them at start; the execution role may read
    exactly these."""

    secrets_kms_key_arns: list[pulumi.Input[str]] = field(default_factory=list)
    """Customer-managed KMS keys the ``secrets`` are encrypted with (default: AWS-managed keys, which
    need no grant). The execution role may decrypt with them only via Secrets Manager/SSM."""

    user: str = "10001"
    """UID (or UID:GID) the container runs as. Root (``0``, ``root``) is rejected: a container escape
    as root is a host compromise."""

    writable_paths: list[str] = field(default_factory=lambda: ["/tmp"])
    """Paths mounted from the task's ephemeral storage. The root file system is read-only, so an
    attacker cannot persist changes; apps that write scratch files need these. Fargate mounts each one
    owned by root with mode 0755, so ``user`` can write there only if the image creates the directory
    owned by that UID and declares it with ``VOLUME`` (ECS then copies the ownership); the task
    definition has no way to set it."""

    health_check_path: str = "/health"
    """HTTP path answering 2xx/3xx when the app is ready; used by the ALB and the container check."""

    container_health_check_command: list[str] | None = None
    """Docker health check command. Default: ``python3`` fetches ``health_check_path`` on localhost
    (both platform images are Python; pass ``["CMD-SHELL", "curl -fsS ... || exit 1"]`` otherwise)."""

    log_retention_days: int = 30
    """Retention of the container log group; must be a value CloudWatch Logs accepts."""

    log_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for the log group (its policy must allow ``logs.<region>.amazonaws.com``). Default
    none: CloudWatch Logs encrypts with its own key."""

    task_role_statements: list[dict[str, Any]] = field(default_factory=list)
    """IAM statements of the task role (what the app may call), used verbatim. Wildcard actions,
    ``NotAction``/``NotResource`` and ``Resource: "*"`` on anything but List*/Describe* are rejected.
    Default none: the app gets an identity with no permissions."""

    cluster_arn: pulumi.Input[str] | None = None
    """Run in this existing cluster. Default: create a cluster with Container Insights."""

    fargate_spot: bool = False
    """Run the tasks on ``FARGATE_SPOT`` (a capacity-provider strategy instead of the ``FARGATE`` launch type):
    ~70% cheaper, ARM64 included since September 2024 (aws.amazon.com/about-aws/whats-new/2024/09/
    amazon-ecs-graviton-based-spot-compute-fargate), but AWS may stop a task with two minutes' notice
    (SIGTERM; the ALB drains it) and start its replacement only when Spot capacity is there. Canary,
    linear and blue/green deploys work unchanged. Switching it later replaces the ECS service (ECS cannot
    move a service between a launch type and a strategy). Default ``False``: an interruption is an outage
    for a one-task service; dev environments turn it on. With ``cluster_arn`` the cluster must have the
    ``FARGATE_SPOT`` capacity provider (clusters this component creates have both)."""

    container_insights: ContainerInsights = "enabled"
    """Container Insights on a created cluster: ``enabled`` (task/service CPU, memory, network metrics;
    ~$0.50-1/task/month of custom metrics), ``enhanced`` (per-container detail, more metrics) or
    ``disabled``."""

    min_tasks: int = 2
    """Fewest running tasks; two spread over zones survive a zone or task failure."""

    max_tasks: int = 6
    """Most running tasks autoscaling may start (a cost ceiling)."""

    cpu_target_percent: float = 60.0
    """Average service CPU autoscaling keeps tasks at. 60% leaves headroom for a spike while new
    tasks start (~1-2 minutes on Fargate)."""

    requests_per_target: int = 1000
    """ALB requests per task per minute autoscaling keeps tasks at; size it from a load test."""

    load_balancer: SharedLoadBalancer | None = None
    """Serve behind this shared ALB instead of creating one (~$22/month saved per service): the service
    adds a listener rule forwarding ``path_patterns`` to its target group (with a traffic-shifting
    strategy, the production rule ECS re-weights), and its alarms read its own target groups. The
    load balancer settings below (``internal``, ``allowed_cidrs``, ``certificate_arn``, ``ssl_policy``,
    ``idle_timeout_seconds``, ``access_logs_bucket``, ``deletion_protection``) are then the SharedAlb's;
    setting one of those without a default here is refused. Default ``None``: an ALB of its own."""

    path_patterns: list[str] = field(default_factory=lambda: list(ALL_PATHS))
    """With ``load_balancer``: the request paths (ALB path patterns, 1-5) this service serves, e.g.
    ``["/mlflow", "/mlflow/*"]``; ``url`` is the load balancer's URL plus the first pattern without its
    wildcard. The app must serve under that prefix (the ALB does not strip it). Default every path."""

    listener_rule_priority: int = 100
    """With ``load_balancer``: priority of the service's rule (1-50000, unique per listener; lower is
    evaluated first), so a service claiming ``/*`` must come after the services with narrower paths."""

    internal: bool = True
    """Default ``True``: the load balancer gets private addresses only (in ``private_subnet_ids``), so
    nothing is reachable from the internet unless asked. ``False`` puts it in ``public_subnet_ids`` with
    public addresses; who may connect is still limited by ``allowed_cidrs``."""

    allowed_cidrs: list[str] | None = None
    """IPv4 ranges allowed to reach the load balancer on 443 (and 80). Default: the VPC only - a
    public API must say ``["0.0.0.0/0"]`` explicitly, so an open door is a visible decision."""

    certificate_arn: pulumi.Input[str] | None = None
    """ACM certificate for the HTTPS listener; port 80 then only redirects to 443. Without one the
    ALB serves plain HTTP (a warning is logged): acceptable for a dev stack, never for real data.
    With a traffic-shifting strategy, set it before the first deploy: adding it later moves the
    production listener rule to the new listener."""

    ssl_policy: str = TLS13_POLICY
    """TLS policy of the HTTPS listener; only ``ELBSecurityPolicy-TLS13-*`` policies are accepted."""

    idle_timeout_seconds: int = 60
    """Seconds the ALB keeps an idle connection (1-4000). Streaming responses (token-by-token
    generation, long model calls) need more than the longest silent gap."""

    access_logs_bucket: pulumi.Input[str] | None = None
    """S3 bucket for ALB access logs (enabled when given; its policy must allow the regional ELB log
    delivery). Whether prod requires it is the stack's decision."""

    deletion_protection: bool = False
    """ALB deletion protection; prod stacks turn it on so a stray ``destroy`` keeps the endpoint's DNS name."""

    deregistration_delay_seconds: int = 30
    """Seconds the ALB drains a stopping task (AWS default 300 slows every deploy by 5 minutes)."""

    health_check_interval_seconds: int = 15
    """Seconds between ALB health checks (5-300); with 3 failures a dead task leaves in ~45 s."""

    health_check_grace_period_seconds: int = 60
    """Seconds ECS ignores ALB health checks after a task starts (model loading may need more)."""

    deployment_strategy: DeploymentStrategy = "ROLLING"
    """How a new task definition replaces the old one (ECS-native, no CodeDeploy):
    ``ROLLING`` replaces tasks in place, guarded by the circuit breaker and the alarms;
    ``CANARY`` starts a full green fleet, sends ``canary_percent`` of traffic to it for
    ``canary_bake_time_minutes``, then all; ``LINEAR`` shifts ``linear_step_percent`` at a time;
    ``BLUE_GREEN`` shifts all at once. The three traffic-shifting strategies add a second target
    group, a production listener rule and an ECS infrastructure role, and briefly double the tasks.
    Default ``ROLLING``: nothing extra, and no exposure to the provider's open blue/green issue
    (terraform-provider-aws #45678); the tabular stack opts into ``CANARY``."""

    bake_time_minutes: int = 10
    """Traffic-shifting strategies: minutes the old fleet stays up after all traffic moved, so an
    alarm in that window rolls back instantly (0-1440). ECS ignores it for ``ROLLING``."""

    canary_percent: float = 10.0
    """``CANARY``: share of traffic the new version gets first (0.1-100)."""

    canary_bake_time_minutes: int = 5
    """``CANARY``: minutes at ``canary_percent`` before shifting the rest (0-1440)."""

    linear_step_percent: float = 25.0
    """``LINEAR``: share of traffic shifted per step (3-100)."""

    linear_step_bake_time_minutes: int = 5
    """``LINEAR``: minutes between steps (0-1440)."""

    error_rate_threshold_percent: float = 5.0
    """5xx responses (target and ALB) as a share of requests that fire the error alarm and roll back
    a deploy, over 2 of 3 one-minute periods."""

    p95_latency_threshold_seconds: float = 2.0
    """p95 target response time that fires the latency alarm (and rolls back a deploy)."""

    alarm_actions: list[pulumi.Input[str]] = field(default_factory=list)
    """SNS topic ARNs notified when an alarm fires or recovers. Default none: the alarms still roll
    back deploys, but nobody is paged - stacks should pass their alerts topic."""

    egress_vpc_ports: list[int] = field(default_factory=list)
    """TCP ports the tasks may reach inside the VPC (5432 for Postgres, 6379 for Redis...). HTTPS
    (443) to anywhere is always allowed: ECR, Secrets Manager, CloudWatch Logs and S3 live there."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


@dataclass
class SharedAlbArgs:
    """Arguments of :class:`SharedAlb`: the load balancer settings of ``FargateAlbServiceArgs``, with the
    same names, meanings and secure defaults."""

    vpc_id: pulumi.Input[str]
    """VPC of the load balancer and its security group."""

    vpc_cidr_block: str
    """The VPC's IPv4 range (``Vpc.cidr_block``): the default ``allowed_cidrs``."""

    private_subnet_ids: list[pulumi.Input[str]]
    """Subnets of an internal load balancer; at least two zones."""

    public_subnet_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """Subnets of an internet-facing load balancer; at least two zones. Unused when ``internal``."""

    internal: bool = True
    """Default ``True``: private addresses only. ``False`` puts it in ``public_subnet_ids``; who may
    connect is still limited by ``allowed_cidrs``."""

    allowed_cidrs: list[str] | None = None
    """IPv4 ranges allowed to reach the listeners. Default: the VPC only."""

    certificate_arn: pulumi.Input[str] | None = None
    """ACM certificate for the HTTPS listener (port 80 then only redirects); it must cover the host names
    clients use. Without one the ALB serves plain HTTP (a warning is logged)."""

    ssl_policy: str = TLS13_POLICY
    """TLS policy of the HTTPS listener; only ``ELBSecurityPolicy-TLS13-*`` policies are accepted."""

    idle_timeout_seconds: int = 60
    """Seconds the ALB keeps an idle connection (1-4000); the longest silent gap of any service counts."""

    access_logs_bucket: pulumi.Input[str] | None = None
    """S3 bucket for access logs (enabled when given; its policy must allow the regional ELB log delivery)."""

    deletion_protection: bool = False
    """ALB deletion protection; prod stacks turn it on."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


LoadBalancerArgs = Union["FargateAlbServiceArgs", "SharedAlbArgs"]
"""Both carry the load balancer's own settings under the same names (subnets, scheme, TLS, logs)."""
