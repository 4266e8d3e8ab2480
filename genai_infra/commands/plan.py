"""``genai-infra plan <env>``: the stack program under mocks, then policies, cost and a report.

Exit codes: 0 planned and clean; 2 a config value is wrong; 3 a mandatory policy is violated;
4 the monthly estimate exceeds the environment's budget. With several stacks every stack that can be
planned is reported, and the worst code wins, worst first: 2 (a stack could not even be planned),
3, then 4 (policies matter more than money).

Every report ends with one verdict line per stack (``PASS dev: 0 mandatory, 18 advisory, $197/month of
$550``, ``FAIL prod: 2 mandatory (rule-a, rule-b), ...``, ``ERROR staging: not planned (exit 2)...``), and
several stacks end with a table of them.

Each error is one line on stderr (``error: <stack>: <file>: <key> = <value> ...: <fix>``); the program's
warnings follow the errors, never precede them.
"""

import argparse
import json
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from genai_infra import cost, diagram, junit, planning, policy_check, report, sarif, verdict
from genai_infra.atomic import write_text_atomic
from genai_infra.commands import SUMMARIES
from genai_infra.diagram import FORMATS
from genai_infra.mockcloud import Plan
from genai_infra.verdict import EXIT_CONFIG, Verdict
from stacks.config import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help=SUMMARIES["plan"],
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks", nargs="*", metavar="ENV", help="stack names (stacks/Pulumi.<ENV>.yaml)")
    parser.add_argument("--all", action="store_true", help="plan every stacks/Pulumi.*.yaml (the CI gate)")
    parser.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text",
                        help="text (ends with a verdict line per stack), json, sarif (SARIF 2.1.0 for code "
                             "scanning) or junit (JUnit XML)")
    parser.add_argument("--diagram", type=Path, metavar="FILE.md",
                        help="write a diagram of the stack, its format chosen by the extension: .md (Markdown with "
                             "a Mermaid diagram) or .mmd (Mermaid text); FILE-<env>.md when planning several")
    parser.add_argument("--diagram-level", choices=("component", "resource"), default="component",
                        help="component (default): components per service and their dependencies; resource: also "
                             "the resources that matter, with traffic and containment")
    parser.add_argument("--project-dir", type=Path, default=None, help="checkout holding Pulumi.yaml (default: cwd)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    console = Console()
    try:
        root = args.project_dir.resolve() if args.project_dir else planning.project_dir()
        names = planning.stack_names(root) if args.all else args.stacks
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
            with warnings.catch_warnings(record=True) as raised:
                warnings.simplefilter("always")
                try:
                    plan = planning.plan_stack(name, root, warnings=collected)
                finally:
                    collected += sorted({" ".join(str(w.message).split()) for w in raised})
            settings = planning.stack_settings(name, root)
        except ConfigError as error:
            _error(f"{name}: {error}")
            results.append(StackResult(verdict.not_planned(name), error=str(error)))
            notes += [f"{name}: {line}" for line in collected]
            if args.format == "text":
                console.print(results[-1].verdict.line(), markup=False, highlight=False, soft_wrap=True)
            continue
        notes += [f"{name}: {line}" for line in collected]
        policies = policy_check.evaluate(plan, settings.tier, policy_check.load_config(settings.tier))
        estimate = cost.estimate(plan, settings.monthly_budget_usd + settings.gcp_monthly_budget_usd)
        result = StackResult(verdict.planned(name, policies, estimate), plan, policies, estimate)
        results.append(result)
        if args.format == "text":
            report.render(plan, console)
            console.print(policy_check.render_text(policies), markup=False, highlight=False, soft_wrap=True)
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
        sys.stdout.write(json.dumps(sarif.document(planned, root), indent=2) + "\n")
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

    def document(self) -> dict:
        return {**self.plan.to_json(), "policies": self.policies.to_json(), "cost": self.estimate.to_json(),
                "verdict": self.verdict.to_json()}


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
