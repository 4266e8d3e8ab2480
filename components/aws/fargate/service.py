"""FargateAlbService: an ECS Fargate service behind an Application Load Balancer, with safe deploys.

Tasks run in private subnets with a read-only root file system as a non-root user; only the ALB
reaches them. Deploys roll back on their own: the ECS circuit breaker catches tasks that never get
healthy, and CloudWatch alarms (5xx rate, p95 latency, unhealthy hosts) catch a release that starts
but misbehaves under real traffic. ``deployment_strategy`` adds ECS's native canary, linear or
blue/green traffic shifting on top.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_aws import ecs, get_caller_identity, get_region

from genai_platform.components.aws.fargate.alarms import service_alarms
from genai_platform.components.aws.fargate.checks import TLS13_POLICY, TRAFFIC_SHIFTING_STRATEGIES, validate
from genai_platform.components.aws.fargate.children import Children
from genai_platform.components.aws.fargate.deployment import ecs_service
from genai_platform.components.aws.fargate.load_balancer import (ALL_PATHS, forward_rule, forward_to, listeners, load_balancer,
                                                  production_rule, target_group)
from genai_platform.components.aws.fargate.roles import task_roles
from genai_platform.components.aws.fargate.scaling import autoscaling
from genai_platform.components.aws.fargate.security_groups import security_groups
from genai_platform.components.aws.fargate.shared_alb import SharedAlb
from genai_platform.components.aws.fargate.task import log_group, task_definition

DeploymentStrategy = Literal["ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"]
CpuArchitecture = Literal["ARM64", "X86_64"]
ContainerInsights = Literal["enabled", "enhanced", "disabled"]
__all__ = ["FargateAlbService", "FargateAlbServiceArgs", "TLS13_POLICY", "TRAFFIC_SHIFTING_STRATEGIES"]


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

    load_balancer: SharedAlb | None = None
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


class FargateAlbService(pulumi.ComponentResource):
    """An ECS Fargate service behind an ALB with autoscaling, alarms and self-rolling-back deploys."""

    url: pulumi.Output[str]
    """``https://<alb dns>`` with a certificate, else ``http://<alb dns>`` (plus the path prefix on a
    shared load balancer)."""
    load_balancer_dns_name: pulumi.Output[str]
    """DNS name of the ALB (point a Route 53 alias or CNAME at it)."""
    load_balancer_zone_id: pulumi.Output[str]
    """Hosted zone of the ALB's DNS name, for Route 53 alias records."""
    alb_arn_suffix: pulumi.Output[str]
    """``app/<name>/<id>``: the ``LoadBalancer`` dimension of ALB metrics, for dashboards."""
    target_group_arn_suffix: pulumi.Output[str]
    """``targetgroup/<name>/<id>`` of the first target group: the ``TargetGroup`` metric dimension.
    With a traffic-shifting strategy ECS alternates between it and ``tg-alt`` on every deploy."""
    target_group_arns: list[pulumi.Output[str]]
    """ARNs of the target groups (one, or two with a traffic-shifting strategy), for target-health checks."""
    cluster_arn: pulumi.Output[str]
    """ARN of the ECS cluster the service runs in (pass it as ``cluster_arn`` to run more services there;
    it resolves once the cluster's FARGATE and FARGATE_SPOT capacity providers are attached)."""
    cluster_name: pulumi.Output[str]
    """Name of the ECS cluster the service runs in."""
    service_name: pulumi.Output[str]
    """Name of the ECS service."""
    security_group_id: pulumi.Output[str]
    """Security group of the tasks: admit it on databases and caches the service uses."""
    alb_security_group_id: pulumi.Output[str]
    """Security group of the load balancer."""
    task_role_arn: pulumi.Output[str]
    """Role the application runs as (for bucket or key policies naming it)."""
    log_group_name: pulumi.Output[str]
    """CloudWatch log group of the container."""
    alarm_arns: list[pulumi.Output[str]]
    """The 5xx-rate, p95-latency and unhealthy-host alarms (also the deployment rollback alarms)."""

    def __init__(self, name: str, args: FargateAlbServiceArgs, opts: pulumi.ResourceOptions | None = None):
        validate(args)
        if args.load_balancer is not None:
            args.load_balancer.claim_priority(args.listener_rule_priority, name)
        super().__init__("genai:aws:FargateAlbService", name, None, opts)
        children = Children(parent=self, prefix=name, tags=args.tags)
        invoke = pulumi.InvokeOptions(parent=self)
        region = get_region(opts=invoke).region
        account_id = get_caller_identity(opts=invoke).account_id
        shifting = args.deployment_strategy in TRAFFIC_SHIFTING_STRATEGIES

        self.cluster_arn, self.cluster_name = _cluster(children, args)
        shared = args.load_balancer
        alb_sg_id, service_sg = security_groups(children, args, shared.security_group_id if shared else None)
        logs = log_group(children, args)
        execution_role, task_role, role_policies = task_roles(children, args, logs, account_id, region)
        task = task_definition(children, args, logs, execution_role, task_role, region)

        target_groups = [target_group(children, "tg", args)]
        if shifting:
            target_groups.append(target_group(children, "tg-alt", args))
        if shared is None:
            alb = load_balancer(children, args, alb_sg_id)
            arn_suffix, dns_name, zone_id = alb.arn_suffix, alb.dns_name, alb.zone_id
            serving_listener, routing = listeners(children, args, alb, forward_to(target_groups[0]))
            rule = production_rule(children, serving_listener.arn, target_groups) if shifting else None
            scheme, path = ("https" if args.certificate_arn is not None else "http"), ""
        else:
            arn_suffix, dns_name, zone_id = shared.arn_suffix, shared.dns_name, shared.zone_id
            rule = (production_rule(children, shared.listener_arn, target_groups, args.path_patterns,
                                    args.listener_rule_priority) if shifting else None)
            routing = [rule or forward_rule(children, shared.listener_arn, target_groups[0], args.path_patterns,
                                            args.listener_rule_priority)]
            scheme, path = ("https" if shared.https else "http"), args.path_patterns[0].rstrip("*").rstrip("/")

        alarms = service_alarms(children, args, arn_suffix, target_groups, shared=shared is not None)
        # Tasks started before their role policies exist fail to pull or read secrets, and the circuit
        # breaker would roll back the very first deploy; ECS refuses a target group no listener uses.
        service = ecs_service(children, args, self.cluster_arn, task, service_sg, target_groups, rule,
                              alarms, depends_on=[*routing, *role_policies])
        autoscaling(children, args, self.cluster_name, service, arn_suffix, target_groups)

        self.load_balancer_dns_name = dns_name
        self.load_balancer_zone_id = zone_id
        self.url = dns_name.apply(lambda dns: f"{scheme}://{dns}{path}")
        self.alb_arn_suffix = arn_suffix
        self.target_group_arn_suffix = target_groups[0].arn_suffix
        self.target_group_arns = [group.arn for group in target_groups]
        self.service_name = service.name
        self.security_group_id = service_sg.id
        self.alb_security_group_id = alb_sg_id
        self.task_role_arn = task_role.arn
        self.log_group_name = logs.name
        self.alarm_arns = [alarm.arn for alarm in alarms]
        self.register_outputs(
            {
                "url": self.url,
                "load_balancer_dns_name": self.load_balancer_dns_name,
                "alb_arn_suffix": self.alb_arn_suffix,
                "target_group_arn_suffix": self.target_group_arn_suffix,
                "target_group_arns": self.target_group_arns,
                "cluster_arn": self.cluster_arn,
                "cluster_name": self.cluster_name,
                "service_name": self.service_name,
                "security_group_id": self.security_group_id,
                "alarm_arns": self.alarm_arns,
            }
        )


def _cluster(children: Children, args: FargateAlbServiceArgs) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    if args.cluster_arn is not None:
        arn = pulumi.Output.from_input(args.cluster_arn)
        return arn, arn.apply(lambda value: value.rsplit("/", 1)[-1])
    name = children.name("cluster")
    cluster = ecs.Cluster(
        name,
        settings=[ecs.ClusterSettingArgs(name="containerInsights", value=args.container_insights)],
        tags=children.tagged(name),
        opts=children.opts(),
    )
    # Both Fargate providers, so any service of the cluster may choose Spot; without a strategy of
    # their own, services keep the on-demand FARGATE launch type.
    providers = ecs.ClusterCapacityProviders(
        children.name("capacity-providers"),
        cluster_name=cluster.name,
        capacity_providers=["FARGATE", "FARGATE_SPOT"],
        default_capacity_provider_strategies=[
            ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(capacity_provider="FARGATE", weight=1)],
        opts=children.opts(),
    )
    # A service placed on FARGATE_SPOT before the provider is attached fails to create.
    ready = pulumi.Output.all(cluster.arn, cluster.name, providers.id)
    return ready.apply(lambda values: values[0]), ready.apply(lambda values: values[1])
