import json
import re
from collections import Counter

import pulumi
import pytest

import genai_platform.mockcloud.runner as runner
from genai_platform.components.aws.fargate.service import TLS13_POLICY, FargateAlbService, FargateAlbServiceArgs
from genai_platform.mockcloud import run_under_mocks

COMPONENT = "genai:aws:FargateAlbService"
SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ALB = "aws:lb/loadBalancer:LoadBalancer"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/tabular-api:1.4.2"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-111122223333"
DB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tabular/db-AbC123"
PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/tabular/model-uri"
TOPIC = "arn:aws:sns:us-east-1:123456789012:platform-alerts"
BUCKET_STATEMENT = {"Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::tabular-models/*"]}

BASE = dict(
    image=IMAGE,
    vpc_id="vpc-0123456789abcdef0",
    vpc_cidr_block="10.10.0.0/16",
    private_subnet_ids=["subnet-private-a", "subnet-private-b"],
    public_subnet_ids=["subnet-public-a", "subnet-public-b"],
)

BASE_TYPES = {
    COMPONENT: 1,
    "aws:ecs/cluster:Cluster": 1,
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": 1,
    TASK_DEFINITION: 1,
    SERVICE: 1,
    "aws:cloudwatch/logGroup:LogGroup": 1,
    ROLE: 2,  # execution + task
    ROLE_POLICY: 1,  # execution only: the task role gets no policy without statements
    SG: 2,
    EGRESS: 2,  # ALB -> tasks, tasks -> HTTPS
    ALB: 1,
    TARGET_GROUP: 1,
    ALARM: 3,
    "aws:appautoscaling/target:Target": 1,
    SCALING_POLICY: 2,
}


def make_args(**overrides) -> FargateAlbServiceArgs:
    return FargateAlbServiceArgs(**{**BASE, **overrides})


_PLANS: dict[str, object] = {}


def plan_service(**overrides):
    """The plan of a service with ``overrides``, made once per distinct arguments in this module (read-only)."""
    key = repr(sorted(overrides.items()))
    if key not in _PLANS:
        _PLANS[key] = plan_new_service(**overrides)
    return _PLANS[key]


def plan_new_service(**overrides):
    """A new plan, for a test that watches the planning itself (warnings, registrations)."""
    def program():
        service = FargateAlbService("tabular", make_args(**overrides))
        for output in ("url", "service_name", "cluster_name", "security_group_id", "alb_arn_suffix",
                       "target_group_arn_suffix", "load_balancer_dns_name", "alarm_arns", "task_role_arn"):
            pulumi.export(output, getattr(service, output))

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def container(plan) -> dict:
    definitions = json.loads(plan.one(TASK_DEFINITION).inputs["containerDefinitions"])
    assert len(definitions) == 1
    return definitions[0]


def policy(plan, name: str) -> dict:
    return json.loads(plan.named(name, ROLE_POLICY).inputs["policy"])


def all_actions(document: dict) -> list[str]:
    return [action for statement in document["Statement"] for action in statement["Action"]]


# --- children ---------------------------------------------------------------------------------------

def test_children_without_certificate():
    plan = plan_service()
    assert plan.type_counts() == Counter({**BASE_TYPES, LISTENER: 1, INGRESS: 2})
    component = plan.one(COMPONENT)
    assert {r.parent for r in plan.resources if r.type not in (COMPONENT, "pulumi:pulumi:Stack")} == {component.urn}
    assert not plan.of_type(RULE)


def test_children_with_certificate():
    plan = plan_service(certificate_arn=CERTIFICATE)
    # HTTPS + redirecting HTTP listener; ALB ingress on 443 and 80.
    assert plan.type_counts() == Counter({**BASE_TYPES, LISTENER: 2, INGRESS: 3})


