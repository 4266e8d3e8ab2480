"""Wall time of importing components in a fresh process (figures, not a pass/fail test).

    .venv/bin/python benchmarks/import_time.py [--repeat N]

The component packages export their names lazily (``components/exports.py``): one component costs what its own
module imports; the last line imports every AWS, GCP and Kubernetes component, what a package import cost before.
"""

import argparse
import statistics
import subprocess
import sys
import time

STATEMENTS = (
    "import genai_platform.components.aws",
    "from genai_platform.components.aws import QueueWithDlq",
    "from genai_platform.components.aws import Vpc",
    "from genai_platform.components.aws import EksCluster",
    "from genai_platform.components.aws import *; from genai_platform.components.gcp import *; "
    "from genai_platform.components.k8s import *",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per statement; the median is shown")
    args = parser.parse_args()

    print(f"{'median s':>9} {'min s':>7}  statement")
    for statement in STATEMENTS:
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True)
            times.append(time.perf_counter() - started)
        print(f"{statistics.median(times):>9.2f} {min(times):>7.2f}  {statement}")


if __name__ == "__main__":
    main()
