"""``genai-infra plan <env>``: a stack's program under mocks, then policies, cost and a report.

Plans this repository's stacks (stacks/Pulumi.<env>.yaml), or with --project-dir any Pulumi Python project: its
Pulumi.yaml (name, main, stackConfigDir, config declarations) and its Pulumi.<stack>.yaml, its program run under
the same mocks, held against the policy pack (--policy-config FILE, else --tier's or <project>:tier's preset, else
the pack's own levels) and its budget (--budget-key KEY, else <project>:monthlyBudgetUsd, else none).

Exit codes: 0 planned and clean; 2 a config value (or the program) is wrong; 3 a mandatory policy is violated;
4 the monthly estimate exceeds the budget. With several stacks every stack that can be planned is reported, and
the worst code wins, worst first: 2 (a stack could not even be planned), 3, then 4 (policies matter more than
money).

Every report ends with one verdict line per stack (``PASS dev: 0 mandatory, 18 advisory, $197/month of
$550``, ``FAIL prod: 2 mandatory (rule-a, rule-b), ...``, ``PASS team-dev: 0 mandatory, 3 advisory, $84/month
(no budget)``, ``ERROR staging: not planned (exit 2)...``), and several stacks end with a table of them.

Each error is one line on stderr (``error: <stack>: <file>: <key> = <value> ...: <fix>``); the program's
warnings follow the errors, never precede them.
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from genai_platform import cost, diagram, gates, junit, planning, policy_check, report, sarif, verdict
from genai_platform.atomic import write_text_atomic
from genai_platform.commands import SUMMARIES
from genai_platform.diagram import FORMATS
from genai_platform.mockcloud import Plan
from genai_platform.project import read_project
from genai_platform.verdict import EXIT_CONFIG, Verdict
from genai_platform.stacks.config import TIERS, ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help=SUMMARIES["plan"],
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks", nargs="*", metavar="ENV",
                        help="stack names (Pulumi.<ENV>.yaml in the project's stackConfigDir: stacks/ here)")
    parser.add_argument("--all", action="store_true", help="plan every Pulumi.*.yaml of the project (the CI gate)")
    parser.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text",
                        help="text (ends with a verdict line per stack), json, sarif (SARIF 2.1.0 for code "
                             "scanning) or junit (JUnit XML)")
    parser.add_argument("--diagram", type=Path, metavar="FILE.md",
                        help="write a diagram of the stack, its format chosen by the extension: .md (Markdown with "
                             "a Mermaid diagram) or .mmd (Mermaid text); FILE-<env>.md when planning several")
    parser.add_argument("--diagram-level", choices=("component", "resource"), default="component",
                        help="component (default): components per service and their dependencies; resource: also "
                             "the resources that matter, with traffic and containment")
    parser.add_argument("--project-dir", type=Path, default=None,
                        help="a Pulumi Python project (the folder holding its Pulumi.yaml): this checkout by default, "
                             "or another team's project")
    parser.add_argument("--tier", choices=TIERS, default=None,
                        help="another team's project: enforce the policy levels of this tier (policies/config.<TIER>"
                             ".json); default: the project's <project>:tier key, if set")
    parser.add_argument("--policy-config", type=Path, default=None, metavar="FILE.json",
                        help="enforce the levels and settings of this --policy-pack-config document instead")
    parser.add_argument("--budget-key", default=None, metavar="KEY",
                        help="another team's project: the config key holding its monthly budget in USD (default: "
                             "<project>:monthlyBudgetUsd if set; none: the cost is priced, never exit 4)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    console = Console()
    try:
        choices = gates.Choices.read(args.tier, args.policy_config, args.budget_key)
        root = args.project_dir.resolve() if args.project_dir else planning.project_dir()
        project = read_project(root)
        if project.is_platform:
            choices.refuse_for_platform()
        names = project.stack_names() if args.all else args.stacks
        if not names:
            raise ConfigError("name a stack (e.g. genai-infra plan dev) or pass --all.")
        if args.diagram:
            _check_writable(args.diagram)
    except ConfigError as error:
        _error(str(error))
        return EXIT_CONFIG

    results: list[StackResult] = []
    notes: list[str] = []
    for name in names:
        collected: list[str] = []
        try:
            with planning.program_warnings(collected):
                plan = planning.plan_project(project, name, warnings=collected)
            held = gates.stack_gates(project, name, choices)
        except ConfigError as error:
            _error(f"{name}: {error}")
            results.append(StackResult(verdict.not_planned(name), error=str(error)))
            notes += [f"{name}: {line}" for line in collected]
            if args.format == "text":
                console.print(results[-1].verdict.line(), markup=False, highlight=False, soft_wrap=True)
            continue
        notes += [f"{name}: {line}" for line in collected]
        policies = policy_check.evaluate(plan, held.environment, held.policy_config)
        estimate = cost.estimate(plan, held.budget)
        result = StackResult(verdict.planned(name, policies, estimate), plan, policies, estimate, held=held)
        results.append(result)
        if args.format == "text":
            report.render(plan, console)
            console.print(f"policy levels: {held.levels}", markup=False, highlight=False, soft_wrap=True)
            console.print(policy_check.render_text(policies), markup=False, highlight=False, soft_wrap=True)
            budget = (f"${held.budget:,.0f}/month from {held.budget_source}" if held.budget is not None
                      else held.budget_source)
            console.print(f"budget: {budget}", markup=False, highlight=False, soft_wrap=True)
            console.print(cost.rich_report(estimate))
            console.print(result.verdict.line(), markup=False, highlight=False, soft_wrap=True)
        if args.diagram:
            _write_diagram(plan, args.diagram, args.diagram_level, several=len(names) > 1)

    several = args.all or len(names) > 1
    verdicts = [result.verdict for result in results]
    if args.format == "text" and several:
        console.print(verdict.table(verdicts))
    elif args.format == "json":
        documents = [result.document() for result in results if result.plan]
        failed = [{"stack": r.verdict.stack, "exit_code": r.verdict.exit_code, "error": r.error}
                  for r in results if not r.plan]
        if several:
            sys.stdout.write(json.dumps({"stacks": documents, "errors": failed}, indent=2) + "\n")
        elif documents:
            sys.stdout.write(json.dumps(documents[0], indent=2) + "\n")
    elif args.format == "sarif":
        planned = [(result.plan, result.policies) for result in results if result.plan]
        sys.stdout.write(json.dumps(sarif.document(planned, root, lambda stack: project.relative(
            project.stack_file(stack))), indent=2) + "\n")
    elif args.format == "junit":
        sys.stdout.write(junit.document((r.verdict, r.policies, r.error) for r in results))
    for note in notes:
        sys.stderr.write(f"warning: {note}\n")
    return verdict.worst_exit_code(verdicts)


@dataclass
class StackResult:
    """One stack's outcome: its verdict and, when it could be planned, the plan, policies and cost."""

    verdict: Verdict
    plan: Plan | None = None
    policies: policy_check.PolicyReport | None = None
    estimate: cost.CostEstimate | None = None
    error: str | None = None
    held: gates.Gates | None = None
    """What the stack was held against: the policy levels and the budget, and why."""

    def document(self) -> dict:
        return {**self.plan.to_json(), "policies": self.policies.to_json(), "cost": self.estimate.to_json(),
                "gates": self.held.to_json(), "verdict": self.verdict.to_json()}


def _error(line: str) -> None:
    # Plain write, not rich: rich wraps at the terminal width, and the contract is one line.
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()


def _check_writable(path: Path) -> None:
    """Refuse a diagram path that cannot be written, before minutes of planning are spent."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"--diagram {path}: the folder {folder} does not exist: create it or write elsewhere.")
    if path.suffix not in FORMATS:
        known = " or ".join(f"{suffix} ({what})" for suffix, what in FORMATS.items())
        raise ConfigError(f"--diagram {path}: cannot write a {path.suffix or 'file without an extension'}: "
                          f"name a {known} file.")
    if path.is_dir():
        raise ConfigError(f"--diagram {path}: is a folder: name a file, e.g. {path / 'stack.md'}.")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"--diagram {path}: the folder {folder} is not writable: write elsewhere.")


def _write_diagram(plan: Plan, path: Path, level: str, several: bool) -> None:
    if several:
        path = path.with_name(f"{path.stem}-{plan.stack}{path.suffix}")
    write_text_atomic(path, diagram.document(plan, path.suffix, level))
