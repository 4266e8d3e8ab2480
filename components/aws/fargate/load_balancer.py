"""Load balancer of a :class:`~genai_platform.components.aws.fargate.service.FargateAlbService` (or of a
:class:`~genai_platform.components.aws.fargate.shared_alb.SharedAlb` several services share): the ALB, its target
groups, its listeners and the listener rules - the production rule of traffic-shifting deploys and,
on a shared ALB, the rule forwarding a service's paths."""


import pulumi
from pulumi_aws import lb

from genai_platform.components.aws.fargate.args import ALL_PATHS, FargateAlbServiceArgs, LoadBalancerArgs
from genai_platform.components.aws.fargate.children import Children


HTTPS_PORT, HTTP_PORT = 443, 80


def target_group(children: Children, suffix: str, args: FargateAlbServiceArgs) -> lb.TargetGroup:
    """A target group of the service's tasks, health-checked on ``health_check_path``."""
    name = children.name(suffix)
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
        tags=children.tagged(name),
        opts=children.opts(),
    )


def load_balancer(children: Children, args: LoadBalancerArgs, security_group_id: pulumi.Input[str]) -> lb.LoadBalancer:
    """The application load balancer, internal unless ``args.internal`` is false."""
    name = children.name("alb")
    access_logs = None
    if args.access_logs_bucket is not None:
        access_logs = lb.LoadBalancerAccessLogsArgs(bucket=args.access_logs_bucket, enabled=True,
                                                    prefix=children.prefix)
    return lb.LoadBalancer(
        name,
        load_balancer_type="application",
        internal=args.internal,
        subnets=args.private_subnet_ids if args.internal else args.public_subnet_ids,
        security_groups=[security_group_id],
        # Requests with malformed headers are a request-smuggling vector; the app never needs them.
        drop_invalid_header_fields=True,
        idle_timeout=args.idle_timeout_seconds,
        enable_deletion_protection=args.deletion_protection,
        access_logs=access_logs,
        tags=children.tagged(name),
        opts=children.opts(),
    )


def listeners(children: Children, args: LoadBalancerArgs, alb: lb.LoadBalancer,
              forward: lb.ListenerDefaultActionArgs) -> tuple[lb.Listener, list[lb.Listener]]:
    """``(listener serving the app, all listeners)``: HTTPS plus an HTTP redirect with a certificate,
    else plain HTTP (with a warning). ``forward`` is the serving listener's default action."""
    http_name = children.name("http")
    if args.certificate_arn is None:
        pulumi.log.warn(
            f"{children.prefix}: no certificate_arn, so the load balancer serves plain HTTP on port 80; "
            "pass an ACM certificate before this service carries real data.",
            resource=children.parent,
        )
        http = lb.Listener(http_name, load_balancer_arn=alb.arn, port=HTTP_PORT, protocol="HTTP",
                           default_actions=[forward], tags=children.tagged(http_name), opts=children.opts())
        return http, [http]

    https_name = children.name("https")
    https = lb.Listener(
        https_name,
        load_balancer_arn=alb.arn,
        port=HTTPS_PORT,
        protocol="HTTPS",
        certificate_arn=args.certificate_arn,
        ssl_policy=args.ssl_policy,
        default_actions=[forward],
        # Browsers and clients that saw HTTPS once never fall back to HTTP for a year.
        routing_http_response_strict_transport_security_header_value="max-age=31536000",
        routing_http_response_x_content_type_options_header_value="nosniff",
        tags=children.tagged(https_name),
        opts=children.opts(),
    )
    redirect = lb.ListenerDefaultActionArgs(
        type="redirect",
        redirect=lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port=str(HTTPS_PORT),
                                                      status_code="HTTP_301"),
    )
    http = lb.Listener(http_name, load_balancer_arn=alb.arn, port=HTTP_PORT, protocol="HTTP",
                       default_actions=[redirect], tags=children.tagged(http_name), opts=children.opts())
    return https, [https, http]


def forward_to(target_group: lb.TargetGroup) -> lb.ListenerDefaultActionArgs:
    """A listener's default action sending everything to ``target_group``."""
    return lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)


def not_found() -> lb.ListenerDefaultActionArgs:
    """A shared listener's default action: a request no service's rule claims gets a plain 404."""
    return lb.ListenerDefaultActionArgs(type="fixed-response", fixed_response=lb.ListenerDefaultActionFixedResponseArgs(
        content_type="text/plain", message_body="Not found", status_code="404"))


def forward_rule(children: Children, listener_arn: pulumi.Input[str], target_group: lb.TargetGroup,
                 path_patterns: list[str], priority: int) -> lb.ListenerRule:
    """On a shared ALB: the rule forwarding the service's ``path_patterns`` to its target group."""
    return _listener_rule(children, "route", listener_arn, path_patterns, priority,
                          lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn))


def production_rule(children: Children, listener_arn: pulumi.Input[str], target_groups: list[lb.TargetGroup],
                    path_patterns: list[str] = ALL_PATHS, priority: int = 1) -> lb.ListenerRule:
    """The listener rule ECS re-weights between the two target groups during a traffic-shifting deploy."""
    # ECS shifts traffic by re-weighting this rule's forward action; it must match every request of
    # the service (on its own ALB: every request) so no other action serves it while a deploy is under way.
    weighted = lb.ListenerRuleActionArgs(
        type="forward",
        forward=lb.ListenerRuleActionForwardArgs(target_groups=[
            lb.ListenerRuleActionForwardTargetGroupArgs(arn=target_groups[0].arn, weight=100),
            lb.ListenerRuleActionForwardTargetGroupArgs(arn=target_groups[1].arn, weight=0),
        ]),
    )
    # The weights belong to ECS after the first deploy; resetting them would send all traffic
    # to whichever group is idle.
    return _listener_rule(children, "production", listener_arn, path_patterns, priority, weighted,
                          ignore_changes=["actions"])


def _listener_rule(children: Children, suffix: str, listener_arn: pulumi.Input[str], path_patterns: list[str],
                   priority: int, action: lb.ListenerRuleActionArgs, **options) -> lb.ListenerRule:
    name = children.name(suffix)
    return lb.ListenerRule(
        name,
        listener_arn=listener_arn,
        priority=priority,
        conditions=[lb.ListenerRuleConditionArgs(
            path_pattern=lb.ListenerRuleConditionPathPatternArgs(values=path_patterns))],
        actions=[action],
        tags=children.tagged(name),
        opts=children.opts(**options),
    )
