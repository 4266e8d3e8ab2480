import json

import pytest

from genai_platform.components.aws.observability.grafana import ManagedGrafana, ManagedGrafanaArgs
from genai_platform.mockcloud import ACCOUNT_ID, run_under_mocks

CONFIG = {"aws:region": "us-east-1"}
WORKSPACE_ARN = "arn:aws:aps:us-east-1:123456789012:workspace/ws-1"
ENDPOINT = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/"
DASHBOARD = json.dumps({"uid": "genai-services", "title": "Services", "panels": []})


def plan_grafana(**kwargs):
    args = {"region": "us-east-1", "prometheus_workspace_arn": WORKSPACE_ARN, "prometheus_endpoint": ENDPOINT,
            "dashboards": {"services": DASHBOARD}, **kwargs}
    return run_under_mocks(lambda: ManagedGrafana("grafana", ManagedGrafanaArgs(**args)), config=CONFIG)


def test_workspace_signs_in_through_identity_center_with_a_customer_managed_role():
    plan = plan_grafana()
    workspace = plan.one("aws:grafana/workspace:Workspace").inputs
    role = plan.one("aws:iam/role:Role")
    assert (workspace["accountAccessType"], workspace["authenticationProviders"], workspace["permissionType"]) == \
        ("CURRENT_ACCOUNT", ["AWS_SSO"], "CUSTOMER_MANAGED")
    assert workspace["roleArn"] == role.outputs["arn"]
    assert workspace["dataSources"] == ["PROMETHEUS", "CLOUDWATCH", "XRAY"]
    assert workspace["kmsKeyId"] == plan.one("aws:kms/key:Key").outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "grafana.amazonaws.com"}, "Action": "sts:AssumeRole",
                      "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}}]


def test_role_reads_only_and_queries_one_prometheus_workspace():
    statements = {s["Sid"]: s for s in json.loads(plan_grafana().one("aws:iam/rolePolicy:RolePolicy").inputs[
        "policy"])["Statement"]}
    assert statements["QueryPrometheus"]["Resource"] == [WORKSPACE_ARN]
    verbs = {action.split(":")[1] for s in statements.values() for action in s["Action"]}
    assert all(verb.startswith(("Get", "List", "Describe", "BatchGet", "Query")) for verb in verbs), verbs


def test_data_sources_and_dashboards_are_provisioned_through_the_workspace():
    plan = plan_grafana()
    provider = plan.one("pulumi:providers:grafana")
    workspace = plan.one("aws:grafana/workspace:Workspace")
    assert provider.inputs["url"] == f"https://{workspace.outputs['endpoint']}"
    sources = {r.inputs["uid"]: r for r in plan.of_type("grafana:oss/dataSource:DataSource")}
    assert set(sources) == {"amp", "cloudwatch", "xray"}
    assert sources["amp"].inputs["url"] == ENDPOINT
    assert json.loads(sources["amp"].inputs["jsonDataEncoded"]) == {
        "httpMethod": "POST", "sigV4Auth": True, "sigV4AuthType": "ec2_iam_role", "sigV4Region": "us-east-1"}
    dashboards = plan.of_type("grafana:oss/dashboard:Dashboard")
    assert [d.inputs["configJson"] for d in dashboards] == [DASHBOARD]
    token = plan.one("aws:grafana/workspaceServiceAccountToken:WorkspaceServiceAccountToken").inputs
    assert token["secondsToLive"] == 30 * 24 * 3600


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"authentication_providers": []},
     "authentication_providers=[] is invalid: use ['AWS_SSO'] (IAM Identity Center) and/or ['SAML']."),
    ({"dashboards": {"Services": DASHBOARD}},
     "dashboards key 'Services' is not a short name: use lower-case letters, digits and '-'."),
    ({"dashboards": {"services": "{"}}, "dashboards['services'] is not JSON: pass the dashboard's JSON model."),
    ({"dashboards": {"services": json.dumps({"title": "x"})}},
     "dashboards['services'] has no uid or title: a Grafana dashboard model needs both (a fixed uid keeps its URL "
     "stable)."),
])
def test_validation(kwargs, message):
    args = {"region": "us-east-1", "prometheus_workspace_arn": WORKSPACE_ARN, "prometheus_endpoint": ENDPOINT,
            **kwargs}
    with pytest.raises(ValueError) as error:
        ManagedGrafana("grafana", ManagedGrafanaArgs(**args))
    assert str(error.value) == message
