"""GithubWorkloadIdentity: one pool, a provider that admits only this repository, per-environment accounts
impersonable by exactly one GitHub subject each."""

import pytest

from genai_platform.components.gcp.workload_identity import (DEPLOY_ROLES, PREVIEW_ROLES, GithubWorkloadIdentity,
                                              GithubWorkloadIdentityArgs)
from genai_platform.mockcloud import run_under_mocks

POOL_MEMBER = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/"


@pytest.fixture(scope="module")
def plan():
    args = GithubWorkloadIdentityArgs(repository="acme/genai-platform", environments=["dev", "prod"],
                                      project_number="123456789012", billing_account="01A2B3-C4D5E6-F7A8B9")
    return run_under_mocks(lambda: GithubWorkloadIdentity("ci", args), config={"gcp:project": "genai-dev"})


def test_provider_admits_only_this_repositorys_github_tokens(plan):
    provider = plan.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").inputs
    assert provider["oidc"] == {"issuerUri": "https://token.actions.githubusercontent.com"}
    assert provider["attributeCondition"] == "assertion.repository == 'acme/genai-platform'"
    assert provider["attributeMapping"]["google.subject"] == "assertion.sub"


def test_each_account_is_impersonable_by_one_subject(plan):
    federation = {r.name: r.inputs["member"] for r in plan.of_type("gcp:serviceaccount/iAMMember:IAMMember")}
    assert federation == {
        "ci-dev-preview-federation": POOL_MEMBER + "repo:acme/genai-platform:pull_request",
        "ci-dev-deploy-federation": POOL_MEMBER + "repo:acme/genai-platform:environment:dev",
        "ci-prod-preview-federation": POOL_MEMBER + "repo:acme/genai-platform:pull_request",
        "ci-prod-deploy-federation": POOL_MEMBER + "repo:acme/genai-platform:environment:prod",
    }
    assert {r.inputs["role"] for r in plan.of_type("gcp:serviceaccount/iAMMember:IAMMember")} == {
        "roles/iam.workloadIdentityUser"}


def test_preview_accounts_only_view_and_deploy_accounts_get_the_deploy_roles(plan):
    granted = {name: sorted(r.inputs["role"] for r in plan.of_type("gcp:projects/iAMMember:IAMMember")
                            if r.name.startswith(name + "-"))
               for name in ("ci-dev-preview", "ci-dev-deploy")}
    assert granted == {"ci-dev-preview": sorted(PREVIEW_ROLES), "ci-dev-deploy": sorted(DEPLOY_ROLES)}
    assert not any(role in ("roles/owner", "roles/editor") for role in DEPLOY_ROLES)
    budgets = plan.of_type("gcp:billing/accountIamMember:AccountIamMember")
    assert [(b.inputs["billingAccountId"], b.inputs["role"]) for b in budgets] == [
        ("01A2B3-C4D5E6-F7A8B9", "roles/billing.costsManager")] * 2
