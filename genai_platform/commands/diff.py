"""``genai-infra diff <env> --base <plan.json | git ref>``: what a change does to a stack, before it is merged.

The head is the working tree, planned offline in-process; the base is a plan document (``genai-infra plan
<env> --format json``, or ``plan --all --format json``) or a git ref (``main``, ``origin/main``, a commit),
planned with that commit's own code. It prints the resources added, changed (property by property, secrets
as ``[secret]``), replaced (renamed without an alias, or a replace-forcing property of a stateful type) and
removed, the stack outputs that change, and the monthly cost per service, base -> head, with the budget.

A base without the stack (a new stack) is an empty base: every resource is added.

Exit codes:
  0  the diff is shown and nothing that holds data is destroyed (or every such URN is --allow-destroy'ed)
  2  the head or the base cannot be planned, or --base is neither a plan file nor a git ref (one line on stderr)
  5  data-loss guard: a protected or data-holding resource (database, bucket, queue, cache, KMS key, volume)
     would be removed or replaced; each is named with its type and why; --allow-destroy <urn> allows one
"""

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from genai_platform import cost, gates, plan_diff, planning
from genai_platform.commands import SUMMARIES
from genai_platform.mockcloud import Plan
from genai_platform.plan_diff import base, render
from genai_platform.project import Project, read_project
from genai_platform.verdict import EXIT_CONFIG
from genai_platform.stacks.config import ConfigError

EXIT_DATA_LOSS = 5
"""The data-loss guard's exit code: the next free one after plan's 2 (config), 3 (policy) and 4 (budget)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("diff", help=SUMMARIES["diff"], description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", metavar="ENV", help="stack name (its Pulumi.<ENV>.yaml)")
    parser.add_argument("--base", required=True, metavar="PLAN.json|REF",
                        help="a plan document (genai-infra plan ENV --format json) or a git ref (main, origin/main, "
                             "a commit), planned with its own code")
    parser.add_argument("--allow-destroy", action="append", default=[], metavar="URN",
                        help="allow destroying this protected or data-holding resource (its base URN; repeatable)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="text (default), json, or markdown (for $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--project-dir", type=Path, default=None,
                        help="the Pulumi Python project: this checkout (default: the one holding Pulumi.yaml above "
                             "cwd) or another team's, planned as plan --project-dir plans it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    notes: list[str] = []
    try:
        root = args.project_dir.resolve() if args.project_dir else planning.project_dir()
        with base.loading(args.base, args.stack, root) as loaded_base:  # a bad --base is refused before planning
            head = head_document(args.stack, root, notes)  # while a git ref's own code plans the base
            found = loaded_base()
    except ConfigError as error:
        sys.stderr.write(f"error: {args.stack}: {' '.join(str(error).split())}\n")
        _warn(args.stack, notes)
        return EXIT_CONFIG
    result = plan_diff.diff(found.document, head, found.label, frozenset(args.allow_destroy))
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render.markdown(result))
    else:
        Console(highlight=False, soft_wrap=True).print(render.rich_report(result))
    for loss in result.refused:
        sys.stderr.write(f"error: {args.stack}: data loss: {loss.message()}\n")
    _warn(args.stack, notes)
    return EXIT_DATA_LOSS if result.refused else 0


def _warn(stack: str, notes: list[str]) -> None:
    """The program's warnings, after the error lines (as ``plan`` prints them)."""
    for note in notes:
        sys.stderr.write(f"warning: {stack}: {note}\n")


def head_document(stack: str, root: Path, notes: list[str]) -> dict:
    """The working tree's plan of ``stack`` with its cost estimate, as ``plan --format json`` writes them."""
    project = read_project(root)
    with planning.program_warnings(notes):
        plan = planning.plan_project(project, stack, warnings=notes)
    return plan_document(plan, budget(project, stack))


def budget(project: Project, stack: str) -> float | None:
    """The budget ``plan`` holds the stack against by default: the platform's two clouds, another team's
    ``<project>:monthlyBudgetUsd`` or none."""
    return gates.stack_gates(project, stack, gates.Choices()).budget


def plan_document(plan: Plan, budget_usd: float | None) -> dict:
    """``plan`` and its cost estimate against the budget: the parts of ``plan --format json`` a diff reads."""
    return {**plan.to_json(), "cost": cost.estimate(plan, budget_usd).to_json()}
