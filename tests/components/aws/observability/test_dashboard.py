import json
import re

import pulumi
import pytest

from genai_platform.components.aws.observability.dashboard import PANELS, EcsServiceRef, OnCallDashboard, OnCallDashboardArgs
from genai_platform.mockcloud import run_under_mocks

CONFIG = {"aws:region": "eu-west-1"}
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
ALB = "app/tabular-alb/0123456789abcdef"
ALL_SOURCES = {
    "alb_arn_suffixes": {"tabular": ALB},
    "ecs_services": [EcsServiceRef("tabular", "tabular-api")],
    "db_instance_identifiers": ["rag-db"],
    "queue_names": ["rag-ingest"],
    "dlq_names": ["rag-ingest-dlq"],
    "eks_cluster_names": ["genai-eks"],
}


def plan_dashboard(name="oncall", **kwargs):
    def program():
        dashboard = OnCallDashboard(name, OnCallDashboardArgs(**{"region": "eu-west-1", **kwargs}))
        pulumi.export("dashboard_name", dashboard.dashboard_name)
        pulumi.export("dashboard_url", dashboard.dashboard_url)

    return run_under_mocks(program, config=CONFIG)


def widgets(plan) -> list[dict]:
    return json.loads(plan.one(DASHBOARD).inputs["dashboardBody"])["widgets"]


def by_title(plan) -> dict[str, dict]:
    return {w["properties"]["title"]: w["properties"] for w in widgets(plan)}


def test_one_dashboard_under_the_component_with_name_and_console_url():
    plan = plan_dashboard(**ALL_SOURCES)
    assert plan.type_counts() == {"genai:aws:OnCallDashboard": 1, DASHBOARD: 1}
    dashboard = plan.one(DASHBOARD)
    assert dashboard.name == "oncall-dashboard"
    assert dashboard.parent.endswith("genai:aws:OnCallDashboard::oncall")
    assert dashboard.inputs["dashboardName"] == "oncall"
    assert plan.outputs == {
        "dashboard_name": "oncall",
        "dashboard_url": "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
                         "#dashboards:name=oncall",
    }


def test_every_panel_in_on_call_order_three_to_a_row():
    found = widgets(plan_dashboard(**ALL_SOURCES))
    assert [w["properties"]["title"] for w in found] == [panel.title for panel in PANELS]
    assert len(found) == 12
    assert [(w["x"], w["y"], w["width"], w["height"]) for w in found[:4]] == [
        (0, 0, 8, 6), (8, 0, 8, 6), (16, 0, 8, 6), (0, 6, 8, 6)]
    for widget in found:
        assert widget["type"] == "metric"
        properties = widget["properties"]
        assert (properties["region"], properties["view"], properties["period"]) == ("eu-west-1", "timeSeries", 60)


def test_alb_panels_graph_requests_both_5xx_sources_and_p95_latency_per_load_balancer():
    panels = by_title(plan_dashboard(alb_arn_suffixes={"tabular": ALB, "mlflow": "app/mlflow/fedcba9876543210"}))
    assert set(panels) == {"ALB requests per minute", "ALB 5xx responses per minute",
                           "ALB p95 target response time (seconds)"}
    requests = panels["ALB requests per minute"]
    assert requests["stat"] == "Sum"
    assert requests["metrics"] == [
        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", ALB, {"label": "tabular"}],
        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", "app/mlflow/fedcba9876543210", {"label": "mlflow"}],
    ]
    errors = panels["ALB 5xx responses per minute"]
    assert errors["stat"] == "Sum"
    assert errors["metrics"][:2] == [
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", ALB, {"label": "tabular targets"}],
        ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", ALB, {"label": "tabular load balancer"}],
    ]
    assert len(errors["metrics"]) == 4
    latency = panels["ALB p95 target response time (seconds)"]
    assert latency["stat"] == "p95"
    assert latency["metrics"][0] == ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", ALB,
                                     {"label": "tabular"}]


def test_ecs_panels_graph_cpu_and_memory_per_cluster_and_service():
    panels = by_title(plan_dashboard(ecs_services=[EcsServiceRef("tabular", "tabular-api"),
                                                   EcsServiceRef("tabular", "mlflow")]))
    assert set(panels) == {"ECS CPU utilization (%)", "ECS memory utilization (%)"}
    for title, metric in (("ECS CPU utilization (%)", "CPUUtilization"),
                          ("ECS memory utilization (%)", "MemoryUtilization")):
        assert panels[title]["stat"] == "Average"
        assert panels[title]["yAxis"] == {"left": {"min": 0, "max": 100}}
        assert panels[title]["metrics"] == [
            ["AWS/ECS", metric, "ClusterName", "tabular", "ServiceName", "tabular-api", {"label": "tabular/tabular-api"}],
            ["AWS/ECS", metric, "ClusterName", "tabular", "ServiceName", "mlflow", {"label": "tabular/mlflow"}],
        ]


