"""Fixtures the whole suite shares: a pinned calendar day, and each stack planned once per test process
(a plan takes seconds)."""

from datetime import date

import pytest

from genai_platform import planning
from genai_platform.mockcloud import Plan
from genai_platform.policies.rules import lifecycle

PINNED_TODAY = date(2026, 12, 1)
"""The day the EKS support calendar is judged on in tests: a test never reads the clock, so the
``eks-version-*`` verdicts of the stacks do not change when the calendar date passes a deadline."""


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr(lifecycle, "today", lambda: PINNED_TODAY)
    return PINNED_TODAY


@pytest.fixture(scope="session")
def stack_plans() -> dict[str, Plan]:
    """Every stack file's plan, by stack name: a new stack is covered without editing a test.

    Shared read-only: a test that needs a changed stack plans its own copy."""
    root = planning.project_dir()
    return {stack: planning.plan_stack(stack, root) for stack in planning.stack_names(root)}
