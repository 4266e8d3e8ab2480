"""Security groups of a :class:`~genai_platform.components.aws.fargate.service.FargateAlbService`: clients reach
only the load balancer, the load balancer reaches only the tasks, and the tasks reach HTTPS anywhere
plus the VPC ports the caller names. On a :class:`~genai_platform.components.aws.fargate.shared_alb.SharedAlb` the
load balancer's group is the shared one, and each service adds its own pair of rules to it."""


import pulumi
from pulumi_aws import ec2, vpc

from genai_platform.components.aws.fargate.args import FargateAlbServiceArgs, LoadBalancerArgs
from genai_platform.components.aws.fargate.children import Children
from genai_platform.components.aws.fargate.load_balancer import HTTP_PORT, HTTPS_PORT



def security_groups(children: Children, args: FargateAlbServiceArgs,
                    shared_alb_sg_id: pulumi.Input[str] | None = None) -> tuple[pulumi.Output[str], ec2.SecurityGroup]:
    """The load balancer's security group id and the tasks' security group, with their rules."""
    # Rules are separate resources: the two groups reference each other, and inline rules would
    # make that a dependency cycle.
    if shared_alb_sg_id is None:
        alb_sg = load_balancer_group(children, args, "Load balancer of the service: clients in, tasks out")
        alb_sg_id = alb_sg.id
    else:
        alb_sg_id = pulumi.Output.from_input(shared_alb_sg_id)
    service_sg = _security_group(children, "service", args, "Tasks of the service: load balancer in, HTTPS out")

    # The ALB may only talk to the tasks, on the container port (health checks use it too).
    _rule(children, vpc.SecurityGroupEgressRule, "alb-to-service", alb_sg_id, args.container_port,
          "To the service's tasks", referenced_security_group_id=service_sg.id)
    _rule(children, vpc.SecurityGroupIngressRule, "service-from-alb", service_sg.id, args.container_port,
          "From the load balancer only", referenced_security_group_id=alb_sg_id)
    _rule(children, vpc.SecurityGroupEgressRule, "service-https-out", service_sg.id, HTTPS_PORT,
          "HTTPS to AWS APIs (ECR, Secrets Manager, Logs, S3)", cidr_ipv4="0.0.0.0/0")
    for port in args.egress_vpc_ports:
        _rule(children, vpc.SecurityGroupEgressRule, f"service-vpc-{port}", service_sg.id, port,
              f"TCP {port} inside the VPC", cidr_ipv4=args.vpc_cidr_block)
    return alb_sg_id, service_sg


def load_balancer_group(children: Children, args: LoadBalancerArgs, description: str) -> ec2.SecurityGroup:
    """The load balancer's security group, admitting ``allowed_cidrs`` (default the VPC) on its listener ports."""
    alb_sg = _security_group(children, "alb", args, description)
    listener_ports = [HTTPS_PORT, HTTP_PORT] if args.certificate_arn is not None else [HTTP_PORT]
    for cidr in args.allowed_cidrs if args.allowed_cidrs is not None else [args.vpc_cidr_block]:
        for port in listener_ports:
            _rule(children, vpc.SecurityGroupIngressRule, f"alb-in-{port}-{_slug(cidr)}", alb_sg.id, port,
                  f"{'HTTPS' if port == HTTPS_PORT else 'HTTP'} from {cidr}", cidr_ipv4=cidr)
    return alb_sg


def _security_group(children: Children, suffix: str, args: LoadBalancerArgs, description: str) -> ec2.SecurityGroup:
    name = children.name(f"{suffix}-sg")
    return ec2.SecurityGroup(name, vpc_id=args.vpc_id, description=description, tags=children.tagged(name),
                             opts=children.opts())


def _rule(children: Children, kind, suffix: str, group_id: pulumi.Input[str], port: int, description: str,
          **peer) -> None:
    name = children.name(suffix)
    kind(name, security_group_id=group_id, ip_protocol="tcp", from_port=port, to_port=port,
         description=description, tags=children.tagged(name), opts=children.opts(), **peer)


def _slug(cidr: str) -> str:
    return cidr.replace(".", "-").replace("/", "-")
