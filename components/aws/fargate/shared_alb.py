"""SharedAlb: one Application Load Balancer several :class:`~genai_platform.components.aws.fargate.service.FargateAlbService`
share, each claiming its paths with a listener rule (an ALB is ~$22/month whatever it carries)."""


import pulumi

from genai_platform.components.aws.fargate.args import SharedAlbArgs
from genai_platform.components.aws.fargate.checks import validate_load_balancer
from genai_platform.components.aws.fargate.children import Children
from genai_platform.components.aws.fargate.load_balancer import listeners, load_balancer, not_found
from genai_platform.components.aws.fargate.security_groups import load_balancer_group


class SharedAlb(pulumi.ComponentResource):
    """An ALB whose listener answers 404 to any request no service claims.

    Pass it as ``FargateAlbServiceArgs.load_balancer``: each service adds its target groups, a listener
    rule for its ``path_patterns`` (its canary re-weights that rule) and a pair of security group rules
    letting the load balancer reach its tasks only. Services' alarms then read their own target groups.
    """

    arn: pulumi.Output[str]
    """ARN of the load balancer."""
    arn_suffix: pulumi.Output[str]
    """``app/<name>/<id>``: the ``LoadBalancer`` dimension of ALB metrics."""
    dns_name: pulumi.Output[str]
    """DNS name of the ALB (point a Route 53 alias or CNAME at it)."""
    zone_id: pulumi.Output[str]
    """Hosted zone of the ALB's DNS name, for Route 53 alias records."""
    url: pulumi.Output[str]
    """``https://<alb dns>`` with a certificate, else ``http://<alb dns>``."""
    listener_arn: pulumi.Output[str]
    """The listener services add their rules to (HTTPS with a certificate, else HTTP)."""
    security_group_id: pulumi.Output[str]
    """Security group of the load balancer."""
    https: bool
    """Whether the serving listener is HTTPS."""

    def __init__(self, name: str, args: SharedAlbArgs, opts: pulumi.ResourceOptions | None = None):
        validate_load_balancer(args)
        super().__init__("genai:aws:SharedAlb", name, None, opts)
        self._name, self._priorities = name, {}
        children = Children(parent=self, prefix=name, tags=args.tags)
        group = load_balancer_group(children, args, "Shared load balancer: clients in, each service's tasks out")
        alb = load_balancer(children, args, group.id)
        serving, all_listeners = listeners(children, args, alb, not_found())

        self.https = args.certificate_arn is not None
        self.arn, self.arn_suffix = alb.arn, alb.arn_suffix
        self.dns_name, self.zone_id = alb.dns_name, alb.zone_id
        scheme = "https" if self.https else "http"
        self.url = alb.dns_name.apply(lambda dns: f"{scheme}://{dns}")
        # Services wait for every listener (the HTTP redirect too) through this output.
        self.listener_arn = pulumi.Output.all(serving.arn, *[listener.arn for listener in all_listeners]).apply(
            lambda arns: arns[0])
        self.security_group_id = group.id
        self.register_outputs({"arn": self.arn, "dns_name": self.dns_name, "url": self.url,
                               "listener_arn": self.listener_arn, "security_group_id": self.security_group_id})

    def claim_priority(self, priority: int, service: str) -> None:
        """Reserve a listener rule priority for ``service``; ELB refuses two rules with one priority, which a
        preview would only find out at deploy time."""
        owner = self._priorities.setdefault(priority, service)
        if owner != service:
            raise ValueError(f"listener_rule_priority={priority} is already used by {owner!r} on the SharedAlb "
                             f"{self._name!r}: choose another.")
