"""No workload of the stacks mounts a Kubernetes API token, and every IRSA workload keeps its role."""

import pytest

SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
IRSA = "eks.amazonaws.com/role-arn"


@pytest.fixture(scope="module")
def prod(stack_plans):
    return stack_plans["prod"]


def pod_specs(plan):
    for workload in plan.of_type("kubernetes:apps/v1:Deployment") + plan.of_type("kubernetes:batch/v1:CronJob"):
        spec = workload.inputs["spec"]
        template = spec["jobTemplate"]["spec"]["template"] if "jobTemplate" in spec else spec["template"]
        yield workload.name, template["spec"]


def test_no_workload_mounts_a_token_and_irsa_workloads_keep_their_roles(prod):
    accounts = {sa.inputs["metadata"]["name"]: sa.inputs for sa in prod.of_type(SERVICE_ACCOUNT)}
    specs = dict(pod_specs(prod))
    # The one exception: the OpenTelemetry collector discovers scrape targets through the Kubernetes API, with a
    # read-only ClusterRole (components/k8s/otel_collector.py SCRAPE_RULES).
    collector = specs.pop("prod-otel-collector-deployment")
    assert collector["automountServiceAccountToken"] is True
    assert accounts[collector["serviceAccountName"]]["metadata"]["annotations"][IRSA] == \
        {r.name: r.outputs["arn"] for r in prod.of_type("aws:iam/role:Role")}["prod-otel-collector-role"]
    assert len(specs) == 4
    roles = {r.name: r.outputs["arn"] for r in prod.of_type("aws:iam/role:Role")}
    with_roles = {}
    for name, spec in specs.items():
        account = accounts[spec["serviceAccountName"]]
        assert spec["automountServiceAccountToken"] is False and account["automountServiceAccountToken"] is False
        annotation = account["metadata"].get("annotations", {}).get(IRSA)
        if annotation:
            with_roles[spec["serviceAccountName"]] = annotation
    # The rag API, worker and LLM and the scoring job reach AWS as their own roles (the LLM as the model store's
    # reader).
    assert with_roles == {**{name: roles[f"{name}-role"] for name in ("prod-rag-api", "prod-rag-worker",
                                                                      "prod-tabular-scoring")},
                          "prod-rag-llm": roles["prod-rag-models-reader-role"]}
