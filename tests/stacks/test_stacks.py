"""The dev, staging and prod stacks: each plans, holds its tier's presets, grants exactly what each
workload does, passes every mandatory policy and declares only schema-valid Kubernetes objects."""

import json

import pytest

from genai_platform import cost, planning, policy_check
from genai_platform.k8s_schema import validate_plan_manifests
from genai_platform.mockcloud import Plan

STACKS = ("dev", "staging", "prod")
NAT = "aws:ec2/natGateway:NatGateway"
DB = "aws:rds/instance:Instance"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"



def test_every_stack_file_is_planned():
    assert tuple(sorted(planning.stack_names(planning.project_dir()))) == tuple(sorted(STACKS))


@pytest.mark.parametrize(("stack", "zones", "nats", "nat_instances"),
                         [("dev", 2, 0, 1), ("staging", 3, 1, 0), ("prod", 3, 3, 0)])
def test_network_presets(plans, stack, zones, nats, nat_instances):
    plan = plans[stack]
    assert len(plan.of_type(NAT)) == nats
    assert len(plan.of_type("aws:autoscaling/group:Group")) == nat_instances
    egress = [r for r in plan.of_type("aws:ec2/route:Route") if r.name.endswith("-egress")]
    assert len(egress) == zones
    target = "networkInterfaceId" if nat_instances else "natGatewayId"
    assert all(target in route.inputs for route in egress)
    assert len(plan.of_type("aws:ec2/subnet:Subnet")) == 3 * zones


@pytest.mark.parametrize(("stack", "instances", "multi_az", "backup_days", "deletion_protection", "insights",
                          "instance_class"), [
    ("dev", 1, False, 1, False, False, "db.t4g.micro"),  # one instance hosts both databases
    ("staging", 2, True, 7, True, False, "db.t4g.medium"),
    ("prod", 2, True, 30, True, True, "db.r7g.large"),
])
def test_postgres_presets(plans, stack, instances, multi_az, backup_days, deletion_protection, insights,
                          instance_class):
    databases = plans[stack].of_type(DB)
    assert len(databases) == instances  # rag and tabular, or the shared one
    for db in databases:
        inputs = db.inputs
        assert (inputs["multiAz"], inputs["backupRetentionPeriod"], inputs["deletionProtection"],
                inputs["performanceInsightsEnabled"], inputs["instanceClass"]) == (
            multi_az, backup_days, deletion_protection, insights, instance_class)
        assert inputs["storageEncrypted"] is True and inputs["publiclyAccessible"] is False
        assert db.protect is deletion_protection


@pytest.mark.parametrize(("stack", "system"), [
    ("dev", ("SPOT", 2, 3, ["t3.medium"], 30)),
    ("staging", ("ON_DEMAND", 2, 4, ["t3.large"], 50)),
    ("prod", ("ON_DEMAND", 3, 6, ["m6i.large"], 50)),
])
def test_system_node_group_is_the_only_managed_node_group(plans, stack, system):
    (system_group,) = [g.inputs for g in plans[stack].of_type(NODE_GROUP)]
    capacity, low, high, types, root_gib = system
    assert (system_group["capacityType"], system_group["scalingConfig"]["minSize"],
            system_group["scalingConfig"]["maxSize"], system_group["instanceTypes"]) == (capacity, low, high, types)
    (template,) = [t.inputs for t in plans[stack].of_type("aws:ec2/launchTemplate:LaunchTemplate")
                   if t.name.endswith("-system")]
    (disk,) = template["blockDeviceMappings"]
    assert (disk["ebs"]["volumeSize"], disk["ebs"]["volumeType"], disk["ebs"]["encrypted"]) == (root_gib, "gp3", "true")