def test_rds_panels_graph_cpu_connections_and_free_storage():
    panels = by_title(plan_dashboard(db_instance_identifiers=["rag-db", "mlflow-db"]))
    expected = {"RDS CPU utilization (%)": ("CPUUtilization", "Average"),
                "RDS database connections": ("DatabaseConnections", "Maximum"),
                "RDS free storage space (bytes)": ("FreeStorageSpace", "Minimum")}
    assert set(panels) == set(expected)
    for title, (metric, stat) in expected.items():
        assert panels[title]["stat"] == stat
        assert panels[title]["metrics"] == [
            ["AWS/RDS", metric, "DBInstanceIdentifier", "rag-db", {"label": "rag-db"}],
            ["AWS/RDS", metric, "DBInstanceIdentifier", "mlflow-db", {"label": "mlflow-db"}],
        ]


def test_sqs_panels_graph_depth_and_age_of_queues_and_depth_of_dead_letter_queues():
    panels = by_title(plan_dashboard(queue_names=["rag-ingest"], dlq_names=["rag-ingest-dlq"]))
    assert panels["SQS messages waiting"]["metrics"] == [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "rag-ingest", {"label": "rag-ingest"}]]
    assert panels["SQS age of the oldest message (seconds)"]["metrics"] == [
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "rag-ingest", {"label": "rag-ingest"}]]
    assert panels["Dead-letter queue messages (should be 0)"]["metrics"] == [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "rag-ingest-dlq", {"label": "rag-ingest-dlq"}]]
    assert {p["stat"] for p in panels.values()} == {"Maximum"}


def test_dlq_only_dashboard_has_just_the_dlq_panel():
    assert list(by_title(plan_dashboard(dlq_names=["x-dlq"]))) == ["Dead-letter queue messages (should be 0)"]


def test_eks_panel_uses_the_container_insights_node_count():
    panels = by_title(plan_dashboard(eks_cluster_names=["genai-eks"]))
    assert panels == {"EKS nodes": panels["EKS nodes"]}
    assert panels["EKS nodes"]["metrics"] == [
        ["ContainerInsights", "cluster_node_count", "ClusterName", "genai-eks", {"label": "genai-eks"}]]


def test_outputs_of_other_components_are_filled_in():
    def program():
        OnCallDashboard("oncall", OnCallDashboardArgs(
            region="eu-west-1",
            alb_arn_suffixes={"tabular": pulumi.Output.from_input(ALB)},
            ecs_services=[EcsServiceRef(pulumi.Output.from_input("tabular"), pulumi.Output.from_input("api"))],
            queue_names=[pulumi.Output.from_input("rag-ingest-1a2b3c4")],
        ))

    panels = by_title(run_under_mocks(program, config=CONFIG))
    assert panels["ALB requests per minute"]["metrics"][0][3] == ALB
    assert panels["ECS CPU utilization (%)"]["metrics"][0][2:6] == ["ClusterName", "tabular", "ServiceName", "api"]
    assert panels["SQS messages waiting"]["metrics"][0][3] == "rag-ingest-1a2b3c4"


def test_explicit_dashboard_name():
    plan = plan_dashboard(dashboard_name="oncall-prod", queue_names=["q"])
    assert plan.one(DASHBOARD).inputs["dashboardName"] == "oncall-prod"
    assert plan.outputs["dashboard_url"].endswith("#dashboards:name=oncall-prod")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"region": "", "queue_names": ["q"]},
     "region='' is not an AWS region name: pass the stack's region, e.g. 'us-east-1'."),
    ({"region": "US East", "queue_names": ["q"]},
     "region='US East' is not an AWS region name: pass the stack's region, e.g. 'us-east-1'."),
    ({"dashboard_name": "on call", "queue_names": ["q"]},
     "dashboard_name='on call' is not a CloudWatch dashboard name: use at most 255 letters, digits, '-' or '_' "
     "(pass dashboard_name explicitly)."),
    ({},
     "alb_arn_suffixes, ecs_services, db_instance_identifiers, queue_names, dlq_names and eks_cluster_names are "
     "all empty: the dashboard would have no panels; pass at least one."),
    ({"alb_arn_suffixes": {" ": ALB}},
     "alb_arn_suffixes has an empty label: key each load balancer by a short name, e.g. "
     "{'tabular': lb.arn_suffix}."),
    ({"alb_arn_suffixes": {"tabular": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/" + ALB}},
     "alb_arn_suffixes['tabular']='arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/"
     f"{ALB}' is not an ALB ARN suffix: pass the load balancer's arn_suffix (app/<name>/<16-hex id>), not its ARN "
     "or DNS name."),
    ({"queue_names": ["q", "q"]}, "queue_names lists 'q' twice: list each once."),
    ({"ecs_services": [EcsServiceRef("c", "s"), EcsServiceRef("c", "s")]},
     "ecs_services lists EcsServiceRef(cluster_name='c', service_name='s') twice: list each once."),
])
def test_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_dashboard(**kwargs)


def test_a_component_name_that_is_no_dashboard_name_needs_dashboard_name():
    message = ("dashboard_name='on.call' is not a CloudWatch dashboard name: use at most 255 letters, digits, "
               "'-' or '_' (pass dashboard_name explicitly).")
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_dashboard(name="on.call", queue_names=["q"])
