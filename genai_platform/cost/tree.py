"""Which service a resource belongs to: its top-level ancestor below the stack root.

Shared by the cost report (subtotals per service) and the Mermaid diagram (one branch per service).
"""

from genai_platform.mockcloud import Plan, RecordedResource

STACK_TYPE = "pulumi:pulumi:Stack"
OUTSIDE_SERVICES = "(stack)"
"""The group of resources registered directly under the stack root, outside any component."""


def stack_root(plan: Plan) -> RecordedResource | None:
    return next((r for r in plan.resources if r.type == STACK_TYPE), None)


def top_level(plan: Plan) -> list[RecordedResource]:
    """The stack root's children: the services (components) and any loose resources, in plan order."""
    root = stack_root(plan)
    if root is None:
        return [r for r in plan.resources if r.parent is None and r.type != STACK_TYPE]
    return plan.children(root.urn)


def service_names(plan: Plan) -> dict[str, str]:
    """URN -> name of the service it belongs to.

    A component directly under the stack root is a service and names itself and everything below it;
    a custom resource directly under the root belongs to :data:`OUTSIDE_SERVICES`. A parent chain that
    leaves the plan (a URN the plan does not hold) ends at its last known ancestor.
    """
    by_urn = {r.urn: r for r in plan.resources}
    root = stack_root(plan)
    root_urn = root.urn if root else None
    names: dict[str, str] = {}

    def resolve(resource: RecordedResource) -> str:
        if resource.urn in names:
            return names[resource.urn]
        chain = []
        current = resource
        while True:
            chain.append(current)
            parent = by_urn.get(current.parent) if current.parent else None
            if parent is None or parent.urn == root_urn or current.urn in names:
                break
            current = parent
        top = chain[-1]
        if top.urn in names:
            name = names[top.urn]
        elif top.custom and top.parent in (root_urn, None):
            name = OUTSIDE_SERVICES
        else:
            name = top.name
        for member in chain:
            names[member.urn] = name
        return name

    for resource in plan.resources:
        if resource.type != STACK_TYPE:
            resolve(resource)
    return names
