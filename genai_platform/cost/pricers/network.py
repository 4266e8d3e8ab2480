"""Network: public IPv4 addresses, NAT gateways, VPC endpoints, load balancers (also those Kubernetes
creates on EKS), DNS zones and the WAF in front of them."""

from genai_platform.cost.prices import PRICES_FILE, money, rate
from genai_platform.cost.pricers.context import PricingContext
from genai_platform.cost.pricers.quantities import count_text
from genai_platform.cost.pricers.registry import NotPriced, Priced, flat_fee, pricer_for
from genai_platform.mockcloud import RecordedResource


def public_ips(context: PricingContext, count: float, what: str) -> tuple[float, str]:
    hourly = context.prices["vpc"]["public_ipv4_hourly"]
    amount = count * context.monthly(hourly)
    return amount, f"{what} {count_text(count)} x {rate(hourly)}/h x {context.hours:g} h = {money(amount)}"


@pricer_for("aws:ec2/natGateway:NatGateway")
def _nat_gateway(resource: RecordedResource, context: PricingContext) -> Priced:
    prices = context.prices["vpc"]
    amount = context.monthly(prices["nat_gateway_hourly"])
    return Priced([(amount, f"NAT gateway {rate(prices['nat_gateway_hourly'])}/h x {context.hours:g} h = {money(amount)}")],
                  usage=f"NAT data processing {rate(prices['nat_gateway_gb'])}/GB (assumed light egress; "
                        "S3 goes through the free gateway endpoint)")


@pricer_for("aws:ec2/eip:Eip")
def _elastic_ip(resource: RecordedResource, context: PricingContext) -> Priced:
    return Priced([public_ips(context, 1, "public IPv4 (Elastic IP)")])


@pricer_for("aws:ec2/vpcEndpoint:VpcEndpoint")
def _vpc_endpoint(resource: RecordedResource, context: PricingContext) -> Priced | None:
    kind = resource.inputs.get("vpcEndpointType") or "Gateway"
    if kind == "Gateway":
        return None  # S3 and DynamoDB gateway endpoints are free
    subnets = resource.inputs.get("subnetIds") or []
    if not subnets:
        raise NotPriced(f"{kind} endpoint without subnetIds: the number of zones it is billed for is unknown")
    prices = context.prices["vpc"]
    amount = len(subnets) * context.monthly(prices["interface_endpoint_az_hourly"])
    # com.amazonaws.<region>.<service>, where the service may itself have dots (ecr.api)
    service = ".".join(str(resource.inputs.get("serviceName", "")).split(".")[3:]) or kind
    return Priced([(amount, f"{kind} endpoint {service}: {len(subnets)} AZ x {rate(prices['interface_endpoint_az_hourly'])}/h "
                            f"x {context.hours:g} h = {money(amount)}")],
                  usage=f"endpoint data processing {rate(prices['interface_endpoint_gb'])}/GB")


def _load_balancer_parts(context: PricingContext, kind: str, public_ip_count: float | None,
                         zones_note: str) -> list[tuple[float, str]]:
    prices = context.prices["elb"]
    if kind == "classic":
        amount = context.monthly(prices["classic_hourly"])
        parts = [(amount, f"Classic LB {rate(prices['classic_hourly'])}/h x {context.hours:g} h = {money(amount)}")]
    else:
        table = prices[kind]
        hourly = context.monthly(table["hourly"])
        units = table["assumed_capacity_units"] * context.monthly(table["capacity_unit_hourly"])
        parts = [(hourly, f"{kind} LB {rate(table['hourly'])}/h x {context.hours:g} h = {money(hourly)}"),
                 (units, f"{table['assumed_capacity_units']:g} capacity unit assumed x "
                         f"{rate(table['capacity_unit_hourly'])}/h x {context.hours:g} h = {money(units)}")]
    if public_ip_count:
        parts.append(public_ips(context, public_ip_count, f"internet-facing public IPv4 ({zones_note})"))
    return parts


