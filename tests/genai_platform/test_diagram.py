"""The Mermaid picture of a plan: every service, the resources that matter, stable unique ids, escaped labels."""

import random
import re

from genai_platform.diagram import FORMATS, component_mermaid, document, escape, mermaid, node_id, services_in
from genai_platform.mockcloud import Plan, RecordedResource

STACK = "urn:pulumi:dev::genai-platform::pulumi:pulumi:Stack::genai-platform-dev"
NODE = re.compile(r"^  (\w+)(\(\(|\{\{|\[\(|\[\[|\[/|\(\[|>|\[)\"(.*)\"")
EDGE = re.compile(r"^  (\w+) (-->|-\.->|==>) (\w+)$")


def res(type_token: str, name: str, inputs: dict | None = None, *, parent: str = STACK, custom: bool = True,
        deps: list[str] | None = None) -> RecordedResource:
    prefix = parent.rpartition("::")[0]
    return RecordedResource(urn=f"{prefix}${type_token}::{name}", type=type_token, name=name, parent=parent,
                            custom=custom, protect=False, dependencies=deps or [], inputs=inputs or {})


def plan_of(resources: list[RecordedResource]) -> Plan:
    root = RecordedResource(urn=STACK, type="pulumi:pulumi:Stack", name="genai-platform-dev", parent=None,
                            custom=False, protect=False, dependencies=[], inputs={})
    return Plan("genai-platform", "dev", sorted([root, *resources], key=lambda r: r.urn), {})


def platform() -> list[RecordedResource]:
    net = res("genai:aws:Vpc", "net", custom=False)
    subnets = [res("aws:ec2/subnet:Subnet", f"net-{tier}-us-east-1{zone}", {"tags": {"Tier": tier}}, parent=net.urn)
               for tier in ("public", "private") for zone in "ab"]
    group = res("aws:rds/subnetGroup:SubnetGroup", "net-db", parent=net.urn)

    rag = res("genai:service:Rag", "rag", custom=False)
    database = res("genai:aws:PostgresDatabase", "rag-db", parent=rag.urn, custom=False)
    cluster = res("eks:index:Cluster", "rag-eks", {"skipDefaultNodeGroup": True}, parent=rag.urn, custom=False)

    tabular = res("genai:service:Tabular", "tabular", custom=False)
    api = res("genai:aws:FargateAlbService", "tabular-api", parent=tabular.urn, custom=False)
    alb = res("aws:lb/loadBalancer:LoadBalancer", "tabular-alb", {"loadBalancerType": "application"}, parent=api.urn)
    target_group = res("aws:lb/targetGroup:TargetGroup", "tabular-tg", parent=api.urn)

    chat = res("genai:service:Chat", "chat", custom=False)
    return [
        net, *subnets, group,
        res("aws:ec2/vpc:Vpc", "net-vpc", {"cidrBlock": "10.10.0.0/16"}, parent=net.urn),
        res("aws:ec2/natGateway:NatGateway", "net-nat-0", parent=net.urn),
        res("aws:ec2/natGateway:NatGateway", "net-nat-1", parent=net.urn),
        res("aws:iam/role:Role", "net-flow-logs", parent=net.urn),
        rag, database, cluster,
        res("aws:rds/instance:Instance", "rag-db", {"engine": "postgres", "instanceClass": "db.t4g.micro"},
            parent=database.urn, deps=[group.urn]),
        res("eks:index:ManagedNodeGroup", "rag-nodes", {"cluster": cluster.urn, "instanceTypes": ["t3.large"],
                                                        "scalingConfig": {"desiredSize": 2}}, parent=rag.urn,
            custom=False),
        res("aws:sqs/queue:Queue", "rag-ingest", parent=rag.urn),
        res("aws:s3/bucket:Bucket", "rag-docs", parent=rag.urn),
        res("kubernetes:apps/v1:Deployment", "rag-api", parent=rag.urn),
        res("kubernetes:networking.k8s.io/v1:Ingress", "rag-api", {"spec": {"ingressClassName": "alb"}}, parent=rag.urn),
        tabular, api, alb, target_group,
        res("aws:lb/listener:Listener", "tabular-https", parent=api.urn, deps=[alb.urn, target_group.urn]),
        res("aws:ecs/service:Service", "tabular-service", {"desiredCount": 2}, parent=api.urn,
            deps=[target_group.urn]),
        chat,
        res("gcp:cloudrunv2/service:Service", "chat-run", {"template": {"scaling": {"minInstanceCount": 0}}},
            parent=chat.urn),
    ]


