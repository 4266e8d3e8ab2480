"""Regenerate the README's figures from the code: the estimated monthly cost of each environment, the
comparison with the anchors' defaults, the resource counts of the plans and the embedded dev diagram.

    .venv/bin/python benchmarks/readme_figures.py --check   # exit 1 and name each figure that drifted
    .venv/bin/python benchmarks/readme_figures.py --write   # rewrite them in README.md

``tests/test_readme_figures.py`` runs :func:`render` on the plans the suite already has, so a change that
moves a figure fails the suite until ``--write`` is run.
"""

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from genai_platform import cost
from genai_platform.cost.anchors import compare, markdown_table
from genai_platform.diagram import component_mermaid
from genai_platform.mockcloud import Plan

README = Path(__file__).resolve().parent.parent / "README.md"
ORDER = ("dev", "staging", "prod")


def _money(amount: float) -> str:
    return f"${amount:,.0f}"


def cost_row(plans: Mapping[str, Plan]) -> str:
    cells = " | ".join(f"**{_money(cost.estimate(plans[stack]).monthly)}**" for stack in ORDER)
    return f"| **estimated monthly cost** | {cells} |"


def resource_counts(plans: Mapping[str, Plan]) -> str:
    return "/".join(str(sum(r.custom for r in plans[stack].resources)) for stack in ORDER) + " resources"


def anchors_table(plans: Mapping[str, Plan]) -> str:
    prices = cost.load_prices()
    return markdown_table([compare(stack, plans[stack], prices) for stack in ORDER], prices.get("read_on", ""))


def dev_diagram(plans: Mapping[str, Plan]) -> str:
    return component_mermaid(plans["dev"])


FIGURES: dict[str, tuple[re.Pattern, Callable[[Mapping[str, Plan]], str]]] = {
    "cost row": (re.compile(r"^\| \*\*estimated monthly cost\*\* \|.*\|$", re.MULTILINE), cost_row),
    "resource counts": (re.compile(r"(?<=seen here:\n)\d+/\d+/\d+ resources"), resource_counts),
    "anchors table": (re.compile(r"^\| environment \| this platform \|.*?(?=\n\n## )", re.MULTILINE | re.DOTALL),
                      lambda plans: anchors_table(plans).rstrip("\n")),
    "dev diagram": (re.compile(r"(?<=<summary>Mermaid diagram of the dev stack</summary>\n\n```mermaid\n).*?(?=```\n)",
                               re.DOTALL), dev_diagram),
}
"""Each figure: where it stands in the README and how the code computes it."""


def render(readme: str, plans: Mapping[str, Plan]) -> tuple[str, list[str]]:
    """The README with every figure recomputed, and the names of those that changed."""
    changed = []
    for name, (pattern, compute) in FIGURES.items():
        matches = list(pattern.finditer(readme))
        if len(matches) != 1:
            raise ValueError(f"README.md: the {name} is found {len(matches)} times; expected once ({pattern.pattern})")
        new = compute(plans)
        if matches[0].group(0) != new:
            changed.append(name)
            readme = readme[:matches[0].start()] + new + readme[matches[0].end():]
    return readme, changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 if a figure differs from the code's")
    mode.add_argument("--write", action="store_true", help="rewrite the figures in README.md")
    args = parser.parse_args()

    from genai_platform import planning

    root = planning.project_dir()
    plans = {stack: planning.plan_stack(stack, root, warnings=[]) for stack in ORDER}
    text, changed = render(README.read_text(), plans)
    if args.write:
        README.write_text(text)
        print(f"README.md: {', '.join(changed) or 'nothing'} regenerated")
        return 0
    for name in changed:
        print(f"README.md: {name}: differs from what the code computes: run benchmarks/readme_figures.py --write",
              file=sys.stderr)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
