"""Two FargateAlbServices behind one SharedAlb: one load balancer, a rule per service, the canary's
production rule on the shared listener, alarms per target group and security groups pairing the
shared load balancer with each service's tasks."""

import re
from collections import Counter

import pulumi
import pytest

from genai_platform.components.aws import FargateAlbService, FargateAlbServiceArgs, SharedAlb, SharedAlbArgs
from genai_platform.mockcloud import run_under_mocks

ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SERVICE = "aws:ecs/service:Service"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-111122223333"

NETWORK = dict(vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.10.0.0/16",
               private_subnet_ids=["subnet-private-a", "subnet-private-b"])


def plan_pair(certificate_arn=None, **shared):
    def program():
        alb = SharedAlb("shop-lb", SharedAlbArgs(**NETWORK, certificate_arn=certificate_arn, **shared))
        mlflow = FargateAlbService("mlflow", FargateAlbServiceArgs(
            image="mlflow:2", **NETWORK, load_balancer=alb, container_port=5000, health_check_path="/mlflow/health",
            path_patterns=["/mlflow", "/mlflow/*"], listener_rule_priority=10))
        api = FargateAlbService("api", FargateAlbServiceArgs(
            image="api:1", **NETWORK, load_balancer=alb, deployment_strategy="CANARY",
            cluster_arn=mlflow.cluster_arn))
        pulumi.export("mlflowUrl", mlflow.url)
        pulumi.export("apiUrl", api.url)

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def test_one_load_balancer_and_listener_for_both_services():
    plan = plan_pair()
    assert len(plan.of_type(ALB)) == 1 and len(plan.of_type(LISTENER)) == 1
    alb = plan.one(ALB)
    assert alb.name == "shop-lb-alb" and alb.inputs["internal"] is True
    assert alb.inputs["dropInvalidHeaderFields"] is True
    listener = plan.one(LISTENER).inputs
    assert listener["defaultActions"] == [{"type": "fixed-response", "fixedResponse": {
        "contentType": "text/plain", "messageBody": "Not found", "statusCode": "404"}}]
    assert Counter(r.name.split("-")[0] for r in plan.of_type(TARGET_GROUP)) == {"mlflow": 1, "api": 2}