def test_children_with_canary_add_alternate_group_rule_and_infrastructure_role():
    plan = plan_service(certificate_arn=CERTIFICATE, deployment_strategy="CANARY")
    assert plan.type_counts() == Counter({**BASE_TYPES, LISTENER: 2, INGRESS: 3, TARGET_GROUP: 2, RULE: 1,
                                          ROLE: 3, "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1})


def test_existing_cluster_is_used_not_created():
    cluster_arn = "arn:aws:ecs:us-east-1:123456789012:cluster/platform"
    plan = plan_service(cluster_arn=cluster_arn)
    assert not plan.of_type("aws:ecs/cluster:Cluster")
    assert not plan.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert plan.one(SERVICE).inputs["cluster"] == cluster_arn
    assert plan.outputs["cluster_name"] == "platform"
    target = plan.one("aws:appautoscaling/target:Target")
    assert target.inputs["resourceId"] == f"service/platform/{plan.one(SERVICE).outputs['name']}"


def test_created_cluster_has_container_insights():
    plan = plan_service()
    assert plan.one("aws:ecs/cluster:Cluster").inputs["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    enhanced = plan_service(container_insights="enhanced")
    assert enhanced.one("aws:ecs/cluster:Cluster").inputs["settings"][0]["value"] == "enhanced"


def test_created_cluster_offers_fargate_and_spot_and_defaults_to_on_demand():
    plan = plan_service()
    providers = plan.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers.inputs["clusterName"] == plan.one("aws:ecs/cluster:Cluster").outputs["name"]
    assert providers.inputs["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert providers.inputs["defaultCapacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    # The service is registered only once the providers are attached (it waits for the cluster ARN output).
    assert providers.urn in plan.one(SERVICE).dependencies


def test_on_demand_by_default_and_spot_through_a_capacity_provider_strategy():
    on_demand = plan_service().one(SERVICE).inputs
    assert on_demand["launchType"] == "FARGATE" and "capacityProviderStrategies" not in on_demand
    spot = plan_service(fargate_spot=True).one(SERVICE).inputs
    assert "launchType" not in spot
    assert spot["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]


def test_spot_keeps_the_canary_traffic_shifting():
    service = plan_service(fargate_spot=True, deployment_strategy="CANARY").one(SERVICE).inputs
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert service["deploymentConfiguration"]["strategy"] == "CANARY"
    assert service["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]


# --- listeners --------------------------------------------------------------------------------------

def test_certificate_gives_tls13_https_and_a_redirect():
    plan = plan_service(certificate_arn=CERTIFICATE)
    https = plan.named("tabular-https", LISTENER)
    assert (https.inputs["protocol"], https.inputs["port"]) == ("HTTPS", 443)
    assert https.inputs["sslPolicy"] == TLS13_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https.inputs["certificateArn"] == CERTIFICATE
    assert https.inputs["routingHttpResponseStrictTransportSecurityHeaderValue"] == "max-age=31536000"
    tg_arn = plan.named("tabular-tg", TARGET_GROUP).outputs["arn"]
    assert https.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": tg_arn}]
    http = plan.named("tabular-http", LISTENER)
    assert (http.inputs["protocol"], http.inputs["port"]) == ("HTTP", 80)
    assert http.inputs["defaultActions"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
    assert plan.outputs["url"] == f"https://{plan.one(ALB).outputs['dnsName']}"


def test_without_certificate_http_forwards_and_warns(monkeypatch):
    warnings = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, resource=None, **_: warnings.append(message))
    plan = plan_new_service()
    http = plan.one(LISTENER)
    assert (http.inputs["protocol"], http.inputs["port"]) == ("HTTP", 80)
    assert "sslPolicy" not in http.inputs and "certificateArn" not in http.inputs
    assert http.inputs["defaultActions"] == [
        {"type": "forward", "targetGroupArn": plan.one(TARGET_GROUP).outputs["arn"]}]
    assert warnings == ["tabular: no certificate_arn, so the load balancer serves plain HTTP on port 80; "
                        "pass an ACM certificate before this service carries real data."]
    dns = plan.one(ALB).outputs["dnsName"]
    assert plan.outputs["url"] == f"http://{dns}" and dns.endswith(".us-east-1.elb.amazonaws.com")


def test_no_warning_with_certificate(monkeypatch):
    warnings = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, resource=None, **_: warnings.append(message))
    plan_new_service(certificate_arn=CERTIFICATE)
    assert warnings == []


# --- load balancer ----------------------------------------------------------------------------------

def test_load_balancer_defaults():
    alb = plan_service().one(ALB)
    assert alb.inputs["loadBalancerType"] == "application"
    assert alb.inputs["internal"] is True
    assert alb.inputs["subnets"] == ["subnet-private-a", "subnet-private-b"]
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["idleTimeout"] == 60
    assert alb.inputs["enableDeletionProtection"] is False
    assert "accessLogs" not in alb.inputs


def test_load_balancer_options():
    plan = plan_service(internal=False, idle_timeout_seconds=900, deletion_protection=True,
                        access_logs_bucket="platform-alb-logs")
    alb = plan.one(ALB)
    assert alb.inputs["internal"] is False
    assert alb.inputs["subnets"] == ["subnet-public-a", "subnet-public-b"]
    assert alb.inputs["idleTimeout"] == 900
    assert alb.inputs["enableDeletionProtection"] is True
    assert alb.inputs["accessLogs"] == {"bucket": "platform-alb-logs", "enabled": True, "prefix": "tabular"}
    assert not plan.outputs["load_balancer_dns_name"].startswith("internal-")


def test_target_group_health_check():
    group = plan_service(health_check_path="/ready", container_port=9000).one(TARGET_GROUP)
    assert group.inputs["targetType"] == "ip"
    assert (group.inputs["port"], group.inputs["protocol"]) == (9000, "HTTP")
    assert group.inputs["deregistrationDelay"] == 30
    assert group.inputs["healthCheck"] == {
        "enabled": True, "path": "/ready", "port": "traffic-port", "protocol": "HTTP", "matcher": "200-399",
        "interval": 15, "timeout": 5, "healthyThreshold": 2, "unhealthyThreshold": 3}


# --- security groups --------------------------------------------------------------------------------

def sg_id(plan, suffix: str) -> str:
    return plan.named(f"tabular-{suffix}-sg", SG).id


def test_alb_admits_only_the_vpc_by_default():
    plan = plan_service(certificate_arn=CERTIFICATE)
    alb_sg = sg_id(plan, "alb")
    alb_in = [r.inputs for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == alb_sg]
    assert sorted((r["fromPort"], r["toPort"], r["cidrIpv4"], r["ipProtocol"]) for r in alb_in) == [
        (80, 80, "10.10.0.0/16", "tcp"), (443, 443, "10.10.0.0/16", "tcp")]
    assert plan.one(ALB).inputs["securityGroups"] == [alb_sg]


def test_public_api_must_open_explicitly():
    plan = plan_service(internal=False, certificate_arn=CERTIFICATE, allowed_cidrs=["0.0.0.0/0"])
    alb_in = [r.inputs for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == sg_id(plan, "alb")]
    assert sorted((r["fromPort"], r["cidrIpv4"]) for r in alb_in) == [(80, "0.0.0.0/0"), (443, "0.0.0.0/0")]
    plain = plan_service(allowed_cidrs=["203.0.113.0/24", "198.51.100.0/24"])
    alb_in = [r.inputs for r in plain.of_type(INGRESS) if r.inputs["securityGroupId"] == sg_id(plain, "alb")]
    assert sorted((r["fromPort"], r["cidrIpv4"]) for r in alb_in) == [(80, "198.51.100.0/24"), (80, "203.0.113.0/24")]


def test_tasks_admit_only_the_load_balancer_and_it_reaches_only_them():
    plan = plan_service(container_port=8443)
    alb_sg, service_sg = sg_id(plan, "alb"), sg_id(plan, "service")
    service_in = [r.inputs for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == service_sg]
    assert service_in == [{**service_in[0], "referencedSecurityGroupId": alb_sg, "fromPort": 8443, "toPort": 8443,
                           "ipProtocol": "tcp"}]
    assert "cidrIpv4" not in service_in[0]
    alb_out = [r.inputs for r in plan.of_type(EGRESS) if r.inputs["securityGroupId"] == alb_sg]
    assert len(alb_out) == 1
    assert (alb_out[0]["referencedSecurityGroupId"], alb_out[0]["fromPort"], alb_out[0]["toPort"]) == (
        service_sg, 8443, 8443)
    assert "cidrIpv4" not in alb_out[0]
    # Both groups carry no inline rules (the referencing pair would be a cycle).
    assert all("ingress" not in r.inputs and "egress" not in r.inputs for r in plan.of_type(SG))
    assert plan.outputs["security_group_id"] == service_sg


def test_task_egress_is_https_plus_named_vpc_ports():
    plan = plan_service(egress_vpc_ports=[5432, 6379])
    service_out = sorted((r.inputs["fromPort"], r.inputs["cidrIpv4"]) for r in plan.of_type(EGRESS)
                         if r.inputs["securityGroupId"] == sg_id(plan, "service"))
    assert service_out == [(443, "0.0.0.0/0"), (5432, "10.10.0.0/16"), (6379, "10.10.0.0/16")]


def test_service_network_is_private():
    network = plan_service().one(SERVICE).inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert network["subnets"] == ["subnet-private-a", "subnet-private-b"]


# --- task definition --------------------------------------------------------------------------------

def test_task_definition_size_and_platform():
    plan = plan_service(cpu=1024, memory_mib=3072)
    task = plan.one(TASK_DEFINITION).inputs
    assert (task["cpu"], task["memory"]) == ("1024", "3072")
    assert task["requiresCompatibilities"] == ["FARGATE"] and task["networkMode"] == "awsvpc"
    assert task["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}
    assert task["family"] == "tabular"
    x86 = plan_service(cpu_architecture="X86_64", family="tabular-prod").one(TASK_DEFINITION).inputs
    assert x86["runtimePlatform"]["cpuArchitecture"] == "X86_64" and x86["family"] == "tabular-prod"


def test_separate_execution_and_task_roles():
    plan = plan_service()
    task = plan.one(TASK_DEFINITION).inputs
    assert task["executionRoleArn"] == plan.named("tabular-execution", ROLE).outputs["arn"]
    assert task["taskRoleArn"] == plan.named("tabular-task", ROLE).outputs["arn"]
    assert task["executionRoleArn"] != task["taskRoleArn"]


def test_container_is_hardened():
    definition = container(plan_service())
    assert definition["readonlyRootFilesystem"] is True
    assert definition["user"] == "10001"
    assert definition["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in definition
    assert definition["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert definition["mountPoints"] == [{"sourceVolume": "scratch-0", "containerPath": "/tmp", "readOnly": False}]
    assert definition["image"] == IMAGE


def test_container_logs_and_health_check():
    plan = plan_service(log_retention_days=90, log_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/abc")
    group = plan.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert (group["name"], group["retentionInDays"], group["kmsKeyId"]) == (
        "/genai/ecs/tabular", 90, "arn:aws:kms:us-east-1:123456789012:key/abc")
    definition = container(plan)
    assert definition["logConfiguration"]["logDriver"] == "awslogs"
    assert definition["logConfiguration"]["options"]["awslogs-group"] == "/genai/ecs/tabular"
    assert definition["logConfiguration"]["options"]["awslogs-region"] == "us-east-1"
    check = definition["healthCheck"]
    assert check["command"][:3] == ["CMD", "python3", "-c"]
    assert "http://127.0.0.1:8080/health" in check["command"][3]
    custom = container(plan_service(container_health_check_command=["CMD-SHELL", "curl -fsS localhost:8080/ || exit 1"]))
    assert custom["healthCheck"]["command"] == ["CMD-SHELL", "curl -fsS localhost:8080/ || exit 1"]


def test_secrets_are_references_and_environment_is_plain():
    definition = container(plan_service(
        environment={"LOG_LEVEL": "info", "MODEL_NAME": "churn"},
        secrets={"DB_PASSWORD": f"{DB_SECRET}:password::", "MODEL_URI": PARAMETER},
    ))
    assert definition["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": f"{DB_SECRET}:password::"},
                                     {"name": "MODEL_URI", "valueFrom": PARAMETER}]
    assert definition["environment"] == [{"name": "LOG_LEVEL", "value": "info"}, {"name": "MODEL_NAME", "value": "churn"}]
    assert DB_SECRET not in json.dumps(definition["environment"])


def test_image_secrets_and_environment_may_be_outputs():
    def program():
        FargateAlbService("tabular", make_args(
            image=pulumi.Output.from_input(IMAGE), secrets={"DB_PASSWORD": pulumi.Output.from_input(DB_SECRET)},
            environment={"DB_HOST": pulumi.Output.from_input("db.internal"), "A_FLAG": "1"}))

    plan = run_under_mocks(program, config={"aws:region": "us-east-1"})
    assert container(plan)["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": DB_SECRET}]
    assert container(plan)["environment"] == [{"name": "A_FLAG", "value": "1"}, {"name": "DB_HOST", "value": "db.internal"}]
    document = policy(plan, "tabular-execution")
    assert {"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [DB_SECRET]} in document["Statement"]
    assert "ecr:BatchGetImage" in all_actions(document)


# --- IAM --------------------------------------------------------------------------------------------

def test_execution_role_is_scoped_to_its_repository_log_group_and_secrets():
    kms = "arn:aws:kms:us-east-1:123456789012:key/1111-2222"
    plan = plan_service(secrets={"DB_PASSWORD": f"{DB_SECRET}:password::", "MODEL_URI": PARAMETER},
                        secrets_kms_key_arns=[kms])
    statements = {s["Sid"]: s for s in policy(plan, "tabular-execution")["Statement"]}
    assert statements["EcrLogin"]["Resource"] == "*" and statements["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]
    assert statements["EcrPull"]["Resource"] == "arn:aws:ecr:us-east-1:123456789012:repository/tabular-api"
    log_arn = plan.one("aws:cloudwatch/logGroup:LogGroup").outputs["arn"]
    assert statements["Logs"]["Resource"] == [log_arn, f"{log_arn}:*"]
    assert statements["Secrets"] == {"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                                     "Resource": [DB_SECRET]}
    assert statements["Parameters"]["Action"] == ["ssm:GetParameters"]
    assert statements["Parameters"]["Resource"] == [PARAMETER]
    assert statements["DecryptSecrets"]["Resource"] == [kms]
    assert statements["DecryptSecrets"]["Condition"] == {"StringEquals": {"kms:ViaService": [
        "secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"]}}
    # No wildcard action anywhere, and "*" only on the one action AWS allows no resource for.
    for statement in statements.values():
        assert all("*" not in action for action in statement["Action"])
        if statement["Resource"] == "*":
            assert statement["Action"] == ["ecr:GetAuthorizationToken"]
    assert not plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def test_execution_role_without_ecr_or_secrets_only_writes_logs():
    plan = plan_service(image="public.ecr.aws/docker/library/python:3.12-slim")
    document = policy(plan, "tabular-execution")
    assert all_actions(document) == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_task_role_gets_exactly_the_callers_statements():
    plan = plan_service(task_role_statements=[BUCKET_STATEMENT])
    assert policy(plan, "tabular-task") == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::tabular-models/*"]}]}
    assert not [r for r in plan_service().of_type(ROLE_POLICY) if r.name == "tabular-task"]


def test_trust_policies_are_limited_to_this_account():
    plan = plan_service()
    task_trust = json.loads(plan.named("tabular-task", ROLE).inputs["assumeRolePolicy"])["Statement"][0]
    assert task_trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert task_trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"},
                                       "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}}
    execution_trust = json.loads(plan.named("tabular-execution", ROLE).inputs["assumeRolePolicy"])["Statement"][0]
    assert execution_trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_service_waits_for_role_policies():
    plan = plan_service(task_role_statements=[BUCKET_STATEMENT])
    dependencies = plan.one(SERVICE).dependencies
    for policy_resource in plan.of_type(ROLE_POLICY):
        assert policy_resource.urn in dependencies


# --- safe deploys -----------------------------------------------------------------------------------

def test_rolling_deploys_roll_back_on_circuit_breaker_and_alarms():
    plan = plan_service(alarm_actions=[TOPIC])
    service = plan.one(SERVICE).inputs
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    alarm_names = sorted(alarm.outputs["name"] for alarm in plan.of_type(ALARM))
    assert sorted(service["alarms"]["alarmNames"]) == alarm_names
    assert (service["alarms"]["enable"], service["alarms"]["rollback"]) == (True, True)
    assert [name.rsplit("-", 1)[0] for name in alarm_names] == [
        "tabular-5xx-rate", "tabular-p95-latency", "tabular-unhealthy-hosts"]
    assert service["deploymentConfiguration"] == {"strategy": "ROLLING"}
    assert (service["deploymentMinimumHealthyPercent"], service["deploymentMaximumPercent"]) == (100, 200)
    assert "advancedConfiguration" not in service["loadBalancers"][0]
    assert service["launchType"] == "FARGATE" and service["enableExecuteCommand"] is False
    for alarm in plan.of_type(ALARM):
        assert alarm.inputs["alarmActions"] == [TOPIC] and alarm.inputs["okActions"] == [TOPIC]
    assert sorted(plan.outputs["alarm_arns"]) == sorted(a.outputs["arn"] for a in plan.of_type(ALARM))


def test_alarm_metrics():
    plan = plan_service(error_rate_threshold_percent=2.5, p95_latency_threshold_seconds=1.5)
    lb_suffix = plan.one(ALB).outputs["arnSuffix"]
    tg_suffix = plan.one(TARGET_GROUP).outputs["arnSuffix"]
    errors = plan.named("tabular-5xx-rate", ALARM).inputs
    assert errors["threshold"] == 2.5
    metrics = {q["id"]: q for q in errors["metricQueries"]}
    assert {q["metric"]["metricName"] for q in metrics.values() if "metric" in q} == {
        "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
    assert all(q["metric"]["dimensions"] == {"LoadBalancer": lb_suffix} for q in metrics.values() if "metric" in q)
    assert metrics["errorrate"]["returnData"] is True
    assert "/ requests" in metrics["errorrate"]["expression"]
    latency = plan.named("tabular-p95-latency", ALARM).inputs
    assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == ("TargetResponseTime", "p95", 1.5)
    assert latency["dimensions"] == {"LoadBalancer": lb_suffix}
    unhealthy = plan.named("tabular-unhealthy-hosts", ALARM).inputs
    groups = [q["metric"]["dimensions"] for q in unhealthy["metricQueries"] if "metric" in q]
    assert groups == [{"LoadBalancer": lb_suffix, "TargetGroup": tg_suffix}]
    assert unhealthy["threshold"] == 0
    for alarm in plan.of_type(ALARM):
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
        assert (alarm.inputs["evaluationPeriods"], alarm.inputs["datapointsToAlarm"]) == (3, 2)
        assert alarm.inputs["treatMissingData"] == "notBreaching"


def test_canary_uses_ecs_native_traffic_shifting():
    plan = plan_service(certificate_arn=CERTIFICATE, deployment_strategy="CANARY", canary_percent=5,
                        canary_bake_time_minutes=10, bake_time_minutes=15)
    service = plan.one(SERVICE).inputs
    assert service["deploymentConfiguration"] == {
        "strategy": "CANARY", "bakeTimeInMinutes": "15",
        "canaryConfiguration": {"canaryPercent": 5, "canaryBakeTimeInMinutes": "10"}}
    primary, alternate = plan.named("tabular-tg", TARGET_GROUP), plan.named("tabular-tg-alt", TARGET_GROUP)
    rule = plan.one(RULE)
    assert rule.inputs["listenerArn"] == plan.named("tabular-https", LISTENER).outputs["arn"]
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    assert rule.inputs["actions"] == [{"type": "forward", "forward": {"targetGroups": [
        {"arn": primary.outputs["arn"], "weight": 100}, {"arn": alternate.outputs["arn"], "weight": 0}]}}]
    infrastructure = plan.named("tabular-ecs-infrastructure", ROLE)
    trust = json.loads(infrastructure.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert attachment["policyArn"] == "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
    assert service["loadBalancers"] == [{
        "targetGroupArn": primary.outputs["arn"], "containerName": "app", "containerPort": 8080,
        "advancedConfiguration": {"alternateTargetGroupArn": alternate.outputs["arn"],
                                  "productionListenerRule": rule.outputs["arn"],
                                  "roleArn": infrastructure.outputs["arn"]}}]
    assert ":listener-rule/app/" in rule.outputs["arn"]
    # The circuit breaker and alarms still guard the shift.
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["alarms"]["rollback"] is True
    # Errors of the canary's target group count: the unhealthy alarm watches both groups.
    unhealthy = plan.named("tabular-unhealthy-hosts", ALARM).inputs
    watched = [q["metric"]["dimensions"]["TargetGroup"] for q in unhealthy["metricQueries"] if "metric" in q]
    assert watched == [primary.outputs["arnSuffix"], alternate.outputs["arnSuffix"]]
    dependencies = plan.one(SERVICE).dependencies
    assert rule.urn in dependencies
    assert plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").urn in dependencies


def test_canary_without_certificate_puts_the_rule_on_http():
    plan = plan_service(deployment_strategy="CANARY")
    assert plan.one(RULE).inputs["listenerArn"] == plan.one(LISTENER).outputs["arn"]


@pytest.mark.parametrize(("strategy", "extra", "expected"), [
    ("LINEAR", {"linear_step_percent": 20, "linear_step_bake_time_minutes": 3},
     {"strategy": "LINEAR", "bakeTimeInMinutes": "10",
      "linearConfiguration": {"stepPercent": 20, "stepBakeTimeInMinutes": "3"}}),
    ("BLUE_GREEN", {"bake_time_minutes": 30}, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "30"}),
])
def test_other_shifting_strategies(strategy, extra, expected):
    plan = plan_service(certificate_arn=CERTIFICATE, deployment_strategy=strategy, **extra)
    assert plan.one(SERVICE).inputs["deploymentConfiguration"] == expected
    assert len(plan.of_type(TARGET_GROUP)) == 2 and len(plan.of_type(RULE)) == 1


def test_ignore_changes_leave_ecs_owned_fields_alone(monkeypatch):
    ignored: dict[tuple[str, str], list[str]] = {}

    class Monitor(runner.RecordingMonitor):
        def RegisterResource(self, request):  # noqa: N802
            ignored[(request.type, request.name)] = list(request.ignoreChanges)
            return super().RegisterResource(request)

    monkeypatch.setattr(runner, "RecordingMonitor", Monitor)
    plan_new_service()
    assert ignored[(SERVICE, "tabular-service")] == ["desiredCount"]
    plan_new_service(deployment_strategy="CANARY")
    assert ignored[(SERVICE, "tabular-service")] == ["desiredCount", "loadBalancers"]
    assert ignored[(RULE, "tabular-production")] == ["actions"]


# --- autoscaling ------------------------------------------------------------------------------------

def test_autoscaling_on_cpu_and_requests_per_target():
    plan = plan_service(min_tasks=2, max_tasks=8, cpu_target_percent=55, requests_per_target=600)
    target = plan.one("aws:appautoscaling/target:Target").inputs
    service = plan.one(SERVICE)
    cluster = plan.one("aws:ecs/cluster:Cluster")
    assert target["resourceId"] == f"service/{cluster.outputs['name']}/{service.outputs['name']}"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 8)
    assert target["scalableDimension"] == "ecs:service:DesiredCount" and target["serviceNamespace"] == "ecs"
    assert service.inputs["desiredCount"] == 2
    cpu = plan.named("tabular-cpu", SCALING_POLICY).inputs
    assert cpu["policyType"] == "TargetTrackingScaling"
    assert cpu["resourceId"] == target["resourceId"]
    assert cpu["targetTrackingScalingPolicyConfiguration"] == {
        "targetValue": 55, "scaleOutCooldown": 60, "scaleInCooldown": 300,
        "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}}
    requests = plan.named("tabular-requests", SCALING_POLICY).inputs["targetTrackingScalingPolicyConfiguration"]
    label = f"{plan.one(ALB).outputs['arnSuffix']}/{plan.one(TARGET_GROUP).outputs['arnSuffix']}"
    assert requests["targetValue"] == 600
    assert requests["predefinedMetricSpecification"] == {
        "predefinedMetricType": "ALBRequestCountPerTarget", "resourceLabel": label}
    assert label.startswith("app/tabular-alb-") and "/targetgroup/tabular-tg-" in label


def test_shifting_strategies_scale_on_the_busier_target_group():
    plan = plan_service(deployment_strategy="CANARY")
    config = plan.named("tabular-requests", SCALING_POLICY).inputs["targetTrackingScalingPolicyConfiguration"]
    assert "predefinedMetricSpecification" not in config
    metrics = config["customizedMetricSpecification"]["metrics"]
    suffixes = [plan.named(n, TARGET_GROUP).outputs["arnSuffix"] for n in ("tabular-tg", "tabular-tg-alt")]
    assert [m["metricStat"]["metric"]["dimensions"] for m in metrics[:2]] == [
        [{"name": "TargetGroup", "value": suffix}] for suffix in suffixes]
    assert {m["metricStat"]["metric"]["metricName"] for m in metrics[:2]} == {"RequestCountPerTarget"}
    assert metrics[2] == {"id": "busiest", "expression": "MAX([FILL(group0, 0), FILL(group1, 0)])",
                          "label": "Requests per task (busier target group)", "returnData": True}


# --- outputs ----------------------------------------------------------------------------------------

def test_outputs_for_dashboards_and_dns():
    plan = plan_service()
    assert plan.outputs["alb_arn_suffix"] == plan.one(ALB).outputs["arnSuffix"]
    assert plan.outputs["target_group_arn_suffix"] == plan.one(TARGET_GROUP).outputs["arnSuffix"]
    assert plan.outputs["service_name"] == plan.one(SERVICE).outputs["name"]
    assert plan.outputs["cluster_name"] == plan.one("aws:ecs/cluster:Cluster").outputs["name"]
    assert plan.outputs["task_role_arn"] == plan.named("tabular-task", ROLE).outputs["arn"]
    assert re.fullmatch(r"internal-tabular-alb-[0-9a-f]{7}-\d+\.us-east-1\.elb\.amazonaws\.com",
                        plan.outputs["load_balancer_dns_name"])


def test_tags_reach_every_taggable_child():
    plan = plan_service(tags={"Environment": "prod", "Service": "tabular"})
    tagged = [r for r in plan.resources if "tags" in r.inputs]
    assert len(tagged) >= 15
    for resource in tagged:
        assert resource.inputs["tags"]["Environment"] == "prod"
        assert resource.inputs["tags"]["ManagedBy"] == "pulumi"


# --- validation -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "message"), [
    ({"cpu": 256, "memory_mib": 4096}, "memory_mib=4096 is not valid with cpu=256 on Fargate: use one of 512, 1024, 2048."),
    ({"cpu": 512, "memory_mib": 512}, "memory_mib=512 is not valid with cpu=512 on Fargate: "
                                      "use one of 1024, 2048, 3072, 4096."),
    ({"cpu": 8192, "memory_mib": 18432}, "memory_mib=18432 is not valid with cpu=8192 on Fargate: use one of "
                                         "16384, 20480, 24576, 28672, 32768, 36864, 40960, 45056, 49152, 53248, "
                                         "57344, 61440."),
    ({"cpu": 3000}, "cpu=3000 is not a Fargate CPU size: use one of 256, 512, 1024, 2048, 4096, 8192, 16384 "
                    "(CPU units; 1024 = 1 vCPU)."),
    ({"cpu_architecture": "arm64"}, "cpu_architecture='arm64' is not a Fargate architecture: use 'ARM64' or 'X86_64'."),
    ({"user": "root"}, "user='root' runs the container as root: use a non-root UID such as '10001'."),
    ({"user": "0:0"}, "user='0:0' runs the container as root: use a non-root UID such as '10001'."),
    ({"container_port": 80}, "container_port=80 is out of range: use 1024 to 65535 (the container runs as a "
                             "non-root user, which cannot bind lower ports)."),
    ({"log_retention_days": 10}, "log_retention_days=10 is not a CloudWatch Logs retention: use one of 1, 3, 5, 7, "
                                 "14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
                                 "3288, 3653."),
    ({"environment": {"DB_PASSWORD": "hunter2"}},
     "environment key 'DB_PASSWORD' looks like a credential: pass it in secrets={'DB_PASSWORD': "
     "'<Secrets Manager or SSM parameter ARN>'}, or rename the key if the value is not secret."),
    ({"environment": {"OPENAI_API_KEY": "sk-x"}},
     "environment key 'OPENAI_API_KEY' looks like a credential: pass it in secrets={'OPENAI_API_KEY': "
     "'<Secrets Manager or SSM parameter ARN>'}, or rename the key if the value is not secret."),
    ({"environment": {"MODEL_URI": "s3://m"}, "secrets": {"MODEL_URI": PARAMETER}},
     "environment and secrets both set 'MODEL_URI': keep it in secrets only."),
    ({"secrets": {"DB_PASSWORD": "tabular/db"}},
     "secrets['DB_PASSWORD']='tabular/db' is not a Secrets Manager secret or SSM parameter ARN: pass the full ARN "
     "(arn:aws:secretsmanager:<region>:<account>:secret:<name> or arn:aws:ssm:<region>:<account>:parameter/<name>) "
     "so the execution role can be scoped to it."),
    ({"task_role_statements": [{"Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]},
     "task_role_statements[0] has the wildcard action 's3:*': list the exact actions the task calls."),
    ({"task_role_statements": [{"Action": ["s3:PutObject"], "Resource": "*"}]},
     "task_role_statements[0] allows 's3:PutObject' on Resource '*': name the ARNs it applies to "
     "(only List*/Describe* calls may use '*')."),
    ({"task_role_statements": [BUCKET_STATEMENT, {"NotAction": "iam:*", "Resource": "*"}]},
     "task_role_statements[1] uses NotAction: list the exact Action and Resource values instead."),
    ({"writable_paths": ["tmp"]}, "writable_paths contains 'tmp': use absolute paths below '/', such as '/tmp'."),
    ({"health_check_path": "health"}, "health_check_path='health' must start with '/': e.g. '/health'."),
    ({"private_subnet_ids": ["subnet-a"]}, "private_subnet_ids has 1 subnet(s): pass at least two, in different "
                                           "zones, so tasks survive a zone outage."),
    ({"internal": False, "public_subnet_ids": []}, "public_subnet_ids has 0 subnet(s): an internet-facing load balancer needs at "
                                "least two, in different zones (or set internal=True)."),
    ({"allowed_cidrs": ["10.0.0.1/8"]}, "allowed_cidrs contains '10.0.0.1/8', not a network CIDR block: use the "
                                        "form '10.0.0.0/16' (network address, no host bits)."),
    ({"allowed_cidrs": ["::/0"]}, "allowed_cidrs contains '::/0', an IPv6 block: the load balancer is IPv4-only, "
                                  "use IPv4 CIDR blocks."),
    ({"allowed_cidrs": []}, "allowed_cidrs=[] admits nobody: leave it unset for the VPC only, or list the client "
                            "ranges."),
    ({"internal": True, "allowed_cidrs": ["0.0.0.0/0"]},
     "allowed_cidrs contains '0.0.0.0/0' on an internal load balancer: list the networks that reach it (VPC, "
     "peered VPCs, VPN ranges)."),
    ({"ssl_policy": "ELBSecurityPolicy-2016-08"},
     "ssl_policy='ELBSecurityPolicy-2016-08' allows TLS older than 1.2 or lacks TLS 1.3: use an "
     "ELBSecurityPolicy-TLS13-* policy such as 'ELBSecurityPolicy-TLS13-1-2-2021-06'."),
    ({"idle_timeout_seconds": 5000}, "idle_timeout_seconds=5000 is out of range: use 1 to 4000."),
    ({"health_check_interval_seconds": 2}, "health_check_interval_seconds=2 is out of range: use 5 to 300."),
    ({"egress_vpc_ports": [70000]}, "egress_vpc_ports contains 70000: use TCP ports 1 to 65535."),
    ({"min_tasks": 0}, "min_tasks=0 is below 1: an API behind a load balancer needs a running task "
                       "(request-based scaling cannot start from zero)."),
    ({"min_tasks": 4, "max_tasks": 3}, "max_tasks=3 is below min_tasks=4: raise max_tasks."),
    ({"cpu_target_percent": 0}, "cpu_target_percent=0 is out of range: use more than 0, at most 100."),
    ({"error_rate_threshold_percent": 150}, "error_rate_threshold_percent=150 is out of range: use more than 0, "
                                            "at most 100."),
    ({"deployment_strategy": "CODE_DEPLOY"}, "deployment_strategy='CODE_DEPLOY' is not an ECS deployment strategy: "
                                             "use one of ROLLING, BLUE_GREEN, CANARY, LINEAR."),
    ({"bake_time_minutes": 2000}, "bake_time_minutes=2000 is out of range: use 0 to 1440 minutes."),
    ({"canary_percent": 0}, "canary_percent=0 is out of range: use 0.1 to 100."),
    ({"linear_step_percent": 1}, "linear_step_percent=1 is out of range: use 3 to 100."),
])
def test_invalid_arguments_are_rejected_before_anything_is_created(overrides, message):
    with pytest.raises(ValueError) as error:
        plan_service(**overrides)
    assert str(error.value) == message
