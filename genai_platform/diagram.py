"""Mermaid flowcharts of a planned stack, at two levels.

:func:`component_mermaid` (the default of ``plan --diagram``) draws each service as a box holding its
components, and an arrow from a component to each component it depends on (a resource of one refers to a
resource of the other): no resources, no containment arrows, so prod's ~50 components stay readable.

:func:`mermaid` (``--diagram-level resource``) draws services -> components -> the resources that matter.
Solid arrows are containment (parent -> child), dotted arrows dependencies between the nodes shown
(e.g. a database on the network's subnet group), thick arrows traffic (load balancer ==> ECS service,
Ingress ==> the Deployment beside it, Cloud Run URL ==> service). IAM, routes, security groups and other plumbing are
left out; subnets are summarised on their VPC and NAT gateways counted per component. Node ids are
derived from URNs, so the same plan always gives the same text and a diff shows real changes.
"""

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from genai_platform.cost.tree import STACK_TYPE, stack_root
from genai_platform.mockcloud import Plan, RecordedResource

_KINDS: dict[str, tuple[str, str]] = {
    "aws:ec2/vpc:Vpc": ("network", "VPC"),
    "aws:ec2/natGateway:NatGateway": ("network", "NAT gateway"),
    "gcp:compute/network:Network": ("network", "VPC network"),
    "aws:rds/instance:Instance": ("data", "RDS"),
    "aws:rds/cluster:Cluster": ("data", "Aurora"),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("data", "ElastiCache"),
    "aws:elasticache/cluster:Cluster": ("data", "ElastiCache"),
    "aws:elasticache/serverlessCache:ServerlessCache": ("data", "ElastiCache Serverless"),
    "aws:s3/bucket:Bucket": ("data", "S3"),
    "aws:s3/bucketV2:BucketV2": ("data", "S3"),
    "aws:dynamodb/table:Table": ("data", "DynamoDB"),
    "gcp:storage/bucket:Bucket": ("data", "GCS"),
    "gcp:sql/databaseInstance:DatabaseInstance": ("data", "Cloud SQL"),
    "aws:sqs/queue:Queue": ("queue", "SQS"),
    "aws:eks/cluster:Cluster": ("compute", "EKS"),
    "eks:index:Cluster": ("compute", "EKS"),
    "aws:eks/nodeGroup:NodeGroup": ("compute", "node group"),
    "eks:index:ManagedNodeGroup": ("compute", "node group"),
    "eks:index:NodeGroup": ("compute", "node group"),
    "eks:index:NodeGroupV2": ("compute", "node group"),
    "aws:ecs/service:Service": ("compute", "ECS service"),
    "gcp:cloudrunv2/service:Service": ("compute", "Cloud Run"),
    "gcp:cloudrunv2/job:Job": ("compute", "Cloud Run job"),
    "kubernetes:apps/v1:Deployment": ("compute", "Deployment"),
    "kubernetes:batch/v1:CronJob": ("compute", "CronJob"),
    "aws:lb/loadBalancer:LoadBalancer": ("entry", "load balancer"),
    "aws:alb/loadBalancer:LoadBalancer": ("entry", "load balancer"),
    "kubernetes:networking.k8s.io/v1:Ingress": ("entry", "Ingress"),
}
"""Resource types worth a node: (class, label)."""

_COLLAPSED = {"aws:ec2/natGateway:NatGateway"}
"""Types drawn as one node per parent with a count."""

_SHAPES = {
    "stack": '(("{}"))', "service": '{{{{"{}"}}}}', "component": '["{}"]', "network": '[/"{}"/]',
    "data": '[("{}")]', "queue": '>"{}"]', "compute": '[["{}"]]', "entry": '(["{}"])',
}
_STYLES = {
    "stack": "fill:#eeeeee,stroke:#555555",
    "service": "fill:#dbe9ff,stroke:#2f5fa7,font-weight:bold",
    "component": "fill:#ffffff,stroke:#7a7a7a",
    "network": "fill:#efe6ff,stroke:#6b4fa0",
    "data": "fill:#fff1d6,stroke:#b7791f",
    "queue": "fill:#fff1d6,stroke:#b7791f",
    "compute": "fill:#e3f6e8,stroke:#2f855a",
    "entry": "fill:#ffe3e3,stroke:#c53030",
}
_ESCAPES = {"#": "#35;", '"': "#34;", "<": "#60;", ">": "#62;", "&": "#38;", "`": "#96;", "\n": " "}


