"""Time and peak memory to refuse the worst stack files (figures, not a pass/fail test).

    .venv/bin/python benchmarks/bad_input.py

Each file is the largest of its kind the reader looks at (16 KiB lines): deep nesting, nested aliases
(a "billion laughs"), one huge value, a file of many long lines (64 KiB). All must be refused with one line, fast, in a few MiB.
"""

import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

from genai_platform import planning
from genai_platform.stacks.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
ROOM = 16 * 1024 - 64  # the longest line the reader looks at


def laughs(levels: int = 12) -> str:
    return "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}' if i else 'x'] * 10)}]\n" for i in range(levels))


CASES = {
    "nested lists": DEV + "  genai-platform:interfaceEndpoints: " + "[" * (ROOM // 2) + "]" * (ROOM // 2) + "\n",
    "nested mappings": DEV + "  genai-platform:interfaceEndpoints: " + "{a: " * (ROOM // 5) + "}" * (ROOM // 5) + "\n",
    "billion laughs (10^12)": laughs() + DEV + "  genai-platform:interfaceEndpoints: *l11\n",
    "one huge value": DEV + "  genai-platform:releaseTag: \"" + "a" * ROOM + "\"\n",
    "64 KiB of long comments": DEV + ("# " + "a" * ROOM + "\n") * 3 + "  genai-platform:releaseTag: latest\n",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
        shutil.copytree(ROOT / "stacks", root / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
        print(f"{'case':<24} {'bytes':>7} {'seconds':>8} {'peak MiB':>9} {'line chars':>10}")
        for name, text in CASES.items():
            (root / "stacks" / "Pulumi.dev.yaml").write_text(text)
            tracemalloc.start()
            started = time.perf_counter()
            try:
                planning.plan_stack("dev", root)
                line = "(accepted!)"
            except ConfigError as error:
                line = str(error)
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"{name:<24} {len(text):>7} {elapsed:>8.2f} {peak:>9.1f} {len(line):>10}")


if __name__ == "__main__":
    main()
