"""Wall time of the offline policy check of each stack (figures, not a pass/fail test).

    .venv/bin/python benchmarks/policy_check.py [--repeat N] [--default-gc]

The check sends every resource through pulumi_policy's analyzer twice (first preview, known values);
the parity test serves the same requests to the pack as the engine starts it (``--durations`` of
``pytest tests/policies/test_parity.py`` shows that side).
"""

import argparse
import statistics
import time

from genai_platform import heap, planning, policy_check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="checks per stack; the median is shown")
    parser.add_argument("--default-gc", action="store_true",
                        help="keep CPython's collector settings instead of settling them as the console script does")
    args = parser.parse_args()
    if not args.default_gc:
        heap.settle_imports()

    root = planning.project_dir()
    print(f"{'stack':<10} {'resources':>9} {'violations':>10} {'notes':>6} {'median s':>9} {'min s':>7}")
    for stack in planning.stack_names(root):
        plan = planning.plan_stack(stack, root)
        config = policy_check.load_config(stack)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = policy_check.evaluate(plan, stack, config)
            times.append(time.perf_counter() - started)
        print(f"{stack:<10} {len(plan.resources):>9} {len(report.violations):>10} {len(report.notes):>6} "
              f"{statistics.median(times):>9.2f} {min(times):>7.2f}")


if __name__ == "__main__":
    main()