@dataclass
class _Node:
    id: str
    cls: str
    label: str


def escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for characters Mermaid would parse)."""
    return "".join(_ESCAPES.get(character, character) for character in str(text))


def node_id(prefix: str, name: str, key: str) -> str:
    """A stable, unique, Mermaid-safe id: readable prefix and name, plus a hash of ``key`` (a URN)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")[:32] or "x"
    return f"{prefix}_{slug}_{hashlib.sha1(key.encode()).hexdigest()[:6]}"


def mermaid(plan: Plan, direction: str = "LR") -> str:
    """The stack as a Mermaid ``flowchart`` (without the Markdown fence)."""
    return _Diagram(plan).render(direction)


def component_mermaid(plan: Plan, direction: str = "LR") -> str:
    """The stack's components grouped by service, with their dependencies (without the Markdown fence)."""
    by_urn = {r.urn: r for r in plan.resources}
    root = stack_root(plan)
    services = sorted((r for r in plan.resources if not r.custom and r.parent == (root.urn if root else None)
                       and r.type != STACK_TYPE), key=lambda r: r.urn)
    # A top-level component with no components inside (another team's program composing ours directly) is a
    # component of the stack itself, not an empty service box.
    parents = {r.parent for r in plan.resources if not r.custom}
    loose = [service for service in services if service.urn not in parents]
    services = [service for service in services if service.urn in parents]
    service_urns = {s.urn for s in services}
    components = sorted((r for r in plan.resources if not r.custom and r.parent in service_urns),
                        key=lambda r: r.urn) + loose
    component_urns = {c.urn for c in components}

    def owner(urn: str | None) -> str | None:
        """The component (a service's direct child) a resource belongs to; nested components fold into it."""
        while urn and urn not in component_urns:
            urn = by_urn[urn].parent if urn in by_urn else None
        return urn

    counts = Counter(owner(r.urn) for r in plan.resources if r.custom)
    ids = {c.urn: node_id("cmp", c.name, c.urn) for c in components}
    lines = [f"flowchart {direction}"]
    groups = [(node_id("svc", service.name, service.urn), f"{service.name} · {_short_type(service.type)}",
               [c for c in components if c.parent == service.urn]) for service in services]
    if loose:
        groups.append((node_id("svc", plan.stack, plan.project), f"{plan.project} / {plan.stack}", loose))
    for group, label, members in groups:
        lines.append(f'  subgraph {group}["{escape(label)}"]')
        for component in members:
            count = counts[component.urn]
            lines.append(f'    {ids[component.urn]}["{escape(component.name)}<br/>{escape(_short_type(component.type))}'
                         f' · {count} resource{"" if count == 1 else "s"}"]')
        lines.append("  end")
    edges = sorted({(ids[source], ids[target]) for resource in plan.resources
                    for source in [owner(resource.urn)] if source
                    for target in map(owner, resource.dependencies) if target and target != source})
    lines += [f"  {source} --> {target}" for source, target in edges]
    return "\n".join(lines) + "\n"


