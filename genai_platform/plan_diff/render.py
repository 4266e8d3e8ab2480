"""The diff as a reader sees it: rich text for a terminal or log, Markdown for ``$GITHUB_STEP_SUMMARY``.

Every value goes through :func:`genai_platform.plan_diff.properties.shown`, which masks secrets."""

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from genai_platform.cost.prices import money
from genai_platform.plan_diff.model import CostDelta, PlanDiff
from genai_platform.plan_diff.properties import Change, shown

MAX_CHANGES_SHOWN = 20
"""Property changes printed per resource (the JSON output has them all)."""
MAX_ROWS = 50
"""Replacements listed in the Markdown summary (GitHub caps a job summary at 1 MiB)."""


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def summary_line(result: PlanDiff) -> str:
    counts = result.counts()
    line = (f"{result.stack} vs {result.base_label}: {counts['added']} to add, {counts['changed']} to change, "
            f"{counts['replaced']} to replace, {counts['removed']} to remove, {counts['unchanged']} unchanged")
    if result.cost:
        line += f"; {_signed(result.cost.delta)}/month"
    return line


def _signed(amount: float) -> str:
    return ("+" if amount > 0 else "-" if amount < 0 else "±") + money(abs(amount))


def _change_lines(found: tuple[Change, ...] | list[Change]) -> list[str]:
    lines = [f"      {change.path}: {shown(change.old)} → {shown(change.new)}"
             + (" (forces replacement)" if change.forces else "") for change in found[:MAX_CHANGES_SHOWN]]
    if len(found) > MAX_CHANGES_SHOWN:
        lines.append(f"      ... {len(found) - MAX_CHANGES_SHOWN} more (see --format json)")
    return lines


def rich_report(result: PlanDiff) -> Group:
    parts: list = [Text(f"Diff of {result.stack} against {result.base_label}", style="bold")]
    if result.empty:
        parts.append(Text(f"No changes: {result.unchanged} resources unchanged."))
    for resource in result.added:
        parts.append(Text(f"  + {resource.name}  ({resource.type})", style="green"))
    for replacement in result.replaced:
        head = _name(replacement.urn)
        label = _name(replacement.base_urn) + (f" → {head}" if replacement.urn != replacement.base_urn else "")
        parts.append(Text(f"  +- {label}  ({replacement.type}): {replacement.reason}", style="magenta"))
        if replacement.changes:
            parts.append(Text("\n".join(_change_lines(replacement.changes)), style="dim"))
    for resource, found in result.changed:
        parts.append(Text(f"  ~ {resource.name}  ({resource.type})", style="yellow"))
        parts.append(Text("\n".join(_change_lines(found))))
    for resource in result.removed:
        parts.append(Text(f"  - {resource.name}  ({resource.type})", style="red"))
    if result.outputs:
        parts.append(Text("Stack outputs:", style="bold"))
        parts.append(Text("\n".join(_change_lines(result.outputs))))
    if result.cost:
        parts.append(cost_table(result.cost))
    # The refused ones are the command's error lines (stderr), not repeated here.
    for loss in result.data_loss:
        if loss.allowed:
            parts.append(Text(f"allowed by --allow-destroy: {loss.urn} ({loss.type}, {loss.holds}): {loss.why}",
                              style="dim"))
    parts.append(Text(summary_line(result), style="bold"))
    return Group(*parts)


def cost_table(cost: CostDelta) -> Table:
    table = Table(title="Monthly cost by service (USD), base → head", title_justify="left")
    for column in ("service", "base", "head", "change"):
        table.add_column(column, justify="left" if column == "service" else "right")
    for name, (base, head) in cost.services.items():
        table.add_row(escape(name), money(base), money(head), _signed(head - base) if head != base else "")
    table.add_row("[bold]total[/bold]", money(cost.base_total), money(cost.head_total), _signed(cost.delta))
    table.add_row("budget", _budget(cost.base_budget), _budget(cost.head_budget), "")
    return table


def _budget(amount: float | None) -> str:
    return "none" if amount is None else money(amount)


def markdown(result: PlanDiff) -> str:
    """The job summary: counts, replacements, data loss, the cost change per service; one line when empty."""
    lines = [f"### Diff of `{result.stack}` against `{result.base_label}`", ""]
    if result.empty:
        total = f"; {money(result.cost.head_total)}/month" if result.cost else ""
        return "\n".join([*lines, f"No changes: {result.unchanged} resources unchanged{total}.", "", ""])
    counts = result.counts()
    lines += ["| added | changed | replaced | removed | unchanged |", "|---:|---:|---:|---:|---:|",
              "| " + " | ".join(str(counts[key]) for key in ("added", "changed", "replaced", "removed", "unchanged"))
              + " |", ""]
    if result.replaced:
        lines += ["**Replacements**", "", "| resource | type | why |", "|---|---|---|"]
        lines += [f"| `{_name(r.base_urn)}` | `{r.type}` | {r.reason} |" for r in result.replaced[:MAX_ROWS]]
        if len(result.replaced) > MAX_ROWS:
            lines.append(f"| ... {len(result.replaced) - MAX_ROWS} more | | |")
        lines.append("")
    if result.data_loss:
        lines += ["**Data loss**", ""]
        lines += [f"- {'allowed' if loss.allowed else '**refused**'}: `{loss.urn}` ({loss.type}, {loss.holds}): "
                  f"{loss.why}" for loss in result.data_loss]
        lines.append("")
    if result.cost:
        cost = result.cost
        lines += ["**Monthly cost (USD)**", "", "| service | base | head | change |", "|---|---:|---:|---:|"]
        lines += [f"| {name} | {money(base)} | {money(head)} | {_signed(head - base)} |"
                  for name, (base, head) in cost.changed().items()]
        lines += [f"| **total** | {money(cost.base_total)} | {money(cost.head_total)} | {_signed(cost.delta)} |",
                  f"| budget | {_budget(cost.base_budget)} | {_budget(cost.head_budget)} | |", ""]
    return "\n".join([*lines, ""])  # a blank line after: the workflow appends one stack's summary after another
