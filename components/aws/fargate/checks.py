"""Argument checks of :class:`~genai_platform.components.aws.fargate.service.FargateAlbService`, run before anything
is registered: each raises one ``ValueError`` naming the argument, the value and the fix."""

import ipaddress

from genai_platform.components.aws.fargate.args import FargateAlbServiceArgs, LoadBalancerArgs, TLS13_POLICY, TRAFFIC_SHIFTING_STRATEGIES
from genai_platform.components.aws.fargate.iam import check_plain_environment, check_task_role_statements, secret_resource_arn
from genai_platform.components.aws.fargate.sizes import check_fargate_size
from genai_platform.components.aws.limits import check_log_retention
from genai_platform.components.validation import check_range


def validate(args: FargateAlbServiceArgs) -> None:
    """Raise ``ValueError`` naming the first argument that AWS would reject or that is insecure."""
    check_fargate_size(args.cpu, args.memory_mib)
    if args.cpu_architecture not in ("ARM64", "X86_64"):
        raise ValueError(f"cpu_architecture={args.cpu_architecture!r} is not a Fargate architecture: "
                         "use 'ARM64' or 'X86_64'.")
    check_range("container_port", args.container_port, 1024, 65535,
                " (the container runs as a non-root user, which cannot bind lower ports)")
    if args.user.split(":")[0] in ("0", "root", ""):
        raise ValueError(f"user={args.user!r} runs the container as root: use a non-root UID such as '10001'.")
    if args.container_insights not in ("enabled", "enhanced", "disabled"):
        raise ValueError(f"container_insights={args.container_insights!r} is not a Container Insights setting: "
                         "use 'enabled', 'enhanced' or 'disabled'.")
    check_log_retention("log_retention_days", args.log_retention_days)
    check_plain_environment("environment", args.environment)
    both = sorted(set(args.environment) & set(args.secrets))
    if both:
        raise ValueError(f"environment and secrets both set {both[0]!r}: keep it in secrets only.")
    for variable, value_from in args.secrets.items():
        if isinstance(value_from, str):
            secret_resource_arn("secrets", variable, value_from)
    check_task_role_statements("task_role_statements", args.task_role_statements)
    for path in args.writable_paths:
        if not path.startswith("/") or path == "/":
            raise ValueError(f"writable_paths contains {path!r}: use absolute paths below '/', such as '/tmp'.")
    if not args.health_check_path.startswith("/"):
        raise ValueError(f"health_check_path={args.health_check_path!r} must start with '/': e.g. '/health'.")
    _validate_network(args)
    _validate_scaling(args)
    _validate_deployment(args)


def _validate_network(args: FargateAlbServiceArgs) -> None:
    if len(args.private_subnet_ids) < 2:
        raise ValueError(f"private_subnet_ids has {len(args.private_subnet_ids)} subnet(s): "
                         "pass at least two, in different zones, so tasks survive a zone outage.")
    if args.load_balancer is None:
        validate_load_balancer(args)
        if args.path_patterns != ["/*"]:
            raise ValueError(f"path_patterns={args.path_patterns} needs load_balancer: a service's own load "
                             "balancer sends it every path; pass a SharedAlb to serve only some.")
    else:
        _validate_shared_load_balancer(args)
    check_range("deregistration_delay_seconds", args.deregistration_delay_seconds, 0, 3600)
    check_range("health_check_interval_seconds", args.health_check_interval_seconds, 5, 300)
    if args.health_check_grace_period_seconds < 0:
        raise ValueError(f"health_check_grace_period_seconds={args.health_check_grace_period_seconds} "
                         "is negative: use 0 or more.")
    for port in args.egress_vpc_ports:
        if not 1 <= port <= 65535:
            raise ValueError(f"egress_vpc_ports contains {port}: use TCP ports 1 to 65535.")


def _validate_shared_load_balancer(args: FargateAlbServiceArgs) -> None:
    _check_ipv4_cidr("vpc_cidr_block", args.vpc_cidr_block)
    # The shared ALB's own settings live on the SharedAlb; a value here would be silently ignored.
    for argument in ("certificate_arn", "access_logs_bucket", "allowed_cidrs"):
        if getattr(args, argument) is not None:
            raise ValueError(f"{argument} is set, but the service joins load_balancer: set it on the SharedAlb.")
    if not args.internal or args.deletion_protection:
        argument = "internal=False" if not args.internal else "deletion_protection=True"
        raise ValueError(f"{argument} is set, but the service joins load_balancer: set it on the SharedAlb.")
    if not args.path_patterns or len(args.path_patterns) > 5:
        raise ValueError(f"path_patterns={args.path_patterns} must list 1 to 5 patterns (an ALB rule's limit).")
    for pattern in args.path_patterns:
        if not pattern.startswith("/"):
            raise ValueError(f"path_patterns contains {pattern!r}: patterns start with '/', e.g. '/mlflow/*'.")
    check_range("listener_rule_priority", args.listener_rule_priority, 1, 50000)


