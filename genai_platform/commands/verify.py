"""``genai-infra verify <env>``: check a deployed environment against its stack outputs.

Exit codes: 0 every check passed; 1 the environment is unhealthy (a check failed); 2 bad input (an outputs file
that is unreadable, of the wrong shape, or names an empty resource) or an AWS error: one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from genai_platform.aws_ops import output_keys
from genai_platform.aws_ops.checks import Check, load_outputs, run_checks
from genai_platform.aws_ops.errors import guarded
from genai_platform.aws_ops.session import AwsSession, add_timeout_argument
from genai_platform.commands import SUMMARIES

ENVIRONMENTS = ("dev", "staging", "prod")
EXIT_UNHEALTHY = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help=SUMMARIES["verify"],
        description=__doc__, epilog=f"Reads the outputs {', '.join(output_keys.ALL)}.")
    parser.add_argument("env", choices=ENVIRONMENTS, help="stack name (prod also requires deletion protection)")
    parser.add_argument("--outputs", required=True, type=Path, metavar="FILE",
                        help="JSON written by: pulumi stack output --json > FILE")
    parser.add_argument("--region", default=None, help="region of the stack (default: AWS_REGION / profile)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_timeout_argument(parser)
    parser.set_defaults(func=run)


@guarded
def run(args: argparse.Namespace) -> int:
    outputs = load_outputs(args.outputs)
    aws = AwsSession(args.region, deadline_s=args.timeout)
    checks = run_checks(aws, outputs, args.env)
    passed = all(check.passed for check in checks)
    if args.format == "json":
        document = {"env": args.env, "region": aws.region, "passed": passed,
                    "summary": {"passed": sum(c.passed for c in checks), "failed": sum(not c.passed for c in checks)},
                    "checks": [check.to_json() for check in checks]}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        _render(args.env, aws.region, checks)
    return 0 if passed else EXIT_UNHEALTHY


def _render(env: str, region: str, checks: list[Check]) -> None:
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 160)  # pipes and CI logs: keep a row on one line
    table = Table(title=f"genai-infra verify {env} ({region})")
    for column in ("check", "resource", "result", "reason"):
        table.add_column(column, overflow="fold")
    for check in checks:
        result = "[green]PASS[/green]" if check.passed else "[bold red]FAIL[/bold red]"
        table.add_row(Text(check.check), Text(check.resource), result, Text(check.reason))
    console.print(table)
    failed = sum(not check.passed for check in checks)
    console.print(f"{len(checks)} checks: {len(checks) - failed} passed, {failed} failed", highlight=False)
