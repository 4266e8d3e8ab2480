"""The dev, staging and prod stacks: each plans, holds its tier's presets, grants exactly what each
workload does, passes every mandatory policy and declares only schema-valid Kubernetes objects."""

import json

import pytest

from genai_infra import cost, planning, policy_check
from genai_infra.k8s_schema import validate_plan_manifests
from genai_infra.mockcloud import Plan

STACKS = ("dev", "staging", "prod")
NAT = "aws:ec2/natGateway:NatGateway"
DB = "aws:rds/instance:Instance"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    root = planning.project_dir()
    return {stack: planning.plan_stack(stack, root) for stack in STACKS}


def test_every_stack_file_is_planned():
    assert tuple(sorted(planning.stack_names(planning.project_dir()))) == tuple(sorted(STACKS))


@pytest.mark.parametrize(("stack", "zones", "nats"), [("dev", 2, 1), ("staging", 3, 1), ("prod", 3, 3)])
def test_network_presets(plans, stack, zones, nats):
    plan = plans[stack]
    assert len(plan.of_type(NAT)) == nats
    assert len(plan.of_type("aws:ec2/subnet:Subnet")) == 3 * zones


@pytest.mark.parametrize(("stack", "multi_az", "backup_days", "deletion_protection", "insights", "instance_class"), [
    ("dev", False, 1, False, False, "db.t4g.micro"),
    ("staging", True, 7, True, False, "db.t4g.medium"),
    ("prod", True, 30, True, True, "db.r7g.large"),
])
def test_postgres_presets(plans, stack, multi_az, backup_days, deletion_protection, insights, instance_class):
    databases = plans[stack].of_type(DB)
    assert len(databases) == 2  # rag and tabular
    for db in databases:
        inputs = db.inputs
        assert (inputs["multiAz"], inputs["backupRetentionPeriod"], inputs["deletionProtection"],
                inputs["performanceInsightsEnabled"], inputs["instanceClass"]) == (
            multi_az, backup_days, deletion_protection, insights, instance_class)
        assert inputs["storageEncrypted"] is True and inputs["publiclyAccessible"] is False
        assert db.protect is deletion_protection


