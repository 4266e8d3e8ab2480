"""Wall time of ``genai-infra --help`` and of each command's ``--help``, each in a fresh process (figures, not a
pass/fail test; the target for the top-level help is under 0.3 s).

    .venv/bin/python benchmarks/cli_help.py [--repeat N]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from genai_platform.commands import SUMMARIES

SCRIPT = Path(sys.executable).parent / "genai-infra"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="runs per command line; the median is shown")
    args = parser.parse_args()

    print(f"{'command line':<32} {'median s':>9} {'min s':>7}")
    for argv in ([], *([name] for name in SUMMARIES)):
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run([str(SCRIPT), *argv, "--help"], check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
        line = " ".join(["genai-infra", *argv, "--help"])
        print(f"{line:<32} {statistics.median(times):>9.3f} {min(times):>7.3f}")


if __name__ == "__main__":
    main()
