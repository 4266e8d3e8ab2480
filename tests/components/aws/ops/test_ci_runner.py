"""GithubActionsRunner: a CodeBuild GitHub Actions runner in the private subnets, reachable by nobody,
reaching only what it is given, with a role that can do nothing but run."""

import json
import re

import pytest

from genai_platform.components.aws.ops.ci_runner import GithubActionsRunner, GithubActionsRunnerArgs
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

CONNECTION = f"arn:aws:codeconnections:eu-west-1:{ACCOUNT_ID}:connection/0f3c1a52-7d1e-4c55-9d2a-1b2c3d4e5f60"
BASE = dict(vpc_id="vpc-0123", private_subnet_ids=["subnet-0a", "subnet-0b"], repository="acme/genai-platform",
            github_connection_arn=CONNECTION)


def plan_runner(**overrides):
    args = GithubActionsRunnerArgs(**{**BASE, **overrides})
    return run_under_mocks(lambda: GithubActionsRunner("dev-deploy-runner", args), config={"aws:region": "eu-west-1"})


@pytest.fixture(scope="module")
def plan():
    return plan_runner(api_security_group_ids=["sg-0cluster"])


def test_children_exact_types_and_counts(plan):
    runner = plan.one("genai:aws:GithubActionsRunner")
    assert sorted(r.type for r in plan.children(runner.urn)) == sorted([
        "aws:cloudwatch/logGroup:LogGroup", "aws:ec2/securityGroup:SecurityGroup",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:codebuild/project:Project",
        "aws:codebuild/webhook:Webhook"])


def test_project_is_a_private_github_runner_in_the_private_subnets(plan):
    project = plan.one("aws:codebuild/project:Project").inputs
    assert project["name"] == "dev-deploy-runner"
    assert project["source"] == {"type": "GITHUB", "location": "https://github.com/acme/genai-platform.git",
                                 "auth": {"type": "CODECONNECTIONS", "resource": CONNECTION}}
    assert project["vpcConfig"]["subnets"] == ["subnet-0a", "subnet-0b"]
    assert project["vpcConfig"]["vpcId"] == "vpc-0123"
    assert project["environment"]["privilegedMode"] is False
    assert project["projectVisibility"] == "PRIVATE"
    assert project["logsConfig"]["s3Logs"] == {"status": "DISABLED"}
    webhook = plan.one("aws:codebuild/webhook:Webhook").inputs
    assert webhook["filterGroups"] == [{"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}]


def test_nothing_reaches_the_runner_and_it_reaches_https_and_the_given_api_only(plan):
    group = plan.one("aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    egress = plan.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").inputs
    assert (egress["ipProtocol"], egress["fromPort"], egress["toPort"], egress["cidrIpv4"]) == ("tcp", 443, 443,
                                                                                                 "0.0.0.0/0")
    ingress = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    assert ingress["securityGroupId"] == "sg-0cluster"  # a rule on the cluster's group, from the runner's
    assert (ingress["fromPort"], ingress["toPort"]) == (443, 443)
    assert ingress["referencedSecurityGroupId"] == group.id


def test_runners_role_is_codebuilds_for_this_project_and_can_only_log_and_attach(plan):
    trust = json.loads(plan.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                      "ArnLike": {"aws:SourceArn": f"arn:aws:codebuild:eu-west-1:{ACCOUNT_ID}:project/dev-deploy-runner"}}}]
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.startswith(("sts:", "iam:", "eks:", "s3:")) for a in actions)  # deploy rights come from OIDC
    attach = next(s for s in policy["Statement"] if s["Sid"] == "AttachInOwnSubnets")
    assert attach["Condition"]["ArnEquals"]["ec2:Subnet"] == [
        f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:subnet/subnet-0a", f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:subnet/subnet-0b"]
    group = plan.one("aws:ec2/securityGroup:SecurityGroup").id
    create = next(s for s in policy["Statement"] if s["Sid"] == "OwnNetworkInterfaces")
    assert create["Resource"] == [f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:network-interface/*",
                                  f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:security-group/{group}",
                                  *attach["Condition"]["ArnEquals"]["ec2:Subnet"]]
    wildcard = [s for s in policy["Statement"] if s["Resource"] == "*"]
    assert [a for s in wildcard for a in s["Action"] if not a.startswith("ec2:Describe")] == []
    connection = next(s for s in policy["Statement"] if s["Sid"] == "GithubConnection")
    assert connection["Resource"] == CONNECTION


def test_runs_on_label_names_the_project():
    captured = {}

    def program():
        captured["runner"] = GithubActionsRunner("dev-deploy-runner", GithubActionsRunnerArgs(**BASE))

    run_under_mocks(program)
    assert captured["runner"].runs_on == "codebuild-dev-deploy-runner-${{ github.run_id }}-${{ github.run_attempt }}"


@pytest.mark.parametrize("overrides, message", [
    ({"repository": "genai-platform"}, "repository='genai-platform' is not a GitHub repository: use 'owner/name'."),
    ({"github_connection_arn": "arn:aws:iam::123456789012:role/x"},
     "github_connection_arn='arn:aws:iam::123456789012:role/x' is not a CodeConnections connection ARN: create one "
     "for GitHub in the console and use arn:aws:codeconnections:<region>:<account>:connection/<id>."),
    ({"private_subnet_ids": []}, "private_subnet_ids is empty: the runner must run in the VPC's private subnets."),
    ({"compute_type": "BUILD_GENERAL1_2XLARGE"}, "compute_type='BUILD_GENERAL1_2XLARGE': use one of "
     "['BUILD_GENERAL1_SMALL', 'BUILD_GENERAL1_MEDIUM', 'BUILD_GENERAL1_LARGE']."),
    ({"build_timeout_minutes": 3}, "build_timeout_minutes=3 is out of range: use 5 to 2160 minutes."),
    ({"project_name": "-x"}, "project_name='-x' is not a CodeBuild project name: use 2 to 150 letters, digits, '-' "
     "and '_', starting with a letter or digit."),
])
def test_bad_arguments_are_refused(overrides, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        plan_runner(**overrides)
