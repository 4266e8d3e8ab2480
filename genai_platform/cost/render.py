"""The cost section of the plan report: subtotal per service, the top items, the total against the budget."""

from collections import Counter

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from genai_platform.cost.model import CostEstimate
from genai_platform.cost.prices import money


def verdict(estimate: CostEstimate) -> str:
    """One line: the total and how it stands against the budget."""
    total = f"Estimated {money(estimate.monthly)}/month"
    if estimate.budget is None:
        return f"{total} (no budget given)"
    difference = abs(estimate.budget - estimate.monthly)
    if estimate.over_budget:
        return f"{total}: OVER the {money(estimate.budget)} budget by {money(difference)}"
    return f"{total}: within the {money(estimate.budget)} budget ({money(difference)} left)"


def max_scale_lines(estimate: CostEstimate) -> list[str]:
    """"GPU at max scale" and, against the budget, the total with every NodePool at its limits (advisory)."""
    if not estimate.at_max_scale:
        return []
    lines = []
    if any(entry["gpu"] for entry in estimate.at_max_scale):
        lines.append(f"GPU at max scale: {money(estimate.gpu_at_max_scale)}/month (the GPU NodePools' limits filled).")
    total = f"At max scale {money(estimate.monthly_at_max_scale)}/month"
    if estimate.budget is None:
        return [*lines, f"{total} (no budget given)."]
    difference = abs(estimate.budget - estimate.monthly_at_max_scale)
    if estimate.over_budget_at_max_scale:
        return [*lines, f"ADVISORY: {total}: the NodePool limits allow {money(difference)} over the "
                        f"{money(estimate.budget)} budget; lower the pools' limits to cap it."]
    return [*lines, f"{total}: within the {money(estimate.budget)} budget ({money(difference)} left)."]


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _kind(type_token: str) -> str:
    """``aws:ec2/natGateway:NatGateway`` -> ``ec2 NatGateway``; ``kubernetes:apps/v1:Deployment`` -> ``apps Deployment``."""
    parts = type_token.split(":")
    return f"{parts[1].split('/')[0]} {parts[-1]}" if len(parts) == 3 else type_token


def _usage_summary(estimate: CostEstimate) -> str:
    counts = Counter(_kind(entry["type"]) for entry in estimate.usage_based)
    return ", ".join(f"{kind} x{count}" if count > 1 else kind for kind, count in sorted(counts.items()))


def _footer_lines(estimate: CostEstimate) -> list[str]:
    lines = [f"Prices: us-east-1 / Cloud Run Tier 1 on-demand list prices read {estimate.read_on}, 730 h a month, "
             "free tiers not deducted."]
    if estimate.usage_based:
        lines.append(f"Usage-priced, not in the total ({len(estimate.usage_based)}): {_usage_summary(estimate)}.")
    for entry in estimate.unpriced:
        lines.append(f"UNPRICED {_name(entry['urn'])} ({entry['type']}): {entry['reason']}")
    return lines


def format_text(estimate: CostEstimate, top: int = 10) -> str:
    """Plain-text report (for logs, CI and ``--format text`` without a terminal)."""
    lines = ["Monthly cost estimate (USD)", "", "  by service:"]
    width = max([len(name) for name in estimate.by_service()] + [8])
    for name, subtotal in estimate.by_service().items():
        lines.append(f"    {name:<{width}}  {money(subtotal):>12}")
    if estimate.items:
        lines += ["", f"  top {min(top, len(estimate.items))} items:"]
        for item in estimate.items[:top]:
            lines.append(f"    {money(item['monthly']):>12}  {_name(item['urn'])} ({item['type']})")
            lines.append(f"                  {item['basis']}")
    lines += ["", verdict(estimate), *max_scale_lines(estimate), *_footer_lines(estimate)]
    return "\n".join(lines)


def rich_report(estimate: CostEstimate, top: int = 10) -> Group:
    """The same report as rich renderables, for ``console.print(...)`` in the plan command."""
    services = Table(title="Monthly cost by service (USD)", title_justify="left", min_width=36)
    services.add_column("service")
    services.add_column("monthly", justify="right")
    for name, subtotal in estimate.by_service().items():
        services.add_row(escape(name), money(subtotal))
    services.add_row("[bold]total[/bold]", f"[bold]{money(estimate.monthly)}[/bold]")

    items = Table(title=f"Top {min(top, len(estimate.items))} cost items", title_justify="left")
    items.add_column("monthly", justify="right")
    items.add_column("resource")
    items.add_column("basis", overflow="fold")
    for item in estimate.items[:top]:
        items.add_row(money(item["monthly"]), f"{escape(_name(item['urn']))}\n[dim]{escape(item['type'])}[/dim]",
                      escape(item["basis"]))

    style = "bold red" if estimate.over_budget else "bold green" if estimate.budget is not None else "bold"
    footer = Text("\n".join(_footer_lines(estimate)), style="dim")
    at_max_scale = Text("\n".join(max_scale_lines(estimate)),
                        style="yellow" if estimate.over_budget_at_max_scale else "")
    return Group(services, items, Text(verdict(estimate), style=style), at_max_scale, footer)