class _Diagram:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.resources = sorted(plan.resources, key=lambda r: r.urn)  # the text must not depend on plan order
        self.by_urn = {r.urn: r for r in plan.resources}
        self.root = stack_root(plan)
        self.nodes: dict[str, _Node] = {}
        self.edges: list[tuple[str, str, str]] = []
        self.shown: dict[str, str] = {}
        """URN of a resource or component -> id of the node that stands for it."""
        self.node_parent: dict[str, str] = {}

    def render(self, direction: str) -> str:
        self._build()
        lines = [f"flowchart {direction}"]
        lines += [f"  {n.id}{_SHAPES[n.cls].format(n.label)}" for n in self.nodes.values()]
        seen = set()
        for source, arrow, target in self.edges:
            if (source, target) not in seen and source != target:
                seen.add((source, target))
                lines.append(f"  {source} {arrow} {target}")
        for cls, style in _STYLES.items():
            members = [n.id for n in self.nodes.values() if n.cls == cls]
            if members:
                lines.append(f"  classDef {cls} {style}")
                lines.append(f"  class {','.join(members)} {cls}")
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ nodes

    def _add(self, prefix: str, cls: str, key: str, name: str, label_lines: list[str]) -> str:
        identifier = node_id(prefix, name, key)
        if identifier not in self.nodes:
            self.nodes[identifier] = _Node(identifier, cls, "<br/>".join(escape(line) for line in label_lines if line))
        return identifier

    def _build(self) -> None:
        root_urn = self.root.urn if self.root else None
        root_id = self._add("stack", "stack", root_urn or self.plan.stack, self.root.name if self.root else
                            self.plan.stack, [self.root.name if self.root else f"{self.plan.project}-{self.plan.stack}"])
        if root_urn:
            self.shown[root_urn] = root_id

        # Parents first (a child's URN can sort before its parent's), then by URN for a stable text.
        for resource in sorted(self.resources, key=lambda r: (self._depth(r), r.urn)):
            if resource.type == STACK_TYPE:
                continue
            parent_id = self._nearest_shown(resource.parent) or root_id
            kind = _KINDS.get(resource.type)
            top_level = resource.parent == root_urn or resource.parent is None
            if not resource.custom and top_level:
                identifier = self._add("svc", "service", resource.urn, resource.name,
                                       [resource.name, _short_type(resource.type)])
            elif kind and resource.type in _COLLAPSED:
                identifier = self._collapsed(resource, kind)
            elif kind:
                identifier = self._add("res", kind[0], resource.urn, resource.name,
                                       [kind[1], resource.name, self._detail(resource)])
            elif not resource.custom:
                identifier = self._add("cmp", "component", resource.urn, resource.name,
                                       [resource.name, _short_type(resource.type)])
            else:
                continue
            self.shown[resource.urn] = identifier
            self.node_parent.setdefault(identifier, parent_id)
            self.edges.append((parent_id, "-->", identifier))
            if resource.type == "gcp:cloudrunv2/service:Service":
                url = self._add("url", "entry", resource.urn, resource.name, ["Cloud Run URL", resource.name])
                self.edges.append((url, "==>", identifier))

        self._traffic_edges()
        for resource in self.resources:
            source = self.shown.get(resource.urn)
            if source is None or not source.startswith("res_"):
                continue
            references = list(resource.dependencies)
            if isinstance(resource.inputs.get("cluster"), str):
                references.append(resource.inputs["cluster"])  # remote node groups name their cluster by URN
            targets = {self._nearest_shown(urn) for urn in references} - self._node_ancestors(source) - {None, source}
            # An edge to a service is implied by an edge to something inside it: keep the finest.
            coarse = {ancestor for target in targets for ancestor in self._node_ancestors(target)}
            for target in sorted(targets - coarse):
                if not target.startswith("stack_"):
                    self.edges.append((source, "-.->", target))

    def _traffic_edges(self) -> None:
        """Load balancer ==> ECS service, through the target groups their listeners and the service share."""
        groups_of: dict[str, set[str]] = {}
        for listener in self.resources:
            if listener.type not in ("aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule"):
                continue
            linked = [self.by_urn[u] for u in listener.dependencies if u in self.by_urn]
            if listener.type.endswith("ListenerRule"):  # a rule names its listener, the listener its LB
                linked += [self.by_urn[u] for r in linked if r.type == "aws:lb/listener:Listener"
                           for u in r.dependencies if u in self.by_urn]
            for balancer in (r for r in linked if _KINDS.get(r.type, ("",))[0] == "entry"):
                groups_of.setdefault(balancer.urn, set()).update(
                    r.urn for r in linked if r.type == "aws:lb/targetGroup:TargetGroup")
        for service in self._of_type("aws:ecs/service:Service"):
            for balancer, groups in sorted(groups_of.items()):
                if groups & set(service.dependencies) and balancer in self.shown and service.urn in self.shown:
                    self.edges.append((self.shown[balancer], "==>", self.shown[service.urn]))
        # An Ingress routes to the workloads of its own component (KubeService: Ingress -> Service -> Deployment).
        for ingress in self._of_type("kubernetes:networking.k8s.io/v1:Ingress"):
            for workload in self._of_type("kubernetes:apps/v1:Deployment"):
                if workload.parent == ingress.parent and {ingress.urn, workload.urn} <= set(self.shown):
                    self.edges.append((self.shown[ingress.urn], "==>", self.shown[workload.urn]))

    def _collapsed(self, resource: RecordedResource, kind: tuple[str, str]) -> str:
        siblings = [r for r in self.resources if r.type == resource.type and r.parent == resource.parent]
        label = f"{kind[1]} x{len(siblings)}" if len(siblings) > 1 else kind[1]
        return self._add("res", kind[0], f"{resource.parent}|{resource.type}", kind[1], [label])

    def _of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def _depth(self, resource: RecordedResource) -> int:
        depth, urn = 0, resource.parent
        while urn in self.by_urn:
            depth, urn = depth + 1, self.by_urn[urn].parent
        return depth

    def _nearest_shown(self, urn: str | None) -> str | None:
        while urn:
            if urn in self.shown:
                return self.shown[urn]
            resource = self.by_urn.get(urn)
            urn = resource.parent if resource else None
        return None

    def _node_ancestors(self, node: str | None) -> set[str]:
        ancestors = set()
        while node in self.node_parent:
            node = self.node_parent[node]
            ancestors.add(node)
        return ancestors

    # ------------------------------------------------------------------ labels

    def _detail(self, resource: RecordedResource) -> str:
        inputs = resource.inputs
        if resource.type == "aws:ec2/vpc:Vpc":
            return " · ".join(part for part in (inputs.get("cidrBlock"), self._subnet_summary(resource)) if part)
        if resource.type == "aws:rds/instance:Instance":
            return " ".join(str(p) for p in (inputs.get("engine"), inputs.get("instanceClass"),
                                             "Multi-AZ" if inputs.get("multiAz") else "") if p)
        if resource.type in ("aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster"):
            nodes = inputs.get("numCacheClusters") or inputs.get("numCacheNodes")
            return " ".join(str(p) for p in (inputs.get("engine"), inputs.get("nodeType"),
                                             f"x{nodes}" if nodes else "") if p)
        if "scalingConfig" in inputs:
            types = ",".join(inputs.get("instanceTypes") or [])
            spot = " spot" if inputs.get("capacityType") == "SPOT" else ""
            return f"{inputs['scalingConfig'].get('desiredSize', '?')} x {types or 'default type'}{spot}"
        if resource.type == "aws:ecs/service:Service":
            return f"{inputs.get('desiredCount', 0)} task(s)"
        if resource.type == "gcp:cloudrunv2/service:Service":
            template = inputs.get("template") or {}
            minimum = (template.get("scaling") or {}).get("minInstanceCount", 0)
            gpu = any(((c.get("resources") or {}).get("limits") or {}).get("nvidia.com/gpu")
                      for c in template.get("containers") or [])
            return f"min {minimum}" + (" · GPU" if gpu else "")
        if resource.type in ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
            scheme = "internal" if inputs.get("internal") else "internet-facing"
            return f"{inputs.get('loadBalancerType') or 'application'} · {scheme}"
        return ""

    def _subnet_summary(self, vpc: RecordedResource) -> str:
        tiers: Counter = Counter()
        for subnet in self._of_type("aws:ec2/subnet:Subnet"):
            if subnet.parent != vpc.parent:
                continue
            tier = (subnet.inputs.get("tags") or {}).get("Tier") or next(
                (t for t in ("public", "private", "isolated") if t in subnet.name), "other")
            tiers[tier] += 1
        if not tiers:
            return ""
        return f"{sum(tiers.values())} subnets (" + ", ".join(f"{n} {t}" for t, n in sorted(tiers.items())) + ")"


def _short_type(type_token: str) -> str:
    return type_token.rsplit(":", 1)[-1]


def services_in(mermaid_text: str) -> list[str]:
    """Ids of the service nodes in a diagram (for tests and the CLI's summary)."""
    return re.findall(r"^\s+(?:subgraph )?(svc_\w+)(?:\{\{|\[)", mermaid_text, flags=re.MULTILINE)


LEVELS = {"component": component_mermaid, "resource": mermaid}
"""``plan --diagram-level``: what each level draws."""

FORMATS = {".md": "Markdown with a Mermaid diagram", ".mmd": "Mermaid text"}
"""``plan --diagram`` file extensions and what each holds."""


def document(plan: Plan, suffix: str, level: str = "component") -> str:
    """The diagram file's text for the extension ``suffix`` (one of :data:`FORMATS`)."""
    chart = LEVELS[level](plan)
    if suffix == ".mmd":
        return chart
    return f"# {plan.project} / {plan.stack}\n\n```mermaid\n{chart}```\n"


__all__ = ["FORMATS", "LEVELS", "component_mermaid", "document", "escape", "mermaid", "node_id", "services_in"]
