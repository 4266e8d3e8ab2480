"""``genai-infra``: the platform's command line. Each sub-command lives in ``genai_infra.commands``."""

import argparse
import sys
from typing import NoReturn

from genai_infra.commands import bootstrap, first_deploy, plan, verify

COMMAND_MODULES = [plan, bootstrap, verify, first_deploy]
"""Modules with ``register(subparsers)``; each sets ``func(args) -> exit code`` on its parser."""


MAX_ECHO = 300
"""Characters of a usage error kept on its line (argparse echoes the bad argument whole)."""


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line on stderr and exit 2, like every other error of the CLI (argparse prints the
    whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())
        if len(line) > MAX_ECHO:
            line = f"{line[:MAX_ECHO]}... ({len(line)} characters)"
        self.exit(2, f"error: {self.prog}: {line}: see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="genai-infra", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
