"""genai-infra first-deploy: phase 1 targets the runner, the network and what they need, never anything
behind the private API endpoint; misconfigured stacks are refused with the fix."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genai_platform.cli import main
from genai_platform.commands.first_deploy import bootstrap_targets, engine_urn
from genai_platform import planning

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/genai-ci-dev-deploy"
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0f3c1a52-7d1e-4c55-9d2a-1b2c3d4e5f60"
RUNNER_CONFIG = {"ciGithubRepository": "acme/genai-platform", "ciGithubConnectionArn": CONNECTION,
                 "eksAdminRoleArns": f'["{DEPLOY_ROLE}"]'}


def project(tmp_path: Path, **config: str) -> Path:
    """A copy of the checkout's program with extra dev config."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / "stacks" / "Pulumi.dev.yaml", "a") as stack_file:
        for key, value in config.items():
            stack_file.write(f"  genai-platform:{key}: {value}\n")
    return tmp_path


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    return planning.plan_stack("dev", project(tmp_path_factory.mktemp("first-deploy"), **RUNNER_CONFIG))


def test_phase_one_is_the_runner_the_network_and_the_control_plane_nothing_in_cluster(plan):
    targets = bootstrap_targets(plan)
    prefix = "urn:pulumi:dev::genai-platform::genai:stack:Platform$"
    assert f"{prefix}genai:aws:GithubActionsRunner$aws:codebuild/project:Project::dev-deploy-runner-project" in targets
    assert f"{prefix}genai:aws:GithubActionsRunner$aws:codebuild/webhook:Webhook::dev-deploy-runner-webhook" in targets
    # the way out: dev's NAT instance (its group and network interface) and the private routes through it
    assert f"{prefix}genai:aws:Vpc$aws:autoscaling/group:Group::dev-network-nat-0" in targets
    assert f"{prefix}genai:aws:Vpc$aws:ec2/networkInterface:NetworkInterface::dev-network-nat-0" in targets
    assert [t for t in targets if t.startswith(f"{prefix}genai:aws:Vpc$aws:ec2/route:Route::")]
    assert f"{prefix}genai:aws:EksCluster$eks:index:Cluster::dev-eks-eks" in targets
    assert f"{prefix}genai:aws:EksCluster$eks:index:Cluster$**" in targets  # the remote component's children
    assert not [t for t in targets if "kubernetes:" in t or "NodeGroup" in t or "eks/addon" in t]
    assert not [t for t in targets if "genai:stack:Rag" in t or "genai:stack:Tabular" in t]


def test_targets_are_engine_urns_qualified_by_every_ancestor(plan):
    cluster = plan.one("eks:index:Cluster")  # whatever URN the mocks of this pulumi version record
    assert engine_urn(plan, cluster) == (
        "urn:pulumi:dev::genai-platform::genai:stack:Platform$genai:aws:EksCluster$eks:index:Cluster::dev-eks-eks")


def test_the_runner_is_let_into_the_clusters_security_group(plan):
    rule = plan.named("dev-deploy-runner-api-0").inputs
    assert rule["securityGroupId"] == plan.one("eks:index:Cluster").outputs["clusterSecurityGroupId"]
    assert rule["referencedSecurityGroupId"] == plan.named("dev-deploy-runner-sg").id
    project = plan.one("aws:codebuild/project:Project").inputs
    assert project["vpcConfig"]["subnets"] == [s.id for s in plan.of_type("aws:ec2/subnet:Subnet")
                                               if s.name.startswith("dev-network-private-")]


def test_the_script_runs_one_targeted_update_with_the_policy_pack(tmp_path, capsys):
    code = main(["first-deploy", "dev", "--deploy-role-arn", DEPLOY_ROLE,
                 "--project-dir", str(project(tmp_path, **RUNNER_CONFIG))])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("pulumi up ") == 1
    assert "--policy-pack policies --policy-pack-config policies/config.dev.json" in out
    assert "--target 'urn:pulumi:dev::genai-platform::genai:stack:Platform$genai:aws:GithubActionsRunner::dev-deploy-runner'" in out


@pytest.mark.parametrize("config, message", [
    ({**RUNNER_CONFIG, "eksPublicAccessCidrs": '["203.0.113.0/24"]'},
     "error: dev: eksPublicAccessCidrs=['203.0.113.0/24'] opens the EKS API endpoint: the first deploy never does; "
     "remove it (pulumi config rm genai-platform:eksPublicAccessCidrs)."),
    ({}, "error: dev: the in-VPC runner is not configured: set genai-platform:ciGithubRepository (owner/name) and "
         "genai-platform:ciGithubConnectionArn (a CodeConnections connection to GitHub, created and authorised once "
         "in the console)."),
    ({k: v for k, v in RUNNER_CONFIG.items() if k != "eksAdminRoleArns"},
     f"error: dev: eksAdminRoleArns does not contain {DEPLOY_ROLE}: the deploy job reaches the cluster through that "
     f"role's access entry; run pulumi config set --path 'genai-platform:eksAdminRoleArns[0]' {DEPLOY_ROLE} -s dev."),
])
def test_misconfigured_stacks_are_refused_with_the_fix(tmp_path, capsys, config, message):
    code = main(["first-deploy", "dev", "--deploy-role-arn", DEPLOY_ROLE, "--project-dir", str(project(tmp_path, **config))])
    assert code == 2
    assert capsys.readouterr().err.strip() == message


@pytest.mark.end_to_end
def test_the_console_script_refuses_a_stack_without_the_runner_in_one_line(tmp_path):
    result = subprocess.run([str(Path(sys.executable).parent / "genai-infra"), "first-deploy", "dev",
                             "--deploy-role-arn", DEPLOY_ROLE, "--project-dir", str(project(tmp_path))],
                            capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: dev: the in-VPC runner is not configured: set ")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_stack_with_the_runner_passes_every_mandatory_policy(plan):
    from genai_platform import policy_check

    report = policy_check.evaluate(plan, "prod", policy_check.load_config("prod"))  # the strictest levels
    assert [v for v in report.mandatory_violations if "deploy-runner" in v["urn"]] == []


def test_the_runner_is_listed_as_usage_priced_not_counted_as_free(plan):
    from genai_platform import cost

    estimate = cost.estimate(plan, 10_000)
    assert [u["basis"] for u in estimate.usage_based if u["type"] == "aws:codebuild/project:Project"] == [
        "CodeBuild general1.small Linux $0.005 per build minute (a 30-minute deploy ~$0.15); nothing while idle"]
