"""GithubCiIdentity: who may assume the preview and deploy roles (exact trust), and how far a deploy reaches."""

import json
import re

import pytest

from genai_platform.components.aws.ops.ci_identity import (ADMIN_POLICIES, DEPLOY_SERVICES, GithubCiIdentity, GithubCiIdentityArgs,
                                        deploy_policy, _Scope)
from genai_platform import planning
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BASE = dict(repository="acme/genai-platform", environments=["dev", "prod"], region="us-east-1",
            state_bucket_name="acme-genai-pulumi-state", secrets_kms_key_arn=KEY)
ROLE, POLICY = "aws:iam/role:Role", "aws:iam/policy:Policy"
ISSUER = "token.actions.githubusercontent.com"


def plan_identity(**overrides):
    args = GithubCiIdentityArgs(**{**BASE, **overrides})
    return run_under_mocks(lambda: GithubCiIdentity("ci", args), config={"aws:region": "us-east-1"})


@pytest.fixture(scope="module")
def plan():
    return plan_identity()


def trust(plan, role_name):
    role = next(r for r in plan.of_type(ROLE) if r.inputs["name"] == role_name)
    return json.loads(role.inputs["assumeRolePolicy"])["Statement"]


def test_one_oidc_provider_and_two_roles_per_environment(plan):
    provider = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert provider["url"] == f"https://{ISSUER}" and provider["clientIdLists"] == ["sts.amazonaws.com"]
    assert sorted(r.inputs["name"] for r in plan.of_type(ROLE)) == [
        "genai-ci-dev-deploy", "genai-ci-dev-preview", "genai-ci-prod-deploy", "genai-ci-prod-preview"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_deploy_role_trusts_only_this_repositorys_environment(plan, env):
    provider_arn = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").outputs["arn"]
    assert trust(plan, f"genai-ci-{env}-deploy") == [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com",
                                       f"{ISSUER}:sub": f"repo:acme/genai-platform:environment:{env}"}}}]


def test_preview_role_trusts_only_this_repositorys_pull_requests(plan):
    condition = trust(plan, "genai-ci-prod-preview")[0]["Condition"]
    assert condition == {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com",
                                          f"{ISSUER}:sub": "repo:acme/genai-platform:pull_request"}}


def test_an_existing_provider_is_reused():
    existing = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER}"
    plan = plan_identity(oidc_provider_arn=existing)
    assert plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert trust(plan, "genai-ci-dev-deploy")[0]["Principal"] == {"Federated": existing}


def policy_of(plan, name):
    return json.loads(next(r for r in plan.of_type(POLICY) if r.inputs["name"] == name).inputs["policy"])


def actions(statement):
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_no_statement_allows_every_action(plan):
    for name in ("genai-ci-dev-deploy", "genai-ci-dev-preview"):
        for statement in policy_of(plan, name)["Statement"]:
            if statement["Effect"] == "Allow":
                assert "*" not in actions(statement)
                assert not (statement["Resource"] == "*" and any(a.startswith("iam:") and a.endswith("*")
                                                                 for a in actions(statement)))