def validate_load_balancer(args: LoadBalancerArgs) -> None:
    """Raise ``ValueError`` for the first load balancer setting (subnets, scheme, CIDRs, TLS) AWS would
    reject or that is insecure; shared by the service's own ALB and a :class:`SharedAlb`."""
    if len(args.private_subnet_ids) < 2:
        raise ValueError(f"private_subnet_ids has {len(args.private_subnet_ids)} subnet(s): "
                         "pass at least two, in different zones, so the load balancer survives a zone outage.")
    if not args.internal and len(args.public_subnet_ids) < 2:
        raise ValueError(f"public_subnet_ids has {len(args.public_subnet_ids)} subnet(s): an internet-facing "
                         "load balancer needs at least two, in different zones (or set internal=True).")
    _check_ipv4_cidr("vpc_cidr_block", args.vpc_cidr_block)
    for cidr in args.allowed_cidrs or []:
        _check_ipv4_cidr("allowed_cidrs", cidr)
    if args.allowed_cidrs is not None and not args.allowed_cidrs:
        raise ValueError("allowed_cidrs=[] admits nobody: leave it unset for the VPC only, or list the client ranges.")
    if args.internal and "0.0.0.0/0" in (args.allowed_cidrs or []):
        raise ValueError("allowed_cidrs contains '0.0.0.0/0' on an internal load balancer: "
                         "list the networks that reach it (VPC, peered VPCs, VPN ranges).")
    if not args.ssl_policy.startswith("ELBSecurityPolicy-TLS13-"):
        raise ValueError(f"ssl_policy={args.ssl_policy!r} allows TLS older than 1.2 or lacks TLS 1.3: "
                         f"use an ELBSecurityPolicy-TLS13-* policy such as {TLS13_POLICY!r}.")
    check_range("idle_timeout_seconds", args.idle_timeout_seconds, 1, 4000)


def _check_ipv4_cidr(argument: str, cidr: str) -> None:
    try:
        network = ipaddress.ip_network(cidr)
    except ValueError:
        raise ValueError(f"{argument} contains {cidr!r}, not a network CIDR block: use the form '10.0.0.0/16' "
                         "(network address, no host bits).") from None
    if network.version != 4:
        raise ValueError(f"{argument} contains {cidr!r}, an IPv6 block: the load balancer is IPv4-only, "
                         "use IPv4 CIDR blocks.")


def _validate_scaling(args: FargateAlbServiceArgs) -> None:
    if args.min_tasks < 1:
        raise ValueError(f"min_tasks={args.min_tasks} is below 1: an API behind a load balancer needs a "
                         "running task (request-based scaling cannot start from zero).")
    if args.max_tasks < args.min_tasks:
        raise ValueError(f"max_tasks={args.max_tasks} is below min_tasks={args.min_tasks}: raise max_tasks.")
    if not 0 < args.cpu_target_percent <= 100:
        raise ValueError(f"cpu_target_percent={args.cpu_target_percent} is out of range: use more than 0, at most 100.")
    if args.requests_per_target < 1:
        raise ValueError(f"requests_per_target={args.requests_per_target} is below 1: use the per-task "
                         "requests per minute a load test sustains.")
    if not 0 < args.error_rate_threshold_percent <= 100:
        raise ValueError(f"error_rate_threshold_percent={args.error_rate_threshold_percent} is out of range: "
                         "use more than 0, at most 100.")
    if args.p95_latency_threshold_seconds <= 0:
        raise ValueError(f"p95_latency_threshold_seconds={args.p95_latency_threshold_seconds} must be positive.")


def _validate_deployment(args: FargateAlbServiceArgs) -> None:
    strategies = ("ROLLING", *TRAFFIC_SHIFTING_STRATEGIES)
    if args.deployment_strategy not in strategies:
        raise ValueError(f"deployment_strategy={args.deployment_strategy!r} is not an ECS deployment strategy: "
                         f"use one of {', '.join(strategies)}.")
    for argument in ("bake_time_minutes", "canary_bake_time_minutes", "linear_step_bake_time_minutes"):
        check_range(argument, getattr(args, argument), 0, 1440, " minutes")
    check_range("canary_percent", args.canary_percent, 0.1, 100)
    check_range("linear_step_percent", args.linear_step_percent, 3, 100)