@pytest.mark.parametrize(("stack", "families", "capacity", "limits"), [
    ("dev", ["g6", "g5"], ["spot"], {"nvidia.com/gpu": "1", "cpu": "8", "memory": "32Gi"}),
    ("staging", ["g6", "g5"], ["spot"], {"nvidia.com/gpu": "2", "cpu": "16", "memory": "64Gi"}),
    ("prod", ["g6", "g6e", "g5"], ["on-demand"], {"nvidia.com/gpu": "4", "cpu": "32", "memory": "64Gi"}),
])
def test_gpu_capacity_is_a_karpenter_node_pool_with_its_ceiling(plans, stack, families, capacity, limits):
    plan = plans[stack]
    pool = plan.named(f"{stack}-gpu-node-pool", NODE_POOL)
    spec = pool.inputs["spec"]
    requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    assert requirements["karpenter.k8s.aws/instance-family"] == families
    assert requirements["karpenter.sh/capacity-type"] == capacity
    assert spec["limits"] == limits
    assert spec["template"]["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmpty"
    node_class = plan.named(f"{stack}-gpu-node-class", NODE_CLASS)
    assert spec["template"]["spec"]["nodeClassRef"]["name"] == node_class.inputs["metadata"]["name"]
    assert node_class.inputs["spec"]["metadataOptions"]["httpTokens"] == "required"
    # The cluster autoscaler and the managed GPU node group are gone: Karpenter is the only node autoscaler.
    releases = {r.inputs["name"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    assert "cluster-autoscaler" not in releases and {"karpenter", "nvidia-device-plugin"} <= releases
    assert plan.outputs["gpuNodePoolName"] == pool.inputs["metadata"]["name"] == f"{stack}-gpu"


@pytest.mark.parametrize("stack", STACKS)
def test_karpenter_discovers_only_the_private_subnets_and_the_node_security_group(plans, stack):
    plan = plans[stack]
    tagged = {s.inputs["tags"]["Tier"] for s in plan.of_type("aws:ec2/subnet:Subnet")
              if s.inputs["tags"].get("karpenter.sh/discovery") == f"{stack}-eks"}
    assert tagged == {"private"}
    (security_group_tag,) = plan.of_type("aws:ec2/tag:Tag")
    assert security_group_tag.inputs["resourceId"] == plan.one("eks:index:Cluster").outputs["clusterSecurityGroupId"]
    assert (security_group_tag.inputs["key"], security_group_tag.inputs["value"]) == ("karpenter.sh/discovery",
                                                                                      f"{stack}-eks")


@pytest.mark.parametrize(("stack", "limits"), [
    ("dev", {"cpu": "4", "memory": "16Gi"}), ("staging", {"cpu": "8", "memory": "32Gi"}),
    ("prod", {"cpu": "16", "memory": "64Gi"}),
])
def test_cpu_overflow_goes_to_a_spot_first_burst_pool(plans, stack, limits):
    spec = plans[stack].named(f"{stack}-burst-node-pool", NODE_POOL).inputs["spec"]
    requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    assert spec["limits"] == limits and "taints" not in spec["template"]["spec"]
    assert len(plans[stack].of_type(NODE_POOL)) == len(plans[stack].of_type(NODE_CLASS)) == 2


@pytest.mark.parametrize("stack", STACKS)
def test_model_server_lands_on_the_gpu_pool_which_the_device_plugin_serves(plans, stack):
    plan = plans[stack]
    pod = plan.named(f"{stack}-rag-llm-deployment", "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    pool = plan.named(f"{stack}-gpu-node-pool", NODE_POOL).inputs["spec"]["template"]
    assert pod["nodeSelector"] == {"karpenter.sh/nodepool": f"{stack}-gpu"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    plugin = next(r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "nvidia-device-plugin")
    (term,) = plugin.inputs["values"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"]
    for expression in term["matchExpressions"]:
        assert pool["metadata"]["labels"][expression["key"]] in expression["values"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in plugin.inputs["values"]["tolerations"]


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


@pytest.mark.parametrize(("stack", "idles", "window"), [("dev", True, False), ("staging", True, True),
                                                     ("prod", False, False)])
def test_the_llm_idles_at_zero_outside_prod_and_keda_owns_its_count(plans, stack, idles, window):
    plan = plans[stack]
    deployment = plan.named(f"{stack}-rag-llm-deployment", "kubernetes:apps/v1:Deployment")
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert deployment.inputs["spec"]["replicas"] == (0 if idles else 1)
    assert not any(h.name.startswith(f"{stack}-rag-llm") for h in plan.of_type(HPA))  # KEDA runs the HPA
    spec = plan.named(f"{stack}-rag-llm-scaled-object", SCALED_OBJECT).inputs["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{stack}-rag-llm"}
    assert spec["minReplicaCount"] == (0 if idles else 1)
    types = [trigger["type"] for trigger in spec["triggers"]]
    # vLLM's waiting requests in Prometheus; staging's awake-hours window is what wakes it from zero.
    assert types == (["prometheus", "cron"] if window else ["prometheus"])


# Buckets: documents, artifacts, LB logs, model weights; from staging on the access-log bucket; in prod
# (cross-region DR) the two replicas and the DR region's access-log bucket.
@pytest.mark.parametrize(("stack", "protected", "buckets"), [("dev", False, 4), ("staging", True, 5),
                                                             ("prod", True, 4 + 1 + 3)])
def test_stateful_resources_are_protected_from_staging_on(plans, stack, protected, buckets):
    plan = plans[stack]
    stateful = (plan.of_type(DB) + plan.of_type("aws:s3/bucket:Bucket") + plan.of_type("aws:sqs/queue:Queue")
                + plan.of_type(CACHE) + plan.of_type(BACKUP_REPLICATION))
    databases = 1 if stack == "dev" else 2  # dev hosts both databases on one instance
    backup_replicas = 2 if stack == "prod" else 0
    # databases; buckets; ingest queue + DLQ and Karpenter's interruption queue + DLQ; cache
    assert len(stateful) == databases + buckets + 4 + 1 + backup_replicas
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
                        "system:serviceaccount:rag:prod-rag-llm", "system:serviceaccount:tabular:prod-tabular-scoring"}


@pytest.mark.parametrize("stack", STACKS)
def test_exports(plans, stack):
    outputs = plans[stack].outputs
    assert set(outputs) >= {"vpcId", "clusterName", "ragApiHostname", "tabularApiUrl", "mlflowUrl", "chatWebUrl",
                            "chatModelUrl", "queueUrls", "dlqUrls", "databaseEndpoints", "budgetNames",
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
    for deployment in ("dev-rag-api-deployment", "dev-rag-worker-deployment", "dev-rag-llm-deployment"):
        dependencies = plan.named(deployment, "kubernetes:apps/v1:Deployment").dependencies
        assert any("genai:aws:ClusterAddons$kubernetes:helm.sh/v3:Release::dev-addons-load-balancer-controller"
                   in urn for urn in dependencies)
        assert any("genai:aws:NvidiaDevicePlugin$kubernetes:helm.sh/v3:Release" in urn for urn in dependencies)
    # Only the GPU workload waits for the GPU NodePool.
    model = plan.named("dev-rag-llm-deployment", "kubernetes:apps/v1:Deployment").dependencies
    assert any(urn.endswith("kubernetes:karpenter.sh/v1:NodePool::dev-gpu-node-pool") for urn in model)
    api = plan.named("dev-rag-api-deployment", "kubernetes:apps/v1:Deployment").dependencies
    assert not any("KarpenterNodePool" in urn for urn in api)
    worker = plan.named("dev-rag-worker-deployment", "kubernetes:apps/v1:Deployment").dependencies
    assert any(urn.endswith("kubernetes:core/v1:Namespace::dev-rag-api-namespace") for urn in worker)


# 4318: the OTel collector's NLB, which prod has (ecsOtlpLoadBalancer) and dev does not.
@pytest.mark.parametrize(("stack", "ports"), [("dev", [80, 5432]), ("prod", [4318, 5432])])
def test_model_api_may_reach_mlflow_over_the_scheme_it_serves(plans, stack, ports):
    rules = [r.inputs for r in plans[stack].of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
             if r.name.startswith(f"{stack}-tabular-api-service")]
    vpc_ports = sorted(r["fromPort"] for r in rules if r.get("cidrIpv4") == plans[stack].named(
        f"{stack}-network-vpc", "aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    assert vpc_ports == ports


@pytest.mark.parametrize("stack", STACKS)
def test_model_api_and_mlflow_share_one_load_balancer(plans, stack):
    plan = plans[stack]
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.name == f"{stack}-tabular-lb-alb" and alb.inputs["internal"] is True
    assert alb.inputs["accessLogs"]["enabled"] is True
    assert alb.inputs["enableDeletionProtection"] is (stack != "dev")
    rules = {r.name: r.inputs for r in plan.of_type("aws:lb/listenerRule:ListenerRule")}
    assert {name: (r["priority"], r["conditions"][0]["pathPattern"]["values"]) for name, r in rules.items()} == {
        f"{stack}-tabular-mlflow-route": (10, ["/mlflow", "/mlflow/*"]),
        f"{stack}-tabular-api-production": (100, ["/*"]),  # the canary re-weights it
    }
    mlflow_task = plan.named(f"{stack}-tabular-mlflow-task", "aws:ecs/taskDefinition:TaskDefinition")
    environment = {e["name"]: e["value"] for e in json.loads(mlflow_task.inputs["containerDefinitions"])[0]["environment"]}
    assert environment["MLFLOW_STATIC_PREFIX"] == "/mlflow"
    api_task = plan.named(f"{stack}-tabular-api-task", "aws:ecs/taskDefinition:TaskDefinition")
    api_environment = {e["name"]: e["value"] for e in json.loads(api_task.inputs["containerDefinitions"])[0]["environment"]}
    assert api_environment["MLFLOW_TRACKING_URI"] == plan.outputs["mlflowUrl"]
    assert plan.outputs["mlflowUrl"] == plan.outputs["tabularApiUrl"] + "/mlflow"
    mlflow_group = plan.named(f"{stack}-tabular-mlflow-tg", "aws:lb/targetGroup:TargetGroup")
    assert mlflow_group.inputs["healthCheck"]["path"] == "/mlflow/health"


@pytest.mark.parametrize(("stack", "spot"), [("dev", True), ("staging", False), ("prod", False)])
def test_tabular_tasks_run_on_fargate_spot_only_in_dev(plans, stack, spot):
    for service in plans[stack].of_type("aws:ecs/service:Service"):
        if spot:
            assert service.inputs["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
            assert "launchType" not in service.inputs
        else:
            assert service.inputs["launchType"] == "FARGATE" and "capacityProviderStrategies" not in service.inputs


def test_dev_hosts_each_service_database_with_its_own_user_and_secret_on_one_instance(plans):
    plan = plans["dev"]
    instance = plan.one(DB)
    assert instance.name == "dev-postgres-db" and instance.inputs["dbName"] == "platform"
    tenants = {r.name for r in plan.resources if r.type == "genai:aws:PostgresTenantDatabase"}
    assert tenants == {"dev-rag-db", "dev-tabular-db"}
    secrets = {r.name: r for r in plan.of_type("aws:secretsmanager/secret:Secret")}
    assert set(secrets) == {"dev-rag-db-secret", "dev-tabular-db-secret"}
    assert {s.inputs["kmsKeyId"] for s in secrets.values()} == {plan.named("dev-postgres-key", "aws:kms/key:Key").outputs["arn"]}
    jobs = {j.name: j.inputs for j in plan.of_type("kubernetes:batch/v1:Job")}
    env = {name: {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
           for name, job in jobs.items()}
    assert {(e["DB_NAME"], e["DB_USER"], e["PGHOST"]) for e in env.values()} == {
        ("rag", "rag_app", instance.outputs["address"]), ("mlflow", "mlflow_app", instance.outputs["address"])}
    assert 'CREATE EXTENSION IF NOT EXISTS "vector"' in jobs["dev-rag-db-provision"]["spec"]["template"]["spec"][
        "containers"][0]["command"][2]
    # Each service reads its own secret only: the rag workloads the rag one, the Fargate tasks the tabular one.
    rag_api = plan.named("dev-rag-api-deployment", "kubernetes:apps/v1:Deployment").inputs
    rag_env = {e["name"]: e.get("value") for e in rag_api["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert rag_env["DB_SECRET_ARN"] == secrets["dev-rag-db-secret"].outputs["arn"]
    assert plan.outputs["databaseSecrets"] == {"rag": secrets["dev-rag-db-secret"].outputs["arn"],
                                               "tabular": secrets["dev-tabular-db-secret"].outputs["arn"]}
    read = json.loads(plan.named("dev-rag-api-read-db-secret", "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert read["Statement"][0]["Resource"] == [secrets["dev-rag-db-secret"].outputs["arn"]]
    task = plan.named("dev-tabular-api-task", "aws:ecs/taskDefinition:TaskDefinition")
    task_secrets = {s["name"]: s["valueFrom"] for s in json.loads(task.inputs["containerDefinitions"])[0]["secrets"]}
    assert task_secrets["DB_PASSWORD"] == secrets["dev-tabular-db-secret"].outputs["arn"] + ":password::"
    # The instance admits the cluster's nodes (the Jobs, the rag pods) and both Fargate services.
    admitted = {r.name for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                if r.name.startswith("dev-postgres-sg-from-")}
    assert admitted == {"dev-postgres-sg-from-0", "dev-postgres-sg-from-mlflow-mlflow",
                        "dev-postgres-sg-from-mlflow-model-api"}
    sources = {plan.named(name, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs[
        "referencedSecurityGroupId"] for name in admitted}
    cluster = plan.one("eks:index:Cluster")
    assert sources == {cluster.outputs["clusterSecurityGroupId"],
                       plan.named("dev-tabular-mlflow-service-sg", "aws:ec2/securityGroup:SecurityGroup").id,
                       plan.named("dev-tabular-api-service-sg", "aws:ec2/securityGroup:SecurityGroup").id}