@pytest.mark.parametrize(("stack", "system", "gpu"), [
    ("dev", ("SPOT", 2, 3, ["t3.medium"]), ("SPOT", 0, 1)),
    ("staging", ("ON_DEMAND", 2, 4, ["t3.large"]), ("SPOT", 0, 2)),
    ("prod", ("ON_DEMAND", 3, 6, ["m6i.large"]), ("ON_DEMAND", 1, 4)),
])
def test_node_pool_presets(plans, stack, system, gpu):
    groups = {g.name: g.inputs for g in plans[stack].of_type(NODE_GROUP)}
    system_group = next(v for k, v in groups.items() if "system" in k)
    gpu_group = next(v for k, v in groups.items() if "gpu" in k)
    capacity, low, high, types = system
    assert (system_group["capacityType"], system_group["scalingConfig"]["minSize"],
            system_group["scalingConfig"]["maxSize"], system_group["instanceTypes"]) == (capacity, low, high, types)
    capacity, low, high = gpu
    assert (gpu_group["capacityType"], gpu_group["scalingConfig"]["minSize"],
            gpu_group["scalingConfig"]["maxSize"]) == (capacity, low, high)
    assert gpu_group["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]


@pytest.mark.parametrize(("stack", "nodes", "multi_az"), [("dev", 1, False), ("staging", 2, True), ("prod", 2, True)])
def test_redis_presets(plans, stack, nodes, multi_az):
    cache = plans[stack].one(CACHE).inputs
    assert (cache["numCacheClusters"], cache["multiAzEnabled"], cache["automaticFailoverEnabled"]) == (
        nodes, multi_az, multi_az)
    assert cache["atRestEncryptionEnabled"] is True and cache["transitEncryptionEnabled"] is True
    assert cache["authToken"] == "[secret]"


@pytest.mark.parametrize(("stack", "replicas", "pdb_min"), [("dev", 1, None), ("staging", 2, 1), ("prod", 3, 2)])
def test_api_replicas_and_disruption_budgets(plans, stack, replicas, pdb_min):
    plan = plans[stack]
    hpa = plan.named(f"{stack}-rag-api-hpa", HPA).inputs["spec"]
    assert hpa["minReplicas"] == replicas
    pdbs = {p.name: p.inputs["spec"]["minAvailable"] for p in plan.of_type(PDB)}
    assert pdbs.get(f"{stack}-rag-api-pdb") == pdb_min


@pytest.mark.parametrize(("stack", "parked"), [("dev", True), ("staging", True), ("prod", False)])
def test_gpu_model_server_scales_to_zero_outside_prod(plans, stack, parked):
    plan = plans[stack]
    deployment = plan.named(f"{stack}-chat-model-deployment", "kubernetes:apps/v1:Deployment").inputs
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert (deployment["spec"].get("replicas") == 0) is parked
    has_hpa = any(h.name == f"{stack}-chat-model-hpa" for h in plan.of_type(HPA))
    assert has_hpa is not parked


@pytest.mark.parametrize(("stack", "min_instances"), [("dev", 0), ("staging", 0), ("prod", 1)])
def test_cloud_run_min_instances_and_private_invoker(plans, stack, min_instances):
    plan = plans[stack]
    service = plan.one("gcp:cloudrunv2/service:Service").inputs
    assert service["template"]["scaling"]["minInstanceCount"] == min_instances
    members = [m.inputs["member"] for m in plan.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")]
    assert "allUsers" not in members


@pytest.mark.parametrize(("stack", "protected"), [("dev", False), ("staging", True), ("prod", True)])
def test_stateful_resources_are_protected_from_staging_on(plans, stack, protected):
    plan = plans[stack]
    stateful = (plan.of_type(DB) + plan.of_type("aws:s3/bucket:Bucket") + plan.of_type("aws:sqs/queue:Queue")
                + plan.of_type(CACHE))
    assert len(stateful) == 2 + 3 + 2 + 1  # 2 databases; documents, artifacts, LB-log buckets; queue + DLQ; cache
    assert {r.protect for r in stateful} == {protected}


def _granted_actions(plan: Plan, role_component: str) -> set[str]:
    component = next(r for r in plan.resources if r.type == "genai:aws:WorkloadRole" and r.name == role_component)
    return {action for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy") if policy.parent == component.urn
            for statement in json.loads(policy.inputs["policy"])["Statement"] for action in statement["Action"]}


@pytest.mark.parametrize(("workload", "actions"), [
    ("rag-api", {"s3:ListBucket", "s3:GetObject", "kms:Decrypt", "sqs:SendMessage", "sqs:GetQueueAttributes",
                 "secretsmanager:GetSecretValue"}),
    ("rag-worker", {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
                    "s3:ListBucket", "s3:GetObject", "kms:Decrypt", "secretsmanager:GetSecretValue"}),
    ("tabular-scoring", {"s3:ListBucket", "s3:GetObject", "kms:Decrypt", "secretsmanager:GetSecretValue"}),
])
def test_workload_roles_grant_exactly_what_each_workload_does(plans, workload, actions):
    for stack, plan in plans.items():
        assert _granted_actions(plan, f"{stack}-{workload}") == actions


def test_workload_roles_are_bound_to_their_own_service_accounts(plans):
    plan = plans["prod"]
    subjects = set()
    for role in plan.of_type("aws:iam/role:Role"):
        if role.name.startswith(("prod-rag-", "prod-tabular-scoring")) and role.name.endswith("-role"):
            condition = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
            subjects |= {value for key, value in condition.items() if key.endswith(":sub")}
    assert subjects == {"system:serviceaccount:rag:prod-rag-api", "system:serviceaccount:rag:prod-rag-worker",
                        "system:serviceaccount:tabular:prod-tabular-scoring"}


@pytest.mark.parametrize("stack", STACKS)
def test_exports(plans, stack):
    outputs = plans[stack].outputs
    assert set(outputs) >= {"vpcId", "clusterName", "ragApiHostname", "tabularApiUrl", "mlflowUrl", "chatWebUrl",
                            "chatModelHostname", "queueUrls", "dlqUrls", "databaseEndpoints", "budgetNames",
                            "gcpBudgetName", "databaseIdentifier", "bucketNames", "albTargetGroupArns",
                            "alarmNamePrefix", "dashboardUrl"}
    assert outputs["clusterName"] == f"{stack}-eks"
    assert outputs["queueUrls"]["rag-ingest"].startswith("https://sqs.us-east-1.amazonaws.com/123456789012/")
    assert set(outputs["databaseIdentifier"]) == {"rag", "tabular"}
    assert outputs["alarmNamePrefix"] == f"{stack}-"
    assert outputs["chatWebUrl"].startswith("https://") and outputs["chatWebUrl"].endswith(".a.run.app")


@pytest.mark.parametrize("stack", STACKS)
def test_no_mandatory_policy_violation(plans, stack):
    report = policy_check.evaluate(plans[stack], stack, policy_check.load_config(stack))
    assert report.mandatory_violations == []
    assert report.rules >= 45


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_is_valid_for_the_cluster_version(plans, stack):
    version = plans[stack].one("eks:index:Cluster").inputs["version"]
    assert version == "1.36"
    assert validate_plan_manifests(plans[stack], version) == []


@pytest.mark.parametrize("stack", STACKS)
def test_estimate_prices_everything_and_fits_the_budget(plans, stack):
    settings = planning.stack_settings(stack, planning.project_dir())
    estimate = cost.estimate(plans[stack], settings.monthly_budget_usd + settings.gcp_monthly_budget_usd)
    assert estimate.unpriced == []
    assert not estimate.over_budget
    services = set(estimate.by_service())
    assert {f"{stack}-platform", f"{stack}-rag", f"{stack}-tabular", f"{stack}-chat"} <= services


def test_environments_cost_more_as_they_get_stricter(plans):
    monthly = {stack: cost.estimate(plan, None).monthly for stack, plan in plans.items()}
    assert monthly["dev"] < monthly["staging"] < monthly["prod"]


@pytest.mark.parametrize("stack", STACKS)
def test_tabular_services_share_one_ecs_cluster(plans, stack):
    plan = plans[stack]
    cluster = plan.one("aws:ecs/cluster:Cluster")
    services = plan.of_type("aws:ecs/service:Service")
    assert len(services) == 2 and {s.inputs["cluster"] for s in services} == {cluster.outputs["arn"]}
    assert plans[stack].outputs["ecsClusterName"] == cluster.outputs["name"]
    strategies = {s.name: s.inputs.get("deploymentConfiguration", {}).get("strategy") for s in services}
    assert strategies[f"{stack}-tabular-api-service"] == "CANARY"


def test_workloads_wait_for_the_cluster_controllers(plans):
    # depends_on a component expands to the component's own resources: here the Helm releases.
    plan = plans["dev"]
    for deployment in ("dev-rag-api-deployment", "dev-rag-worker-deployment", "dev-chat-model-deployment"):
        dependencies = plan.named(deployment, "kubernetes:apps/v1:Deployment").dependencies
        assert any("genai:aws:ClusterAddons$kubernetes:helm.sh/v3:Release::dev-addons-load-balancer-controller"
                   in urn for urn in dependencies)
        assert any("genai:aws:NvidiaDevicePlugin$kubernetes:helm.sh/v3:Release" in urn for urn in dependencies)
    worker = plan.named("dev-rag-worker-deployment", "kubernetes:apps/v1:Deployment").dependencies
    assert any(urn.endswith("kubernetes:core/v1:Namespace::dev-rag-api-namespace") for urn in worker)


@pytest.mark.parametrize(("stack", "ports"), [("dev", [80, 5432]), ("prod", [5432])])
def test_model_api_may_reach_mlflow_over_the_scheme_it_serves(plans, stack, ports):
    rules = [r.inputs for r in plans[stack].of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
             if r.name.startswith(f"{stack}-tabular-api-service")]
    vpc_ports = sorted(r["fromPort"] for r in rules if r.get("cidrIpv4") == plans[stack].named(
        f"{stack}-network-vpc", "aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    assert vpc_ports == ports