def parse(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    nodes, edges = {}, []
    for line in text.splitlines()[1:]:
        if match := NODE.match(line):
            assert match.group(1) not in nodes, f"node id defined twice: {match.group(1)}"
            nodes[match.group(1)] = match.group(3)
        elif match := EDGE.match(line):
            edges.append((match.group(1), match.group(2), match.group(3)))
        else:
            assert line.startswith(("  classDef ", "  class ")), f"unexpected line: {line!r}"
    return nodes, edges


def label_of(nodes: dict[str, str], fragment: str) -> str:
    [(node, label)] = [(n, label) for n, label in nodes.items() if fragment in label]
    return node


def test_flowchart_with_every_service_and_unique_defined_ids():
    text = mermaid(plan_of(platform()))
    assert text.startswith("flowchart LR\n")
    nodes, edges = parse(text)
    assert {nodes[n].split("<br/>")[0] for n in services_in(text)} == {"net", "rag", "tabular", "chat"}
    assert all(source in nodes and target in nodes for source, _, target in edges)
    assert len(nodes) == len(set(nodes))


def test_resources_that_matter_are_shown_and_plumbing_is_not():
    nodes, _ = parse(mermaid(plan_of(platform())))
    labels = " | ".join(nodes.values())
    for shown in ("RDS<br/>rag-db", "EKS<br/>rag-eks", "node group<br/>rag-nodes<br/>2 x t3.large", "SQS<br/>rag-ingest",
                  "S3<br/>rag-docs", "Deployment<br/>rag-api", "load balancer<br/>tabular-alb",
                  "ECS service<br/>tabular-service<br/>2 task(s)", "Cloud Run<br/>chat-run<br/>min 0", "Cloud Run URL",
                  "rag-db<br/>PostgresDatabase", "tabular-api<br/>FargateAlbService"):
        assert shown in labels, shown
    for hidden in ("net-flow-logs", "tabular-tg", "tabular-https", "net-public-us-east-1a"):
        assert hidden not in labels


def test_network_is_summarised():
    nodes, _ = parse(mermaid(plan_of(platform())))
    assert nodes[label_of(nodes, "VPC")] == "VPC<br/>net-vpc<br/>10.10.0.0/16 · 4 subnets (2 private, 2 public)"
    assert "NAT gateway x2" in nodes.values()


def test_containment_dependency_and_traffic_edges():
    nodes, edges = parse(mermaid(plan_of(platform())))
    rds, database = label_of(nodes, "RDS<br/>"), label_of(nodes, "<br/>PostgresDatabase")
    net, rag = label_of(nodes, "net<br/>Vpc"), label_of(nodes, "rag<br/>Rag")
    alb, ecs = label_of(nodes, "tabular-alb"), label_of(nodes, "tabular-service")
    url, run = label_of(nodes, "Cloud Run URL"), label_of(nodes, "Cloud Run<br/>chat-run")
    group, cluster = label_of(nodes, "rag-nodes"), label_of(nodes, "EKS<br/>")
    assert (rag, "-->", database) in edges and (database, "-->", rds) in edges
    assert (rds, "-.->", net) in edges            # the database lives on the network's subnet group
    assert (group, "-.->", cluster) in edges       # a remote node group names its cluster by URN
    assert (alb, "==>", ecs) in edges              # listener and service share a target group
    assert (label_of(nodes, "Ingress<br/>rag-api"), "==>", label_of(nodes, "Deployment<br/>rag-api")) in edges
    assert (url, "==>", run) in edges


def test_output_is_stable_whatever_the_resource_order():
    resources = platform()
    first = mermaid(plan_of(resources))
    shuffled = list(resources)
    random.Random(7).shuffle(shuffled)
    root = plan_of([])
    assert mermaid(Plan("genai-platform", "dev", root.resources + shuffled, {})) == first


def test_labels_are_escaped_and_ids_are_safe():
    assert escape('say "hi" #1 <b> & `x`') == "say #34;hi#34; #35;1 #60;b#62; #38; #96;x#96;"
    identifier = node_id("res", 'we"ird name/with#chars', "urn:x")
    assert re.fullmatch(r"res_we_ird_name_with_chars_[0-9a-f]{6}", identifier)
    odd = res("aws:s3/bucket:Bucket", 'docs"<end>', parent=STACK)
    nodes, _ = parse(mermaid(plan_of([odd])))
    assert "S3<br/>docs#34;#60;end#62;" in nodes.values()


def test_real_vpc_plan_renders_its_subnet_tiers():
    from genai_platform.components.aws.network.vpc import Vpc, VpcArgs
    from genai_platform.mockcloud import run_under_mocks

    plan = run_under_mocks(lambda: Vpc("net", VpcArgs(zone_count=3, nat_strategy="one_per_az")),
                           config={"aws:region": "us-east-1"})
    nodes, edges = parse(mermaid(plan))
    assert "VPC<br/>net-vpc<br/>10.10.0.0/16 · 9 subnets (3 isolated, 3 private, 3 public)" in nodes.values()
    assert "NAT gateway x3" in nodes.values()
    assert len(services_in(mermaid(plan))) == 1


def two_services() -> list[RecordedResource]:
    platform_ = res("genai:service:Platform", "platform", custom=False)
    network = res("genai:aws:Vpc", "network", parent=platform_.urn, custom=False)
    subnet = res("aws:ec2/subnet:Subnet", "network-private-a", parent=network.urn)
    rag = res("genai:service:Rag", "rag", custom=False)
    database = res("genai:aws:PostgresDatabase", "rag-db", parent=rag.urn, custom=False)
    provisioner = res("genai:aws:WorkloadRole", "rag-db-provisioner", parent=database.urn, custom=False)
    role = res("aws:iam/role:Role", "rag-db-provisioner-role", parent=provisioner.urn)
    instance = res("aws:rds/instance:Instance", "rag-db", parent=database.urn, deps=[subnet.urn, role.urn])
    api = res("genai:k8s:KubeService", "rag-api", parent=rag.urn, custom=False)
    deployment = res("kubernetes:apps/v1:Deployment", "rag-api", parent=api.urn, deps=[instance.urn, role.urn])
    return [platform_, network, subnet, rag, database, provisioner, role, instance, api, deployment]


def test_component_level_groups_components_by_service_with_edges_between_components_only():
    text = component_mermaid(plan_of(two_services()))
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    subgraphs = [line.strip() for line in lines if line.strip().startswith("subgraph ")]
    assert [s.split('["')[1] for s in subgraphs] == ['platform · Platform"]', 'rag · Rag"]']
    components = re.findall(r'^    (cmp_\w+)\["([^"]*)"\]$', text, flags=re.MULTILINE)
    labels = {label.split("<br/>")[0]: node for node, label in components}
    # the provisioner is a component of the database: folded into it, its role counted there
    assert sorted(labels) == ["network", "rag-api", "rag-db"]
    assert "rag-db<br/>PostgresDatabase · 2 resources" in text and "network<br/>Vpc · 1 resource\"" in text
    edges = re.findall(r"^  (\w+) --> (\w+)$", text, flags=re.MULTILINE)
    assert sorted(edges) == sorted([(labels["rag-db"], labels["network"]), (labels["rag-api"], labels["rag-db"])])
    assert not [line for line in lines if line.startswith("  res_") or "-.->" in line or "==>" in line]
    assert services_in(text) == [s.split("[")[0].split()[1] for s in subgraphs]


def test_the_diagram_file_format_follows_the_extension():
    plan = plan_of(two_services())
    assert document(plan, ".mmd") == component_mermaid(plan)
    assert document(plan, ".md", "resource") == f"# genai-platform / dev\n\n```mermaid\n{mermaid(plan)}```\n"
    assert set(FORMATS) == {".md", ".mmd"}
