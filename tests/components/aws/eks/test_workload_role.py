import json
import re

import pytest

from genai_platform.components.aws.eks.workload_role import WorkloadRole, WorkloadRoleArgs
from genai_platform.mockcloud import run_under_mocks

OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
OIDC_URL = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
READ = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::docs/*"]}]})


def args(**overrides):
    return WorkloadRoleArgs(**{"oidc_provider_arn": OIDC_ARN, "oidc_provider_url": OIDC_URL, "namespace": "rag",
                               "service_account": "rag-api", "policies": {"read-docs": READ}, **overrides})


def test_role_trusts_only_the_service_account_and_carries_exactly_the_policies():
    plan = run_under_mocks(lambda: WorkloadRole("rag-api", args()))
    assert sorted(plan.type_counts().items()) == [("aws:iam/role:Role", 1), ("aws:iam/rolePolicy:RolePolicy", 1),
                                                  ("genai:aws:WorkloadRole", 1)]
    trust = json.loads(plan.one("aws:iam/role:Role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Federated": OIDC_ARN}
    assert trust["Condition"]["StringEquals"] == {
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:rag:rag-api",
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"}
    policy = plan.one("aws:iam/rolePolicy:RolePolicy")
    assert policy.name == "rag-api-read-docs" and policy.inputs["policy"] == READ
    assert "managedPolicyArns" not in plan.one("aws:iam/role:Role").inputs


@pytest.mark.parametrize(("overrides", "message"), [
    ({"namespace": "Rag"}, "namespace='Rag' is not a Kubernetes name: use lower-case letters, digits and '-', "
                           "at most 63 characters."),
    ({"service_account": "rag_api"}, "service_account='rag_api' is not a Kubernetes name"),
    ({"policies": {}}, "policies={} grants nothing: name at least one policy, or give the workload no role."),
])
def test_bad_arguments_are_refused(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run_under_mocks(lambda: WorkloadRole("rag-api", args(**overrides)))


def test_a_name_too_long_for_the_role_is_refused():
    # Pulumi names the role "<name>-role-<7 hex>"; IAM allows 64 characters and the provider only refuses
    # a longer one at `pulumi preview`, which the offline plan never runs.
    name = "staging-" + "w" * 44
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: WorkloadRole(name, args()))
    assert str(error.value) == (
        f"name='{name}' has 52 characters, too many for the IAM role named '{name}-role-' plus 7 random "
        "characters (at most 64): use a component name of at most 51 characters.")
    assert len(run_under_mocks(lambda: WorkloadRole(name[:-1], args())).one("aws:iam/role:Role").outputs["name"]) == 64
