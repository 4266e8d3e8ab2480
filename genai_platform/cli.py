"""``genai-infra``: the platform's command line. Each sub-command lives in ``genai_platform.commands``."""

import argparse
import importlib
import sys
from typing import NoReturn

from genai_platform import heap
from genai_platform.commands import SUMMARIES

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


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: only the command it names is imported and registered in full (the provider
    SDKs take seconds to import); every other command is listed with its summary."""
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)  # no global option takes a value
    parser = OneLineParser(prog="genai-infra", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, summary in SUMMARIES.items():
        if name == chosen:
            importlib.import_module(f"genai_platform.commands.{name.replace('-', '_')}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    return args.func(args)


def run() -> NoReturn:
    """The console script: :func:`main` in a process of its own, whose imports are settled before it plans."""
    args = build_parser().parse_args()
    heap.settle_imports()  # after the command's imports: see genai_platform.heap
    sys.exit(args.func(args))


if __name__ == "__main__":
    run()
