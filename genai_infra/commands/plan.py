"""``genai-infra plan <env>``: the stack program under mocks, then a report (text or JSON)."""

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from genai_infra import planning, report
from stacks.config import ConfigError

EXIT_CONFIG = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help="plan stacks offline (no cloud account, no Pulumi CLI)",
                                   description=__doc__)
    parser.add_argument("stacks", nargs="*", metavar="ENV", help="stack names (stacks/Pulumi.<ENV>.yaml)")
    parser.add_argument("--all", action="store_true", help="plan every stacks/Pulumi.*.yaml")
    parser.add_argument("--format", choices=("text", "json"), default="text")
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
        except (ConfigError, ValueError) as error:
            # ConfigError: a bad value in the stack file. ValueError: a component refused the
            # arguments the config produced. Either way the user fixes config, not code.
            errors.print(f"error: {name}: {error}", markup=False, highlight=False, soft_wrap=True)
            exit_codes.append(EXIT_CONFIG)
            continue
        document = plan.to_json()
        documents.append(document)
        if args.format == "text":
            report.render(plan, console)
        exit_codes.append(0)

    if args.format == "json":
        payload = {"stacks": documents} if args.all or len(names) > 1 else (documents[0] if documents else None)
        if payload is not None:
            sys.stdout.write(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    failures = [code for code in exit_codes if code]
    return min(failures) if failures else 0
