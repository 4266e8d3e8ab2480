"""Garbage-collector settings for a process that plans.

A plan makes hundreds of thousands of short-lived objects (futures, tasks, property bags) on top of about half a
million long-lived ones (the provider SDKs' classes and types, imported once). With CPython's default thresholds
the collector walks the long-lived ones again on every older-generation pass, which made about half of a plan's
time. :func:`settle_imports` takes what is imported out of the collector's view (``gc.freeze``) and lets the
youngest generation grow larger before a pass. Cyclic garbage is still collected; nothing frozen is ever freed,
so it is called once per process, after the imports and before the first plan.
"""

import gc

YOUNGEST_GENERATION_THRESHOLD = 50_000
"""Allocations between passes over the youngest generation (CPython's default: 700)."""


def settle_imports() -> None:
    """Collect import-time garbage, freeze everything alive, and raise the youngest generation's threshold."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_GENERATION_THRESHOLD, middle, oldest)