@pricer_for("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
def _load_balancer(resource: RecordedResource, context: PricingContext) -> Priced:
    inputs = resource.inputs
    kind = inputs.get("loadBalancerType") or "application"
    if kind not in ("application", "network", "gateway"):
        raise NotPriced(f"loadBalancerType {kind!r} is not in the price table ({PRICES_FILE})")
    zones = len(inputs.get("subnets") or inputs.get("subnetMappings") or [])
    note = f"one per AZ, {zones} subnets"
    if not zones:
        zones, note = (2 if kind == "application" else 1), "subnets unknown: the minimum AZ count assumed"
    public = kind != "gateway" and inputs.get("internal") is not True
    return Priced(_load_balancer_parts(context, kind, zones if public else None, note),
                  usage="load balancer capacity units above the assumed one")


def _k8s_annotations(resource: RecordedResource) -> dict[str, str]:
    return ((resource.inputs.get("metadata") or {}).get("annotations")) or {}


@pricer_for("kubernetes:networking.k8s.io/v1:Ingress")
def _alb_ingress(resource: RecordedResource, context: PricingContext) -> Priced | None:
    # The AWS Load Balancer Controller creates the ALB at deploy time, outside the plan; ingresses
    # with the same group.name share one ALB, priced once.
    annotations = _k8s_annotations(resource)
    class_name = (resource.inputs.get("spec") or {}).get("ingressClassName") or annotations.get(
        "kubernetes.io/ingress.class")
    controllers = {(c.inputs.get("metadata") or {}).get("name"): (c.inputs.get("spec") or {}).get("controller")
                   for c in context.plan.of_type("kubernetes:networking.k8s.io/v1:IngressClass")}
    if class_name != "alb" and controllers.get(class_name) != "ingress.k8s.aws/alb":
        return None
    group = annotations.get("alb.ingress.kubernetes.io/group.name")
    if group:
        owner = context.shared_albs.setdefault(group, resource.name)
        if owner != resource.name:
            return Priced([(0.0, f"shares the ALB of ingress group {group!r}, priced on ingress {owner!r}")])
    public = annotations.get("alb.ingress.kubernetes.io/scheme", "internal") == "internet-facing"
    parts = _load_balancer_parts(context, "application", 2 if public else None, "2 AZs assumed")
    parts[0] = (parts[0][0], f"ALB created by the AWS Load Balancer Controller: {parts[0][1]}")
    return Priced(parts, usage="load balancer capacity units above the assumed one")


@pricer_for("kubernetes:core/v1:Service")
def _k8s_load_balancer_service(resource: RecordedResource, context: PricingContext) -> Priced | None:
    spec = resource.inputs.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    annotations = _k8s_annotations(resource)
    lb_type = annotations.get("service.beta.kubernetes.io/aws-load-balancer-type", "")
    if spec.get("loadBalancerClass") == "service.k8s.aws/nlb" or lb_type in ("external", "nlb", "nlb-ip"):
        kind = "network"
        public = annotations.get("service.beta.kubernetes.io/aws-load-balancer-scheme") == "internet-facing"
    else:
        kind = "classic"
        public = "service.beta.kubernetes.io/aws-load-balancer-internal" not in annotations
    parts = _load_balancer_parts(context, kind, 2 if public else None, "2 AZs assumed")
    parts[0] = (parts[0][0], f"created by the cluster for a LoadBalancer Service: {parts[0][1]}")
    return Priced(parts)


# --------------------------------------------------------------------------------------------- DNS and edge

flat_fee("aws:route53/zone:Zone", "route53", "hosted_zone_month", "Route 53 hosted zone")


@pricer_for("aws:wafv2/webAcl:WebAcl")
def _web_acl(resource: RecordedResource, context: PricingContext) -> Priced:
    prices = context.prices["waf"]
    rules = len(resource.inputs.get("rules") or [])
    amount = prices["web_acl_month"] + rules * prices["rule_month"]
    return Priced([(amount, f"WAF web ACL {rate(prices['web_acl_month'])}/month + {rules} rule(s) x "
                            f"{rate(prices['rule_month'])}/month = {money(amount)}")],
                  usage=f"WAF requests {rate(prices['requests_million'])} per million")