def test_each_service_claims_its_paths_and_the_canary_reweights_only_its_rule():
    plan = plan_pair()
    listener_arn = plan.one(LISTENER).outputs["arn"]
    route = plan.named("mlflow-route", RULE).inputs
    assert route["listenerArn"] == listener_arn and route["priority"] == 10
    assert route["conditions"] == [{"pathPattern": {"values": ["/mlflow", "/mlflow/*"]}}]
    assert route["actions"] == [{"type": "forward", "targetGroupArn": plan.named("mlflow-tg", TARGET_GROUP).outputs["arn"]}]
    production = plan.named("api-production", RULE)
    assert production.inputs["listenerArn"] == listener_arn and production.inputs["priority"] == 100
    assert production.inputs["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    weights = [(g["arn"], g["weight"]) for g in production.inputs["actions"][0]["forward"]["targetGroups"]]
    assert weights == [(plan.named("api-tg", TARGET_GROUP).outputs["arn"], 100),
                       (plan.named("api-tg-alt", TARGET_GROUP).outputs["arn"], 0)]
    api = plan.named("api-service", SERVICE).inputs
    assert api["deploymentConfiguration"]["strategy"] == "CANARY"
    assert api["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"] == production.outputs["arn"]
    # ECS refuses a target group no listener uses: each service waits for its rule.
    assert plan.named("mlflow-route", RULE).urn in plan.named("mlflow-service", SERVICE).dependencies
    assert production.urn in plan.named("api-service", SERVICE).dependencies


def test_urls_carry_the_path_prefix():
    outputs = plan_pair().outputs
    assert re.fullmatch(r"http://internal-shop-lb-alb-[0-9a-f]+-\d+\.us-east-1\.elb\.amazonaws\.com/mlflow",
                        outputs["mlflowUrl"])
    assert outputs["apiUrl"] == outputs["mlflowUrl"].removesuffix("/mlflow")
    assert plan_pair(certificate_arn=CERTIFICATE).outputs["mlflowUrl"].startswith("https://")


def test_the_shared_group_admits_clients_and_reaches_each_service_only_on_its_port():
    plan = plan_pair()
    assert sorted(g.name for g in plan.of_type(SG)) == ["api-service-sg", "mlflow-service-sg", "shop-lb-alb-sg"]
    shared = plan.named("shop-lb-alb-sg", SG).id
    clients = [r.inputs for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == shared]
    assert [(r["fromPort"], r["cidrIpv4"]) for r in clients] == [(80, "10.10.0.0/16")]
    out = {r.name: r.inputs for r in plan.of_type(EGRESS) if r.inputs["securityGroupId"] == shared}
    assert {name: (r["fromPort"], r["referencedSecurityGroupId"]) for name, r in out.items()} == {
        "mlflow-alb-to-service": (5000, plan.named("mlflow-service-sg", SG).id),
        "api-alb-to-service": (8080, plan.named("api-service-sg", SG).id),
    }
    for service in ("mlflow", "api"):
        admitted = plan.named(f"{service}-service-from-alb", INGRESS).inputs
        assert admitted["referencedSecurityGroupId"] == shared
        assert admitted["securityGroupId"] == plan.named(f"{service}-service-sg", SG).id


def test_alarms_read_the_services_own_target_groups():
    plan = plan_pair()
    alb_suffix = plan.one(ALB).outputs["arnSuffix"]
    errors = plan.named("mlflow-5xx-rate", ALARM).inputs["metricQueries"]
    dimensions = [q["metric"]["dimensions"] for q in errors if "metric" in q]
    tg_suffix = plan.named("mlflow-tg", TARGET_GROUP).outputs["arnSuffix"]
    assert dimensions == [{"LoadBalancer": alb_suffix, "TargetGroup": tg_suffix}] * 2
    assert [q["metric"]["metricName"] for q in errors if "metric" in q] == ["HTTPCode_Target_5XX_Count", "RequestCount"]
    canary = plan.named("api-5xx-rate", ALARM).inputs["metricQueries"]
    groups = {q["metric"]["dimensions"]["TargetGroup"] for q in canary if "metric" in q}
    assert groups == {plan.named(n, TARGET_GROUP).outputs["arnSuffix"] for n in ("api-tg", "api-tg-alt")}
    expression = next(q["expression"] for q in canary if q["id"] == "errorrate")
    assert expression == ("IF((FILL(requests0, 0) + FILL(requests1, 0)) >= 10, 100 * (FILL(target5xx0, 0) + "
                          "FILL(target5xx1, 0)) / (FILL(requests0, 0) + FILL(requests1, 0)), 0)")
    latency = plan.named("api-p95-latency", ALARM).inputs["metricQueries"]
    assert [q["metric"]["stat"] for q in latency if "metric" in q] == ["p95", "p95"]
    assert "metricName" not in plan.named("api-p95-latency", ALARM).inputs


def test_https_with_a_redirect_on_the_shared_load_balancer():
    plan = plan_pair(certificate_arn=CERTIFICATE, access_logs_bucket="lb-logs", deletion_protection=True)
    listeners = {r.inputs["port"]: r.inputs for r in plan.of_type(LISTENER)}
    assert listeners[443]["protocol"] == "HTTPS" and listeners[443]["certificateArn"] == CERTIFICATE
    assert listeners[443]["defaultActions"][0]["type"] == "fixed-response"
    assert listeners[80]["defaultActions"][0]["type"] == "redirect"
    assert {r.inputs["listenerArn"] for r in plan.of_type(RULE)} == {plan.named("shop-lb-https", LISTENER).outputs["arn"]}
    alb = plan.one(ALB).inputs
    assert alb["enableDeletionProtection"] is True and alb["accessLogs"]["bucket"] == "lb-logs"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"certificate_arn": CERTIFICATE},
     "certificate_arn is set, but the service joins load_balancer: set it on the SharedAlb."),
    ({"allowed_cidrs": ["10.0.0.0/8"]},
     "allowed_cidrs is set, but the service joins load_balancer: set it on the SharedAlb."),
    ({"internal": False}, "internal=False is set, but the service joins load_balancer: set it on the SharedAlb."),
    ({"path_patterns": []}, "path_patterns=[] must list 1 to 5 patterns (an ALB rule's limit)."),
    ({"path_patterns": ["mlflow/*"]}, "path_patterns contains 'mlflow/*': patterns start with '/', e.g. '/mlflow/*'."),
    ({"listener_rule_priority": 0}, "listener_rule_priority=0 is out of range: use 1 to 50000."),
])
def test_a_service_on_a_shared_load_balancer_refuses_its_own_load_balancer_settings(overrides, message):
    def program():
        alb = SharedAlb("shop-lb", SharedAlbArgs(**NETWORK))
        FargateAlbService("api", FargateAlbServiceArgs(image="api:1", **NETWORK, load_balancer=alb, **overrides))

    with pytest.raises(ValueError, match=re.escape(message)):
        run_under_mocks(program)


def test_path_patterns_need_a_shared_load_balancer():
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: FargateAlbService("api", FargateAlbServiceArgs(
            image="api:1", **NETWORK, path_patterns=["/api/*"])))
    assert str(error.value) == ("path_patterns=['/api/*'] needs load_balancer: a service's own load balancer sends "
                                "it every path; pass a SharedAlb to serve only some.")


def test_the_shared_load_balancer_validates_like_an_own_one():
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: SharedAlb("lb", SharedAlbArgs(**{**NETWORK, "private_subnet_ids": ["subnet-a"]})))
    assert str(error.value) == ("private_subnet_ids has 1 subnet(s): pass at least two, in different zones, so the "
                                "load balancer survives a zone outage.")
    with pytest.raises(ValueError, match=re.escape("allowed_cidrs contains '0.0.0.0/0' on an internal load balancer")):
        run_under_mocks(lambda: SharedAlb("lb", SharedAlbArgs(**NETWORK, allowed_cidrs=["0.0.0.0/0"])))


def test_two_services_cannot_claim_one_rule_priority():
    def program():
        alb = SharedAlb("shop-lb", SharedAlbArgs(**NETWORK))
        FargateAlbService("api", FargateAlbServiceArgs(image="api:1", **NETWORK, load_balancer=alb))
        FargateAlbService("mlflow", FargateAlbServiceArgs(image="mlflow:2", **NETWORK, load_balancer=alb,
                                                          path_patterns=["/mlflow/*"]))

    with pytest.raises(ValueError) as error:
        run_under_mocks(program)
    assert str(error.value) == ("listener_rule_priority=100 is already used by 'api' on the SharedAlb 'shop-lb': "
                                "choose another.")
