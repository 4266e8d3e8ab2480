"""Wall time of the README's test command, and the slowest tests (figures, not a pass/fail test).

    .venv/bin/python benchmarks/test_suite.py [--workers auto|N] [--slowest K] [--marker EXPR]

Runs ``python -m pytest -n <workers> -q`` in a fresh process and prints the test count, the wall time and
the K slowest test phases pytest reports; ``--marker 'not end_to_end'`` times the suite without the tests
that start processes. The suite's plans and policy reports are computed once per run
and shared by the workers (tests/conftest.py), so the figure is a cold run.
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (the README's command: auto)")
    parser.add_argument("--slowest", type=int, default=10, help="how many of the slowest test phases to list")
    parser.add_argument("--marker", help="only the tests this marker expression selects (pytest -m)")
    args = parser.parse_args()

    selected = ["-m", args.marker] if args.marker else []
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-n", args.workers, "-q", f"--durations={args.slowest}",
                             *selected], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()
    print(f"suite: {summary}")
    print(f"wall time of the command: {wall:.1f} s (workers: {args.workers}"
          f"{f', -m {args.marker!r}' if args.marker else ''})")
    slowest = re.findall(r"^(\d+\.\d+)s (call|setup|teardown)\s+(\S+)$", result.stdout, re.M)
    for seconds, phase, test in slowest:
        print(f"  {float(seconds):6.2f} s {phase:<8} {test}")
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
