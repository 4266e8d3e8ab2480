"""Fixtures every test gets."""

from datetime import date

import pytest

from policies.rules import lifecycle

PINNED_TODAY = date(2026, 12, 1)
"""The day the EKS support calendar is judged on in tests: a test never reads the clock, so the
``eks-version-*`` verdicts of the stacks do not change when the calendar date passes a deadline."""


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr(lifecycle, "today", lambda: PINNED_TODAY)
    return PINNED_TODAY
