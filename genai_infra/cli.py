"""``genai-infra``: the platform's command line. Each sub-command lives in ``genai_infra.commands``."""

import argparse
import sys

from genai_infra.commands import bootstrap, first_deploy, plan, verify

COMMAND_MODULES = [plan, bootstrap, verify, first_deploy]
"""Modules with ``register(subparsers)``; each sets ``func(args) -> exit code`` on its parser."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genai-infra", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
