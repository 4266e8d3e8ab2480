"""FargateAlbService: an ECS Fargate service behind an Application Load Balancer, with safe deploys.

Tasks run in private subnets with a read-only root file system as a non-root user; only the ALB
reaches them. Deploys roll back on their own: the ECS circuit breaker catches tasks that never get
healthy, and CloudWatch alarms (5xx rate, p95 latency, unhealthy hosts) catch a release that starts
but misbehaves under real traffic. ``deployment_strategy`` adds ECS's native canary, linear or
blue/green traffic shifting on top.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_aws import appautoscaling, cloudwatch, ec2, ecs, get_caller_identity, get_region, iam, lb, vpc

from components.aws.fargate_checks import TLS13_POLICY, TRAFFIC_SHIFTING_STRATEGIES, validate
from components.aws.fargate_iam import ecs_tasks_trust_policy, execution_policy, task_policy
from components.tagging import child_tags

DeploymentStrategy = Literal["ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"]
CpuArchitecture = Literal["ARM64", "X86_64"]
ContainerInsights = Literal["enabled", "enhanced", "disabled"]
__all__ = ["FargateAlbService", "FargateAlbServiceArgs", "TLS13_POLICY", "TRAFFIC_SHIFTING_STRATEGIES"]

_HTTPS_PORT, _HTTP_PORT = 443, 80
_ALARM_PERIOD_SECONDS = 60
_MIN_REQUESTS_FOR_ERROR_RATE = 10
"""Below this many requests a minute the 5xx rate is noise (1 error in 2 requests is 50%)."""


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
    """``https://<alb dns>`` with a certificate, else ``http://<alb dns>``."""
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
    """ARN of the ECS cluster the service runs in (pass it as ``cluster_arn`` to run more services there)."""
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
        super().__init__("genai:aws:FargateAlbService", name, None, opts)
        self._name, self._tags, self._args = name, args.tags, args
        invoke = pulumi.InvokeOptions(parent=self)
        region = get_region(opts=invoke).region
        account_id = get_caller_identity(opts=invoke).account_id
        shifting = args.deployment_strategy in TRAFFIC_SHIFTING_STRATEGIES

        self.cluster_arn, self.cluster_name = self._cluster(args)
        alb_sg, service_sg = self._security_groups(args)
        log_group = self._log_group(args)
        execution_role, task_role, role_policies = self._roles(args, log_group, account_id, region)
        task_definition = self._task_definition(args, log_group, execution_role, task_role, region)

        target_groups = [self._target_group("tg", args)]
        if shifting:
            target_groups.append(self._target_group("tg-alt", args))
        alb = self._load_balancer(args, alb_sg)
        serving_listener, listeners = self._listeners(args, alb, target_groups[0])
        production_rule = self._production_rule(serving_listener, target_groups) if shifting else None

        alarms = self._alarms(args, alb, target_groups)
        # Tasks started before their role policies exist fail to pull or read secrets, and the circuit
        # breaker would roll back the very first deploy.
        service = self._service(args, self.cluster_arn, task_definition, service_sg, target_groups, production_rule,
                                alarms, depends_on=[*listeners, *role_policies])
        self._autoscaling(args, service, alb, target_groups)

        self.load_balancer_dns_name = alb.dns_name
        self.load_balancer_zone_id = alb.zone_id
        scheme = "https" if args.certificate_arn is not None else "http"
        self.url = alb.dns_name.apply(lambda dns: f"{scheme}://{dns}")
        self.alb_arn_suffix = alb.arn_suffix
        self.target_group_arn_suffix = target_groups[0].arn_suffix
        self.target_group_arns = [group.arn for group in target_groups]
        self.service_name = service.name
        self.security_group_id = service_sg.id
        self.alb_security_group_id = alb_sg.id
        self.task_role_arn = task_role.arn
        self.log_group_name = log_group.name
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

    def _tagged(self, name: str) -> dict[str, str]:
        return child_tags(name, self._tags)

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _cluster(self, args: FargateAlbServiceArgs) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        if args.cluster_arn is not None:
            arn = pulumi.Output.from_input(args.cluster_arn)
            return arn, arn.apply(lambda value: value.rsplit("/", 1)[-1])
        name = f"{self._name}-cluster"
        cluster = ecs.Cluster(
            name,
            settings=[ecs.ClusterSettingArgs(name="containerInsights", value=args.container_insights)],
            tags=self._tagged(name),
            opts=self._child(),
        )
        return cluster.arn, cluster.name

    def _security_groups(self, args: FargateAlbServiceArgs) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
        # Rules are separate resources: the two groups reference each other, and inline rules would
        # make that a dependency cycle.
        alb_sg = self._security_group("alb", args, "Load balancer of the service: clients in, tasks out")
        service_sg = self._security_group("service", args, "Tasks of the service: load balancer in, HTTPS out")

        listener_ports = [_HTTPS_PORT, _HTTP_PORT] if args.certificate_arn is not None else [_HTTP_PORT]
        for cidr in args.allowed_cidrs if args.allowed_cidrs is not None else [args.vpc_cidr_block]:
            for port in listener_ports:
                self._rule(vpc.SecurityGroupIngressRule, f"alb-in-{port}-{_slug(cidr)}", alb_sg, port,
                           f"{'HTTPS' if port == _HTTPS_PORT else 'HTTP'} from {cidr}", cidr_ipv4=cidr)
        # The ALB may only talk to the tasks, on the container port (health checks use it too).
        self._rule(vpc.SecurityGroupEgressRule, "alb-to-service", alb_sg, args.container_port,
                   "To the service's tasks", referenced_security_group_id=service_sg.id)
        self._rule(vpc.SecurityGroupIngressRule, "service-from-alb", service_sg, args.container_port,
                   "From the load balancer only", referenced_security_group_id=alb_sg.id)
        self._rule(vpc.SecurityGroupEgressRule, "service-https-out", service_sg, _HTTPS_PORT,
                   "HTTPS to AWS APIs (ECR, Secrets Manager, Logs, S3)", cidr_ipv4="0.0.0.0/0")
        for port in args.egress_vpc_ports:
            self._rule(vpc.SecurityGroupEgressRule, f"service-vpc-{port}", service_sg, port,
                       f"TCP {port} inside the VPC", cidr_ipv4=args.vpc_cidr_block)
        return alb_sg, service_sg

    def _security_group(self, suffix: str, args: FargateAlbServiceArgs, description: str) -> ec2.SecurityGroup:
        name = f"{self._name}-{suffix}-sg"
        return ec2.SecurityGroup(name, vpc_id=args.vpc_id, description=description, tags=self._tagged(name),
                                 opts=self._child())

    def _rule(self, kind, suffix: str, group, port: int, description: str, **peer) -> None:
        name = f"{self._name}-{suffix}"
        kind(name, security_group_id=group.id, ip_protocol="tcp", from_port=port, to_port=port,
             description=description, tags=self._tagged(name), opts=self._child(), **peer)

    def _log_group(self, args: FargateAlbServiceArgs) -> cloudwatch.LogGroup:
        name = f"{self._name}-logs"
        return cloudwatch.LogGroup(
            name,
            name=f"/genai/ecs/{self._name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            tags=self._tagged(name),
            opts=self._child(),
        )

    def _roles(self, args: FargateAlbServiceArgs, log_group: cloudwatch.LogGroup, account_id: str,
               region: str) -> tuple[iam.Role, iam.Role, list[pulumi.Resource]]:
        # Two roles: the execution role is used by the ECS agent before the app starts (pull, logs,
        # secrets); the task role is the app's own identity. Mixing them would hand the app the
        # secrets' read permission and the agent the app's permissions.
        execution_role = self._role("execution", ecs_tasks_trust_policy(account_id, region, source_arn=False))
        secret_names = list(args.secrets)
        policies: list[pulumi.Resource] = [iam.RolePolicy(
            f"{self._name}-execution",
            role=execution_role.id,
            policy=pulumi.Output.all(log_group.arn, args.image, list(args.secrets.values()),
                                     args.secrets_kms_key_arns).apply(
                lambda values: json.dumps(execution_policy(
                    values[0], values[1], dict(zip(secret_names, values[2])), values[3], region))),
            opts=self._child(),
        )]

        task_role = self._role("task", ecs_tasks_trust_policy(account_id, region, source_arn=True))
        if args.task_role_statements:
            policies.append(iam.RolePolicy(
                f"{self._name}-task",
                role=task_role.id,
                policy=pulumi.Output.from_input(args.task_role_statements).apply(
                    lambda statements: json.dumps(task_policy(statements))),
                opts=self._child(),
            ))
        return execution_role, task_role, policies

    def _role(self, suffix: str, trust_policy: dict[str, Any]) -> iam.Role:
        name = f"{self._name}-{suffix}"
        return iam.Role(name, assume_role_policy=json.dumps(trust_policy), tags=self._tagged(name), opts=self._child())

    def _task_definition(self, args: FargateAlbServiceArgs, log_group: cloudwatch.LogGroup,
                         execution_role: iam.Role, task_role: iam.Role, region: str) -> ecs.TaskDefinition:
        volumes = {path: f"scratch-{index}" for index, path in enumerate(args.writable_paths)}
        health_command = args.container_health_check_command or [
            "CMD", "python3", "-c",
            "import urllib.request; urllib.request.urlopen("
            f"'http://127.0.0.1:{args.container_port}{args.health_check_path}', timeout=4)",
        ]
        secret_items, environment_items = sorted(args.secrets.items()), sorted(args.environment.items())
        container_definitions = pulumi.Output.all(
            args.image, log_group.name, [value for _, value in secret_items], [value for _, value in environment_items]
        ).apply(lambda values: json.dumps([{
            "name": args.container_name,
            "image": values[0],
            "essential": True,
            "portMappings": [{"containerPort": args.container_port, "protocol": "tcp"}],
            "readonlyRootFilesystem": True,
            "user": args.user,
            # No Linux capabilities: an API on an unprivileged port needs none.
            "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
            "mountPoints": [{"sourceVolume": volume, "containerPath": path, "readOnly": False}
                            for path, volume in volumes.items()],
            "environment": [{"name": key, "value": value}
                            for (key, _), value in zip(environment_items, values[3])],
            "secrets": [{"name": key, "valueFrom": value_from}
                        for (key, _), value_from in zip(secret_items, values[2])],
            "healthCheck": {"command": health_command, "interval": 30, "timeout": 5, "retries": 3,
                            "startPeriod": min(args.health_check_grace_period_seconds, 300)},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": values[1], "awslogs-region": region,
                "awslogs-stream-prefix": args.container_name,
                # Never block the app on a CloudWatch hiccup; drop logs past a 25 MB buffer instead.
                "mode": "non-blocking", "max-buffer-size": "25m"}},
        }]))
        name = f"{self._name}-task"
        return ecs.TaskDefinition(
            name,
            family=args.family or self._name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory_mib),
            runtime_platform=ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=args.cpu_architecture),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=container_definitions,
            volumes=[ecs.TaskDefinitionVolumeArgs(name=volume) for volume in volumes.values()],
            tags=self._tagged(name),
            opts=self._child(),
        )

    def _target_group(self, suffix: str, args: FargateAlbServiceArgs) -> lb.TargetGroup:
        name = f"{self._name}-{suffix}"
        return lb.TargetGroup(
            name,
            vpc_id=args.vpc_id,
            port=args.container_port,
            protocol="HTTP",
            target_type="ip",  # awsvpc tasks register by IP
            deregistration_delay=args.deregistration_delay_seconds,
            health_check=lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=args.health_check_path,
                port="traffic-port",
                protocol="HTTP",
                matcher="200-399",
                interval=args.health_check_interval_seconds,
                timeout=min(5, args.health_check_interval_seconds - 1),
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags=self._tagged(name),
            opts=self._child(),
        )

    def _load_balancer(self, args: FargateAlbServiceArgs, alb_sg) -> lb.LoadBalancer:
        name = f"{self._name}-alb"
        access_logs = None
        if args.access_logs_bucket is not None:
            access_logs = lb.LoadBalancerAccessLogsArgs(bucket=args.access_logs_bucket, enabled=True,
                                                        prefix=self._name)
        return lb.LoadBalancer(
            name,
            load_balancer_type="application",
            internal=args.internal,
            subnets=args.private_subnet_ids if args.internal else args.public_subnet_ids,
            security_groups=[alb_sg.id],
            # Requests with malformed headers are a request-smuggling vector; the app never needs them.
            drop_invalid_header_fields=True,
            idle_timeout=args.idle_timeout_seconds,
            enable_deletion_protection=args.deletion_protection,
            access_logs=access_logs,
            tags=self._tagged(name),
            opts=self._child(),
        )

    def _listeners(self, args: FargateAlbServiceArgs, alb: lb.LoadBalancer,
                   target_group: lb.TargetGroup) -> tuple[lb.Listener, list[lb.Listener]]:
        forward = lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)
        http_name = f"{self._name}-http"
        if args.certificate_arn is None:
            pulumi.log.warn(
                f"{self._name}: no certificate_arn, so the load balancer serves plain HTTP on port 80; "
                "pass an ACM certificate before this service carries real data.",
                resource=self,
            )
            http = lb.Listener(http_name, load_balancer_arn=alb.arn, port=_HTTP_PORT, protocol="HTTP",
                               default_actions=[forward], tags=self._tagged(http_name), opts=self._child())
            return http, [http]

        https_name = f"{self._name}-https"
        https = lb.Listener(
            https_name,
            load_balancer_arn=alb.arn,
            port=_HTTPS_PORT,
            protocol="HTTPS",
            certificate_arn=args.certificate_arn,
            ssl_policy=args.ssl_policy,
            default_actions=[forward],
            # Browsers and clients that saw HTTPS once never fall back to HTTP for a year.
            routing_http_response_strict_transport_security_header_value="max-age=31536000",
            routing_http_response_x_content_type_options_header_value="nosniff",
            tags=self._tagged(https_name),
            opts=self._child(),
        )
        redirect = lb.ListenerDefaultActionArgs(
            type="redirect",
            redirect=lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port=str(_HTTPS_PORT),
                                                          status_code="HTTP_301"),
        )
        http = lb.Listener(http_name, load_balancer_arn=alb.arn, port=_HTTP_PORT, protocol="HTTP",
                           default_actions=[redirect], tags=self._tagged(http_name), opts=self._child())
        return https, [https, http]

    def _production_rule(self, listener: lb.Listener, target_groups: list[lb.TargetGroup]) -> lb.ListenerRule:
        # ECS shifts traffic by re-weighting this rule's forward action; it must match every request
        # so the listener's default action is never used while a deploy is under way.
        name = f"{self._name}-production"
        return lb.ListenerRule(
            name,
            listener_arn=listener.arn,
            priority=1,
            conditions=[lb.ListenerRuleConditionArgs(
                path_pattern=lb.ListenerRuleConditionPathPatternArgs(values=["/*"]))],
            actions=[lb.ListenerRuleActionArgs(
                type="forward",
                forward=lb.ListenerRuleActionForwardArgs(target_groups=[
                    lb.ListenerRuleActionForwardTargetGroupArgs(arn=target_groups[0].arn, weight=100),
                    lb.ListenerRuleActionForwardTargetGroupArgs(arn=target_groups[1].arn, weight=0),
                ]),
            )],
            tags=self._tagged(name),
            # The weights belong to ECS after the first deploy; resetting them would send all traffic
            # to whichever group is idle.
            opts=self._child(ignore_changes=["actions"]),
        )

    def _alarms(self, args: FargateAlbServiceArgs, alb: lb.LoadBalancer,
                target_groups: list[lb.TargetGroup]) -> list[cloudwatch.MetricAlarm]:
        # Load-balancer-wide metrics: during a canary the new version serves from the alternate
        # target group, and its errors must count too.
        on_alb = {"LoadBalancer": alb.arn_suffix}
        error_rate = self._alarm(
            "5xx-rate",
            f"More than {args.error_rate_threshold_percent}% of requests answered 5xx (targets and ALB)",
            threshold=args.error_rate_threshold_percent,
            metric_queries=[
                _metric_query("target5xx", "HTTPCode_Target_5XX_Count", "Sum", on_alb),
                _metric_query("elb5xx", "HTTPCode_ELB_5XX_Count", "Sum", on_alb),
                _metric_query("requests", "RequestCount", "Sum", on_alb),
                cloudwatch.MetricAlarmMetricQueryArgs(
                    id="errorrate",
                    expression=(f"IF(requests >= {_MIN_REQUESTS_FOR_ERROR_RATE}, "
                                "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"),
                    label="5xx responses (% of requests)",
                    return_data=True,
                ),
            ],
        )
        latency = self._alarm(
            "p95-latency",
            f"p95 target response time above {args.p95_latency_threshold_seconds}s",
            threshold=args.p95_latency_threshold_seconds,
            namespace="AWS/ApplicationELB",
            metric_name="TargetResponseTime",
            extended_statistic="p95",
            dimensions=on_alb,
            period=_ALARM_PERIOD_SECONDS,
        )
        # UnHealthyHostCount exists only per target group; the worst group counts.
        unhealthy_queries = [
            _metric_query(f"unhealthy{index}", "UnHealthyHostCount", "Maximum",
                          {"LoadBalancer": alb.arn_suffix, "TargetGroup": group.arn_suffix})
            for index, group in enumerate(target_groups)
        ]
        unhealthy = self._alarm(
            "unhealthy-hosts",
            "At least one task fails the load balancer health check",
            threshold=0,
            metric_queries=[*unhealthy_queries, cloudwatch.MetricAlarmMetricQueryArgs(
                id="unhealthy", expression="MAX(METRICS())", label="Unhealthy tasks", return_data=True)],
        )
        return [error_rate, latency, unhealthy]

    def _alarm(self, suffix: str, description: str, threshold: float, **metric) -> cloudwatch.MetricAlarm:
        name = f"{self._name}-{suffix}"
        return cloudwatch.MetricAlarm(
            name,
            alarm_description=f"{self._name}: {description}. Rolls back a deploy in progress.",
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            # No traffic is not an outage of this service; the unhealthy-host alarm covers dead tasks.
            treat_missing_data="notBreaching",
            alarm_actions=self._args.alarm_actions,
            ok_actions=self._args.alarm_actions,
            tags=self._tagged(name),
            opts=self._child(),
            **metric,
        )

    def _service(self, args: FargateAlbServiceArgs, cluster_arn, task_definition: ecs.TaskDefinition, service_sg,
                 target_groups: list[lb.TargetGroup], production_rule: lb.ListenerRule | None,
                 alarms: list[cloudwatch.MetricAlarm], depends_on: list[pulumi.Resource]) -> ecs.Service:
        load_balancer = ecs.ServiceLoadBalancerArgs(target_group_arn=target_groups[0].arn,
                                                    container_name=args.container_name,
                                                    container_port=args.container_port)
        ignore = ["desiredCount"]  # autoscaling owns the task count after creation
        deployment = ecs.ServiceDeploymentConfigurationArgs(strategy=args.deployment_strategy)
        if production_rule is not None:
            infrastructure_role, attachment = self._infrastructure_role()
            depends_on = [*depends_on, production_rule, attachment]
            load_balancer.advanced_configuration = ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
                alternate_target_group_arn=target_groups[1].arn,
                production_listener_rule=production_rule.arn,
                role_arn=infrastructure_role.arn,
            )
            deployment = _shifting_configuration(args)
            # ECS swaps which group is primary on every deploy; sending our original choice back would
            # start a deploy into the group that is serving traffic.
            ignore.append("loadBalancers")
        name = f"{self._name}-service"
        return ecs.Service(
            name,
            cluster=cluster_arn,
            task_definition=task_definition.arn,
            desired_count=args.min_tasks,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration=ecs.ServiceNetworkConfigurationArgs(
                subnets=args.private_subnet_ids,
                security_groups=[service_sg.id],
                assign_public_ip=False,  # egress goes through NAT or endpoints; nothing reaches a task directly
            ),
            load_balancers=[load_balancer],
            health_check_grace_period_seconds=args.health_check_grace_period_seconds,
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker=ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_configuration=deployment,
            alarms=ecs.ServiceAlarmsArgs(alarm_names=[alarm.name for alarm in alarms], enable=True, rollback=True),
            availability_zone_rebalancing="ENABLED",
            enable_execute_command=False,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            tags=self._tagged(name),
            opts=self._child(depends_on=depends_on, ignore_changes=ignore),
        )

    def _infrastructure_role(self) -> tuple[iam.Role, iam.RolePolicyAttachment]:
        # The trust policy AWS documents for it: ECS assumes this role without source conditions.
        role = self._role("ecs-infrastructure", {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        # AWS's managed policy: its write statements are limited to ELB target groups, listeners and
        # rules, and ECS revises it as the deployment controller changes (v6 by 2026); a hand-copied
        # subset would break deploys silently the day ECS needs one more call.
        attachment = iam.RolePolicyAttachment(
            f"{self._name}-ecs-infrastructure",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers",
            opts=self._child(),
        )
        return role, attachment

    def _autoscaling(self, args: FargateAlbServiceArgs, service: ecs.Service, alb: lb.LoadBalancer,
                     target_groups: list[lb.TargetGroup]) -> None:
        name = f"{self._name}-scaling"
        target = appautoscaling.Target(
            name,
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", self.cluster_name, "/", service.name),
            min_capacity=args.min_tasks,
            max_capacity=args.max_tasks,
            tags=self._tagged(name),
            opts=self._child(),
        )
        self._tracking_policy("cpu", target, args.cpu_target_percent, {"predefined_metric_specification": {
            "predefined_metric_type": "ECSServiceAverageCPUUtilization"}})
        if len(target_groups) == 1:
            self._tracking_policy("requests", target, args.requests_per_target, {"predefined_metric_specification": {
                "predefined_metric_type": "ALBRequestCountPerTarget",
                "resource_label": pulumi.Output.concat(alb.arn_suffix, "/", target_groups[0].arn_suffix)}})
            return
        # With traffic shifting the serving group alternates between deploys; the predefined metric is
        # bound to one group and would read zero half the time. The busier group's count is the truth.
        queries: list[dict[str, Any]] = [{
            "id": f"group{index}",
            "return_data": False,
            "metric_stat": {"stat": "Sum", "metric": {
                "namespace": "AWS/ApplicationELB", "metric_name": "RequestCountPerTarget",
                "dimensions": [{"name": "TargetGroup", "value": group.arn_suffix}]}},
        } for index, group in enumerate(target_groups)]
        queries.append({"id": "busiest", "expression": "MAX([FILL(group0, 0), FILL(group1, 0)])",
                        "label": "Requests per task (busier target group)", "return_data": True})
        self._tracking_policy("requests", target, args.requests_per_target,
                              {"customized_metric_specification": {"metrics": queries}})

    def _tracking_policy(self, suffix: str, target: appautoscaling.Target, target_value: float,
                         metric: dict[str, Any]) -> None:
        appautoscaling.Policy(
            f"{self._name}-{suffix}",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                "target_value": target_value,
                # Out fast (a minute), in slowly (five): flapping costs more than a spare task.
                "scale_out_cooldown": 60,
                "scale_in_cooldown": 300,
                **metric,
            },
            opts=self._child(),
        )

def _metric_query(query_id: str, metric_name: str, stat: str, dimensions: dict) -> cloudwatch.MetricAlarmMetricQueryArgs:
    return cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=False,
        metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/ApplicationELB", metric_name=metric_name, stat=stat,
            period=_ALARM_PERIOD_SECONDS, dimensions=dimensions),
    )


def _shifting_configuration(args: FargateAlbServiceArgs) -> ecs.ServiceDeploymentConfigurationArgs:
    deployment = ecs.ServiceDeploymentConfigurationArgs(strategy=args.deployment_strategy,
                                                        bake_time_in_minutes=str(args.bake_time_minutes))
    if args.deployment_strategy == "CANARY":
        deployment.canary_configuration = ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
            canary_percent=args.canary_percent,
            canary_bake_time_in_minutes=str(args.canary_bake_time_minutes))
    elif args.deployment_strategy == "LINEAR":
        deployment.linear_configuration = ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
            step_percent=args.linear_step_percent,
            step_bake_time_in_minutes=str(args.linear_step_bake_time_minutes))
    return deployment


def _slug(cidr: str) -> str:
    return cidr.replace(".", "-").replace("/", "-")
