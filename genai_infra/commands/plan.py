"""``genai-infra plan <env>``: the stack program under mocks, then policies, cost and a report.

Exit codes: 0 planned and clean; 2 a config value is wrong; 3 a mandatory policy is violated;
4 the monthly estimate exceeds the environment's budget. With several stacks the lowest non-zero
code wins (a config error hides nothing behind it; policies matter more than money).
"""

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from genai_infra import cost, planning, policy_check, report
from genai_infra.diagram import mermaid
from genai_infra.mockcloud import Plan
from stacks.config import ConfigError

EXIT_CONFIG = 2
EXIT_POLICY = 3
EXIT_OVER_BUDGET = 4


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help="plan stacks offline (no cloud account, no Pulumi CLI)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks", nargs="*", metavar="ENV", help="stack names (stacks/Pulumi.<ENV>.yaml)")
    parser.add_argument("--all", action="store_true", help="plan every stacks/Pulumi.*.yaml (the CI gate)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--diagram", type=Path, metavar="FILE.md",
                        help="write a Mermaid diagram of the stack (FILE-<env>.md when planning several)")
    parser.add_argument("--project-dir", type=Path, default=None, help="checkout holding Pulumi.yaml (default: cwd)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    console, errors = Console(), Console(stderr=True)
    try:
        root = args.project_dir.resolve() if args.project_dir else planning.project_dir()
        names = planning.stack_names(root) if args.all else args.stacks
        if not names:
            raise ConfigError("name a stack (e.g. genai-infra plan dev) or pass --all.")
    except ConfigError as error:
        errors.print(f"error: {error}", markup=False, highlight=False)
        return EXIT_CONFIG

    documents, exit_codes = [], []
    for name in names:
        try:
            plan = planning.plan_stack(name, root)
            settings = planning.stack_settings(name, root)
        except (ConfigError, ValueError) as error:
            # ConfigError: a bad value in the stack file. ValueError: a component refused the
            # arguments the config produced. Either way the user fixes config, not code.
            errors.print(f"error: {name}: {error}", markup=False, highlight=False, soft_wrap=True)
            exit_codes.append(EXIT_CONFIG)
            continue
        policies = policy_check.evaluate(plan, settings.tier, policy_check.load_config(settings.tier))
        estimate = cost.estimate(plan, settings.monthly_budget_usd + settings.gcp_monthly_budget_usd)
        documents.append({**plan.to_json(), "policies": policies.to_json(), "cost": estimate.to_json()})
        if args.format == "text":
            report.render(plan, console)
            console.print(policy_check.render_text(policies), markup=False, highlight=False, soft_wrap=True)
            console.print(cost.rich_report(estimate))
        if args.diagram:
            _write_diagram(plan, args.diagram, several=len(names) > 1)
        exit_codes.append(EXIT_POLICY if policies.mandatory_violations
                          else EXIT_OVER_BUDGET if estimate.over_budget else 0)

    if args.format == "json":
        payload = {"stacks": documents} if args.all or len(names) > 1 else (documents[0] if documents else None)
        if payload is not None:
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    failures = [code for code in exit_codes if code]
    return min(failures) if failures else 0


def _write_diagram(plan: Plan, path: Path, several: bool) -> None:
    if several:
        path = path.with_name(f"{path.stem}-{plan.stack}{path.suffix}")
    path.write_text(f"# {plan.project} / {plan.stack}\n\n```mermaid\n{mermaid(plan)}```\n")
