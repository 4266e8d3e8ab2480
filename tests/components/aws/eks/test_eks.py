import json
import re

import pulumi
import pytest

from genai_platform.components.aws.eks.cluster import CLUSTER_ADMIN_POLICY, EksCluster, EksClusterArgs
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks
from genai_platform.mockcloud.runner import RecordingMonitor

CLUSTER = "eks:index:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SUBNETS = ["subnet-0aaa", "subnet-0bbb"]
ADMIN = f"arn:aws:iam::{ACCOUNT_ID}:role/platform-admin"


def plan_cluster(**overrides):
    def program():
        args = {"vpc_id": "vpc-0123", "private_subnet_ids": SUBNETS, **overrides}
        cluster = EksCluster("core", EksClusterArgs(**args))
        for output in ("cluster_name", "kubeconfig", "oidc_provider_arn", "oidc_provider_url",
                       "cluster_security_group_id", "node_role_arn"):
            pulumi.export(output, getattr(cluster, output))

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


@pytest.fixture(scope="module")
def default_plan():
    return plan_cluster(admin_role_arns=[ADMIN])


def test_children_exact_types_and_counts(default_plan):
    assert default_plan.type_counts() == {
        "genai:aws:EksCluster": 1,
        CLUSTER: 1,
        "aws:cloudwatch/logGroup:LogGroup": 1,
        "aws:kms/key:Key": 1,
        "aws:kms/alias:Alias": 1,
        ROLE: 2,  # node, vpc-cni (IRSA); the cluster role is pulumi-eks' own
        ATTACHMENT: 3,
        ADDON: 3,
        LAUNCH_TEMPLATE: 1,
        NODE_GROUP: 1,
        "pulumi:providers:kubernetes": 1,
    }