def test_deploy_reaches_its_region_its_own_iam_names_and_never_its_own_identity(plan):
    statements = {s["Sid"]: s for s in policy_of(plan, "genai-ci-dev-deploy")["Statement"]}
    assert statements["PlatformServices"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    assert statements["EnvironmentIam"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT_ID}:role/dev-*", f"arn:aws:iam::{ACCOUNT_ID}:policy/dev-*",
        f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/dev-*",
        f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/*"]
    assert statements["PassEnvironmentRoles"]["Resource"] == f"arn:aws:iam::{ACCOUNT_ID}:role/dev-*"
    assert statements["NotOwnIdentity"] == {
        "Sid": "NotOwnIdentity", "Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*"],
        "Resource": [f"arn:aws:iam::{ACCOUNT_ID}:role/genai-ci-*", f"arn:aws:iam::{ACCOUNT_ID}:policy/genai-ci-*",
                     f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER}"]}
    denied = statements["NoAdministratorPolicies"]["Condition"]["ArnLike"]["iam:PolicyARN"]
    assert denied == [f"arn:aws:iam::aws:policy/{name}" for name in ADMIN_POLICIES]
    assert statements["StateObjects"]["Resource"] == "arn:aws:s3:::acme-genai-pulumi-state/*"
    assert statements["StackSecrets"]["Resource"] == KEY
    assert statements["KeepSecretsKey"]["Effect"] == "Deny" and statements["KeepSecretsKey"]["Resource"] == KEY
    assert "kms:ScheduleKeyDeletion" in statements["KeepSecretsKey"]["Action"]
    assert statements["KeepStateBucket"]["Resource"] == "arn:aws:s3:::acme-genai-pulumi-state"
    assert "s3:DeleteBucket" in statements["KeepStateBucket"]["Action"]


def test_preview_writes_nothing_but_its_lock(plan):
    statements = policy_of(plan, "genai-ci-prod-preview")["Statement"]
    writes = [s for s in statements if any(a.endswith(("Put" + "Object", "DeleteObject")) for a in actions(s))]
    assert [s["Resource"] for s in writes] == ["arn:aws:s3:::acme-genai-pulumi-state/.pulumi/locks/*"]
    managed = [r.inputs["policyArn"] for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
               if r.inputs["policyArn"].startswith("arn:aws:iam::aws:")]
    assert managed == ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"] * 2


# Pulumi module -> IAM service prefix, where they differ.
SERVICE_OF_MODULE = {"lb": "elasticloadbalancing", "appautoscaling": "application-autoscaling", "vpc": "ec2",
                     "amp": "aps",
                     "cloudwatch/logGroup": "logs", "cloudwatch/eventRule": "events", "cloudwatch/eventTarget": "events"}


def service_of(type_token: str) -> str:
    module_and_type = type_token.split(":")[1]
    module = module_and_type.split("/")[0]
    return SERVICE_OF_MODULE.get(module_and_type, SERVICE_OF_MODULE.get(module, module))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_services_cover_every_aws_resource_the_stack_plans(stack):
    plan = planning.plan_stack(stack, planning.project_dir())
    needed = {service_of(r.type) for r in plan.resources if r.type.startswith("aws:")}
    assert needed - {"iam"} <= set(DEPLOY_SERVICES)
    # the IAM statement is scoped to "<env>-*": every IAM name the stack creates starts with it
    iam_names = [r.name for r in plan.resources if r.type.startswith("aws:iam/")]
    assert iam_names and all(name.startswith(f"{stack}-") for name in iam_names)
    assert not [r for r in plan.resources if r.type.startswith("aws:iam/") and r.inputs.get("name")]


def test_deploys_may_reach_the_dr_region_the_prod_stack_replicates_into():
    plan = planning.plan_stack("prod", planning.project_dir())
    dr_regions = {r.inputs["region"] for r in plan.resources if r.type == "pulumi:providers:aws"}
    assert dr_regions == {"us-west-2"}
    statements = {s["Sid"]: s for s in policy_of(plan_identity(dr_region="us-west-2"), "genai-ci-prod-deploy")["Statement"]}
    assert statements["PlatformServices"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}


@pytest.mark.parametrize("overrides, message", [
    ({"repository": "acme"}, "repository='acme' is not a GitHub repository: use 'owner/name'."),
    ({"environments": []}, "environments is empty: name the environments this account deploys, e.g. ['dev']."),
    ({"environments": ["Prod"]}, "environments contains 'Prod': use lower-case names of up to 20 letters, digits "
                                 "and '-', as the stacks and GitHub environments are named."),
    ({"environments": ["dev", "dev"]}, "environments=['dev', 'dev'] names an environment twice: list each once."),
    ({"region": "useast1"}, "region='useast1' is not an AWS region: use e.g. 'us-east-1'."),
    ({"max_session_hours": 13}, "max_session_hours=13 is out of range: use 1 to 12 hours."),
])
def test_bad_arguments_are_refused(overrides, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        plan_identity(**overrides)


def test_policy_stays_under_the_managed_policy_size_limit():
    scope = _Scope("aws", ACCOUNT_ID, GithubCiIdentityArgs(**BASE))
    assert len(json.dumps(deploy_policy(scope, "staging"), separators=(",", ":"))) < 6144
