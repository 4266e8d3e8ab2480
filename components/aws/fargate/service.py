"""FargateAlbService: an ECS Fargate service behind an Application Load Balancer, with safe deploys.

Tasks run in private subnets with a read-only root file system as a non-root user; only the ALB
reaches them. Deploys roll back on their own: the ECS circuit breaker catches tasks that never get
healthy, and CloudWatch alarms (5xx rate, p95 latency, unhealthy hosts) catch a release that starts
but misbehaves under real traffic. ``deployment_strategy`` adds ECS's native canary, linear or
blue/green traffic shifting on top.
"""


import pulumi
from pulumi_aws import ecs

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.fargate.args import FargateAlbServiceArgs, TLS13_POLICY, TRAFFIC_SHIFTING_STRATEGIES
from genai_platform.components.aws.fargate.alarms import service_alarms
from genai_platform.components.aws.fargate.checks import validate
from genai_platform.components.aws.fargate.children import Children
from genai_platform.components.aws.fargate.deployment import ecs_service
from genai_platform.components.aws.fargate.load_balancer import (forward_rule, forward_to, listeners, load_balancer, production_rule, target_group)
from genai_platform.components.aws.fargate.roles import task_roles
from genai_platform.components.aws.fargate.scaling import autoscaling
from genai_platform.components.aws.fargate.security_groups import security_groups
from genai_platform.components.aws.fargate.task import log_group, task_definition

__all__ = ["FargateAlbService", FargateAlbServiceArgs, TLS13_POLICY, TRAFFIC_SHIFTING_STRATEGIES]


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
        here = account_of(self)
        region, account_id = here.region, here.account_id
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
