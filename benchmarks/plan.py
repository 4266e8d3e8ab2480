"""Resources and wall time of the offline plan of each stack (figures, not a pass/fail test).

    .venv/bin/python benchmarks/plan.py [--repeat N] [--default-gc]
"""

import argparse
import resource
import statistics
import time

from genai_platform import heap, planning


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="plans per stack; the median is shown")
    parser.add_argument("--default-gc", action="store_true",
                        help="keep CPython's collector settings instead of settling them as the console script does")
    args = parser.parse_args()
    if not args.default_gc:
        heap.settle_imports()

    root = planning.project_dir()
    print(f"{'stack':<10} {'resources':>9} {'components':>10} {'median s':>9} {'min s':>7}")
    for stack in planning.stack_names(root):
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            plan = planning.plan_stack(stack, root)
            times.append(time.perf_counter() - started)
        custom = sum(1 for r in plan.resources if r.custom)
        components = sum(1 for r in plan.resources if not r.custom) - 1  # minus the stack root
        print(f"{stack:<10} {custom:>9} {components:>10} {statistics.median(times):>9.2f} {min(times):>7.2f}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
