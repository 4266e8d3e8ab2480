"""Outputs of the FargateAlbService types: ECS, Application Load Balancer, Application Auto Scaling.
(Its CloudWatch alarms are answered by ``aws_data``.)

Shapes follow what AWS returns: ALB ARNs end in ``app/<name>/<16 hex>`` (the ``arn_suffix`` metrics
use), listener and rule ARNs extend the load balancer's, DNS names carry a numeric id and the
region, task definitions start at revision 1.
"""

from typing import Any

from genai_platform.mockcloud.cloud import MockContext, computes

# Canonical hosted zones of ALB DNS names (Route 53 alias targets), per region.
_ALB_HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}
_ELB_NAME_MAX = 32  # load balancer and target group names; Pulumi's auto-name shortens the prefix


def _elb_name(context: MockContext) -> str:
    if context.inputs.get("name"):
        return str(context.inputs["name"])
    return f"{context.name[: _ELB_NAME_MAX - 8]}-{context.hex_id(7)}"


def _elbv2_arn(context: MockContext, resource: str) -> str:
    return f"arn:aws:elasticloadbalancing:{context.region}:{context.account}:{resource}"


@computes("aws:lb/loadBalancer:LoadBalancer")
def _load_balancer(context: MockContext) -> dict[str, Any]:
    name = _elb_name(context)
    suffix = f"app/{name}/{context.hex_id(16)}"
    arn = _elbv2_arn(context, f"loadbalancer/{suffix}")
    prefix = "internal-" if context.inputs.get("internal") else ""
    number = int(context.hex_id(8), 16) % 10**10
    return {
        "id": arn,
        "arn": arn,
        "arnSuffix": suffix,
        "name": name,
        "dnsName": f"{prefix}{name}-{number}.{context.region}.elb.amazonaws.com",
        "zoneId": _ALB_HOSTED_ZONES.get(context.region, "Z35SXDOTRQ7X7K"),
        "vpcId": context.inputs.get("vpcId", "vpc-0mock"),
    }


@computes("aws:lb/targetGroup:TargetGroup")
def _target_group(context: MockContext) -> dict[str, Any]:
    name = _elb_name(context)
    suffix = f"targetgroup/{name}/{context.hex_id(16)}"
    arn = _elbv2_arn(context, suffix)
    return {"id": arn, "arn": arn, "arnSuffix": suffix, "name": name}


@computes("aws:lb/listener:Listener")
def _listener(context: MockContext) -> dict[str, Any]:
    lb_arn = str(context.inputs.get("loadBalancerArn", _elbv2_arn(context, "loadbalancer/app/mock/0")))
    arn = f"{lb_arn.replace(':loadbalancer/', ':listener/', 1)}/{context.hex_id(16)}"
    return {"id": arn, "arn": arn}


@computes("aws:lb/listenerRule:ListenerRule")
def _listener_rule(context: MockContext) -> dict[str, Any]:
    listener_arn = str(context.inputs.get("listenerArn", _elbv2_arn(context, "listener/app/mock/0/0")))
    arn = f"{listener_arn.replace(':listener/', ':listener-rule/', 1)}/{context.hex_id(16)}"
    return {"id": arn, "arn": arn}


@computes("aws:ecs/cluster:Cluster")
def _cluster(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    arn = f"arn:aws:ecs:{context.region}:{context.account}:cluster/{name}"
    return {"id": arn, "arn": arn, "name": name}


@computes("aws:ecs/taskDefinition:TaskDefinition")
def _task_definition(context: MockContext) -> dict[str, Any]:
    family = str(context.inputs.get("family") or context.physical_name)
    base = f"arn:aws:ecs:{context.region}:{context.account}:task-definition/{family}"
    return {"id": family, "family": family, "revision": 1, "arn": f"{base}:1", "arnWithoutRevision": base}


@computes("aws:ecs/service:Service")
def _service(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    cluster = str(context.inputs.get("cluster") or "default").rsplit("/", 1)[-1]
    arn = f"arn:aws:ecs:{context.region}:{context.account}:service/{cluster}/{name}"
    return {"id": arn, "arn": arn, "name": name}


@computes("aws:appautoscaling/target:Target")
def _scalable_target(context: MockContext) -> dict[str, Any]:
    resource_id = str(context.inputs.get("resourceId", context.name))
    return {"id": resource_id,
            "arn": f"arn:aws:application-autoscaling:{context.region}:{context.account}:"
                   f"scalable-target/0e{context.hex_id(30)}"}


@computes("aws:appautoscaling/policy:Policy")
def _scaling_policy(context: MockContext) -> dict[str, Any]:
    name = context.physical_name
    h = context.hex_id(32)
    policy_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    resource_id = context.inputs.get("resourceId", "")
    arn = (f"arn:aws:autoscaling:{context.region}:{context.account}:scalingPolicy:{policy_id}:"
           f"resource/{context.inputs.get('serviceNamespace', 'ecs')}/{resource_id}:policyName/{name}")
    return {"id": name, "name": name, "arn": arn, "alarmArns": []}


@computes("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
          "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
def _security_group_rule(context: MockContext) -> dict[str, Any]:
    rule_id = f"sgr-0{context.hex_id(16)}"
    return {"id": rule_id, "securityGroupRuleId": rule_id,
            "arn": f"arn:aws:ec2:{context.region}:{context.account}:security-group-rule/{rule_id}"}