def test_control_plane_is_private_api_only_and_has_no_implicit_nodes(default_plan):
    cluster = default_plan.one(CLUSTER)
    assert cluster.remote is True
    inputs = cluster.inputs
    assert inputs["name"] == "core"
    assert inputs["version"] == "1.36"
    assert inputs["endpointPrivateAccess"] is True
    assert inputs["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in inputs
    assert inputs["authenticationMode"] == "API"
    assert inputs["privateSubnetIds"] == SUBNETS
    assert inputs["vpcId"] == "vpc-0123"
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["skipDefaultSecurityGroups"] is True
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert inputs["useDefaultVpcCni"] is True
    assert inputs["corednsAddonOptions"]["enabled"] is False
    assert inputs["kubeProxyAddonOptions"]["enabled"] is False
    assert inputs["createOidcProvider"] is True
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["deletionProtection"] is False
    assert cluster.parent.endswith("genai:aws:EksCluster::core")


def test_admins_get_cluster_admin_access_entries(default_plan):
    assert default_plan.one(CLUSTER).inputs["accessEntries"] == {
        "admin-platform-admin": {
            "principalArn": ADMIN,
            "accessPolicies": {"cluster-admin": {"policyArn": CLUSTER_ADMIN_POLICY, "accessScope": {"type": "cluster"}}},
        }
    }


def test_audit_logs_go_to_a_log_group_with_retention_created_before_the_cluster(default_plan):
    cluster = default_plan.one(CLUSTER)
    group = default_plan.one("aws:cloudwatch/logGroup:LogGroup")
    assert cluster.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    assert group.inputs["name"] == "/aws/eks/core/cluster"
    assert group.inputs["retentionInDays"] == 90
    assert group.urn in cluster.dependencies


def test_secrets_are_encrypted_with_a_rotating_key(default_plan):
    key = default_plan.one("aws:kms/key:Key")
    cluster = default_plan.one(CLUSTER)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert cluster.inputs["encryptionConfigKeyArn"] == key.outputs["arn"]
    assert default_plan.one("aws:kms/alias:Alias").inputs["name"] == "alias/eks/core"
    # Only plain values go into the remote component: resource references cannot cross the offline mocks.
    assert "serviceRole" not in cluster.inputs


def test_a_given_secrets_key_is_used_instead_of_creating_one():
    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
    plan = plan_cluster(secrets_kms_key_arn=key_arn)
    assert plan.of_type("aws:kms/key:Key") == []
    assert plan.one(CLUSTER).inputs["encryptionConfigKeyArn"] == key_arn


def test_public_endpoint_only_for_the_listed_networks():
    inputs = plan_cluster(endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24"]).one(CLUSTER).inputs
    assert inputs["endpointPublicAccess"] is True
    assert inputs["endpointPrivateAccess"] is True
    assert inputs["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_public_endpoint_from_anywhere_is_an_explicit_opt_in():
    inputs = plan_cluster(endpoint_public_access=True, allow_public_endpoint_from_anywhere=True).one(CLUSTER).inputs
    assert inputs["publicAccessCidrs"] == ["0.0.0.0/0"]


def test_managed_addons_are_pinned_and_ordered_around_the_system_nodes(default_plan):
    addons = {a.inputs["addonName"]: a for a in default_plan.of_type(ADDON)}
    assert {name: a.inputs["addonVersion"] for name, a in addons.items()} == {
        "vpc-cni": "v1.20.1-eksbuild.3", "kube-proxy": "v1.36.0-eksbuild.14", "coredns": "v1.14.3-eksbuild.3"}
    assert all(a.inputs["clusterName"] == "core" for a in addons.values())
    assert all(default_plan.one(CLUSTER).urn in a.dependencies for a in addons.values())
    system = default_plan.one(NODE_GROUP)
    assert {addons["vpc-cni"].urn, addons["kube-proxy"].urn} <= set(system.dependencies)
    assert system.urn in addons["coredns"].dependencies


def test_network_policies_are_enforced_by_the_vpc_cni_agent(default_plan):
    vpc_cni = default_plan.named("core-vpc-cni", ADDON)
    assert json.loads(vpc_cni.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    off = plan_cluster(network_policy_enforcement=False).named("core-vpc-cni", ADDON)
    assert "configurationValues" not in off.inputs


def test_service_cidr_is_passed_to_the_control_plane(default_plan):
    assert "kubernetesServiceIpAddressRange" not in default_plan.one(CLUSTER).inputs
    cluster = plan_cluster(service_ipv4_cidr="172.20.0.0/16").one(CLUSTER)
    assert cluster.inputs["kubernetesServiceIpAddressRange"] == "172.20.0.0/16"


def test_vpc_cni_runs_with_its_own_irsa_role_and_nodes_lack_cni_rights(default_plan):
    cni_role = default_plan.named("core-vpc-cni", ROLE)
    vpc_cni = default_plan.named("core-vpc-cni", ADDON)
    assert vpc_cni.inputs["serviceAccountRoleArn"] == cni_role.outputs["arn"]
    trust = json.loads(cni_role.inputs["assumeRolePolicy"])["Statement"][0]
    cluster_outputs = default_plan.one(CLUSTER).outputs
    issuer = cluster_outputs["oidcIssuer"]
    assert trust["Principal"] == {"Federated": cluster_outputs["oidcProviderArn"]}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {"StringEquals": {f"{issuer}:sub": "system:serviceaccount:kube-system:aws-node",
                                                   f"{issuer}:aud": "sts.amazonaws.com"}}
    node_role = default_plan.named("core-node", ROLE)
    node_policies = sorted(a.inputs["policyArn"] for a in default_plan.of_type(ATTACHMENT)
                           if a.inputs["role"] == node_role.outputs["name"])
    assert node_policies == ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
                             "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]


def test_nodes_and_the_cni_wait_for_their_iam_policies(default_plan):
    # Real EKS: a node booting before its role's policies are attached never joins, and a destroy that
    # detaches them first cannot drain the nodes. The mocks create everything instantly, so only the
    # recorded dependencies show the order.
    node_role = default_plan.named("core-node", ROLE)
    node_policies = {a.urn for a in default_plan.of_type(ATTACHMENT) if a.inputs["role"] == node_role.outputs["name"]}
    assert len(node_policies) == 2
    assert node_policies <= set(default_plan.one(NODE_GROUP).dependencies)
    cni_policy = default_plan.named("core-vpc-cni", ATTACHMENT)
    assert cni_policy.urn in default_plan.named("core-vpc-cni", ADDON).dependencies


def test_system_nodes_require_imdsv2_and_encrypted_gp3(default_plan):
    template = default_plan.one(LAUNCH_TEMPLATE).inputs
    assert template["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                           "httpPutResponseHopLimit": 1, "instanceMetadataTags": "disabled"}
    assert template["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {
        "volumeSize": 50, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}}]
    assert "imageId" not in template and "instanceType" not in template


def test_system_node_group_shape(default_plan):
    group = default_plan.one(NODE_GROUP)
    inputs = group.inputs
    assert inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert inputs["instanceTypes"] == ["t3.large"]
    assert inputs["capacityType"] == "ON_DEMAND"
    assert inputs["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 4}
    assert inputs["subnetIds"] == SUBNETS
    assert inputs["launchTemplate"]["id"].startswith("lt-0")
    assert inputs["launchTemplate"]["version"] == "1"  # the template's latest version, not "$Latest"
    assert inputs["nodeRoleArn"] == default_plan.named("core-node", ROLE).outputs["arn"]
    assert inputs["labels"] == {"genai-platform/pool": "system"}
    assert inputs["nodeRepairConfig"] == {"enabled": True}
    assert "diskSize" not in inputs  # the launch template owns the volume


def test_desired_size_is_left_to_the_autoscaler(monkeypatch):
    # The recorded plan has no resource options beyond protect/dependencies; read ignoreChanges off the request.
    ignored = {}
    register = RecordingMonitor.RegisterResource

    def recording(self, request):
        ignored[request.name] = list(request.ignoreChanges)
        return register(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", recording)
    plan_cluster()
    assert ignored["core-system"] == ["scalingConfig.desiredSize"]


def test_outputs_and_kubernetes_provider(default_plan):
    outputs = default_plan.outputs
    cluster = default_plan.one(CLUSTER).outputs
    assert outputs["cluster_name"] == "core"
    assert outputs["kubeconfig"] == "[secret]"
    assert outputs["oidc_provider_arn"] == cluster["oidcProviderArn"]
    assert outputs["oidc_provider_url"] == f"https://{cluster['oidcIssuer']}"
    assert outputs["cluster_security_group_id"].startswith("sg-")
    assert outputs["node_role_arn"] == default_plan.named("core-node", ROLE).outputs["arn"]
    provider = default_plan.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert default_plan.one(NODE_GROUP).urn in provider.dependencies


def test_protect_guards_cluster_and_key():
    plan = plan_cluster(protect=True)
    cluster = plan.one(CLUSTER)
    assert cluster.protect is True
    assert cluster.inputs["deletionProtection"] is True
    assert plan.one("aws:kms/key:Key").protect is True


def test_cluster_name_and_system_pool_overrides():
    plan = plan_cluster(cluster_name="genai-dev", system_instance_types=["m6i.large"], system_capacity_type="SPOT",
                        system_min_size=1, system_desired_size=1, system_max_size=3, system_root_volume_gib=80)
    assert plan.one(CLUSTER).inputs["name"] == "genai-dev"
    assert plan.one("aws:cloudwatch/logGroup:LogGroup").inputs["name"] == "/aws/eks/genai-dev/cluster"
    group = plan.one(NODE_GROUP).inputs
    assert (group["instanceTypes"], group["capacityType"]) == (["m6i.large"], "SPOT")
    assert group["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 3}
    assert plan.one(LAUNCH_TEMPLATE).inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 80


@pytest.mark.parametrize("overrides, message", [
    ({"cluster_name": "-bad"}, "cluster_name='-bad' is not a valid EKS name: use up to 100 letters, digits, '-' and "
                               "'_', starting with a letter or digit."),
    ({"private_subnet_ids": ["subnet-0aaa"]},
     "private_subnet_ids has 1 subnet(s): EKS needs subnets in at least two availability zones."),
    ({"kubernetes_version": "1.36.1"}, "kubernetes_version='1.36.1' is not a Kubernetes minor version: use e.g. '1.36'."),
    ({"kubernetes_version": "1.35"},
     "kube_proxy_version='v1.36.0-eksbuild.14' is not built for kubernetes_version='1.35': use a v1.35.x-eksbuild.N "
     "version (aws eks describe-addon-versions --addon-name kube-proxy --kubernetes-version 1.35) and pin "
     "coredns_version and vpc_cni_version for it too."),
    ({"support_type": "LTS"}, "support_type='LTS' is not an EKS support type: use 'STANDARD' or 'EXTENDED'."),
    ({"admin_role_arns": ["arn:aws:iam::123456789012:user/alice"]},
     "admin_role_arns contains 'arn:aws:iam::123456789012:user/alice', which is not an IAM role ARN: "
     "use arn:aws:iam::<account>:role/<name>."),
    ({"admin_role_arns": [ADMIN, "arn:aws:iam::210987654321:role/platform-admin"]},
     f"admin_role_arns names role 'platform-admin' twice ({ADMIN!r} and 'arn:aws:iam::210987654321:role/platform-admin'): "
     "access entries are keyed by role name; list each role once."),
    ({"public_access_cidrs": ["203.0.113.0/24"]},
     "public_access_cidrs=['203.0.113.0/24'] is set but endpoint_public_access is False: set "
     "endpoint_public_access=True or drop the CIDRs."),
    ({"endpoint_public_access": True},
     "endpoint_public_access=True needs public_access_cidrs naming the networks that may reach the API server "
     "(or allow_public_endpoint_from_anywhere=True to accept 0.0.0.0/0)."),
    ({"endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]},
     "public_access_cidrs contains '0.0.0.0/0', which opens the API server to the whole internet: list your "
     "networks or set allow_public_endpoint_from_anywhere=True."),
    ({"endpoint_public_access": True, "public_access_cidrs": ["203.0.113.7/24"]},
     "public_access_cidrs contains '203.0.113.7/24', which is not an IPv4 CIDR block: use e.g. '203.0.113.0/24'."),
    ({"control_plane_log_types": ["api", "kubelet"]},
     "control_plane_log_types contains 'kubelet': use any of ['api', 'audit', 'authenticator', "
     "'controllerManager', 'scheduler']."),
    ({"log_retention_days": 10}, "log_retention_days=10 is not a CloudWatch Logs retention: use one of"),
    ({"system_instance_types": []}, "system_instance_types=[] names no instance type: give at least one, "
                                    "e.g. ['t3.large']."),
    ({"system_capacity_type": "spot"}, "system_capacity_type='spot' is not a capacity type: use 'ON_DEMAND' or 'SPOT'."),
    ({"system_min_size": 3, "system_desired_size": 3, "system_max_size": 2},
     "system_min_size=3 is greater than system_max_size=2: make system_min_size <= system_max_size."),
    ({"system_desired_size": 5}, "system_desired_size=5 is outside [system_min_size=2, system_max_size=4]: "
                                 "pick a value in that range."),
    ({"system_min_size": 0, "system_desired_size": 0},
     "system_min_size=0 leaves CoreDNS and the cluster autoscaler nowhere to run: use at least 1 (2 keeps DNS up "
     "when a node goes)."),
    ({"system_root_volume_gib": 10}, "system_root_volume_gib=10 is out of range: use 20 to 16384 GiB (gp3)."),
    ({"service_ipv4_cidr": "100.64.0.0/16"},
     "service_ipv4_cidr='100.64.0.0/16' is not a range EKS accepts: use a /12 to /24 inside 10.0.0.0/8, "
     "172.16.0.0/12 or 192.168.0.0/16 that does not overlap the VPC, e.g. '172.20.0.0/16'."),
    ({"service_ipv4_cidr": "172.20.0.0/25"}, "service_ipv4_cidr='172.20.0.0/25' is not a range EKS accepts"),
])
def test_validation_messages(overrides, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        plan_cluster(**overrides)
