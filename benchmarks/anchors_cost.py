"""Each environment's monthly estimate next to the same services built with the anchors' defaults.

Usage: python benchmarks/anchors_cost.py [ENV ...]   (default: every stacks/Pulumi.<ENV>.yaml)

Plans each stack offline (no cloud, no Pulumi CLI), prices it with genai_platform.cost, then prices the
plan again after applying the anchor libraries' defaults (pulumi-awsx, pulumi-eks, ...; see the
footnotes the table prints) and writes a Markdown table to stdout.
"""

import sys

from genai_platform.cost import load_prices
from genai_platform.cost.anchors import compare, markdown_table


def main(argv: list[str]) -> int:
    try:
        from genai_platform.planning import plan_stack, project_dir, stack_names
    except ImportError as error:  # the planner is the lead's module; say so instead of a traceback
        print(f"genai_platform.planning is not available ({error}): cannot plan the stacks.", file=sys.stderr)
        return 2
    root = project_dir()
    order = {"dev": 0, "staging": 1, "prod": 2}
    environments = argv or sorted(stack_names(root), key=lambda name: (order.get(name, 3), name))
    prices = load_prices()
    rows = [compare(name, plan_stack(name, root), prices) for name in environments]
    sys.stdout.write(markdown_table(rows, prices.get("read_on", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
