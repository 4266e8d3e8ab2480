"""Human-readable report of an offline plan: component tree, resources per type, stack outputs."""

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from genai_platform.mockcloud import Plan, RecordedResource

_STACK_TYPE = "pulumi:pulumi:Stack"


def render(plan: Plan, console: Console) -> None:
    """Print the plan of one stack."""
    custom = [r for r in plan.resources if r.custom]
    console.rule(f"[bold]{plan.project} / {plan.stack}[/bold]: {len(custom)} resources")
    console.print(component_tree(plan))
    console.print(type_table(plan))
    console.print(outputs_table(plan.outputs))


def component_tree(plan: Plan) -> Tree:
    """Components nested as they are parented; each line counts the cloud resources below it."""
    root = next((r for r in plan.resources if r.type == _STACK_TYPE), None)
    tree = Tree(f"[bold]{root.name if root else plan.stack}[/bold]")
    _add_components(plan, root.urn if root else None, tree)
    return tree


def _add_components(plan: Plan, parent_urn: str | None, branch: Tree) -> None:
    for child in plan.children(parent_urn) if parent_urn else []:
        if child.custom:
            continue
        below = [r for r in _descendants(plan, child.urn) if r.custom]
        protected = sum(1 for r in below if r.protect)
        label = f"{child.name}  [dim]{child.type}[/dim]  {len(below)} resources" + (
            f", [yellow]{protected} protected[/yellow]" if protected else "")
        _add_components(plan, child.urn, branch.add(label))


def _descendants(plan: Plan, urn: str) -> list[RecordedResource]:
    found = []
    for child in plan.children(urn):
        found += [child, *_descendants(plan, child.urn)]
    return found


def type_table(plan: Plan) -> Table:
    table = Table(title="Resources by type", title_justify="left")
    table.add_column("type")
    table.add_column("count", justify="right")
    for type_token, count in sorted(plan.type_counts().items()):
        table.add_row(type_token, str(count))
    return table


def outputs_table(outputs: dict[str, Any]) -> Table:
    table = Table(title="Stack outputs", title_justify="left")
    table.add_column("output")
    table.add_column("value", overflow="fold")
    for key in sorted(outputs):
        value = outputs[key]
        table.add_row(key, value if isinstance(value, str) else json.dumps(value))
    return table

