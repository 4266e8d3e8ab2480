"""Fixtures the whole suite shares: each stack is planned once per test process (a plan takes seconds)."""

import pytest

from genai_infra import planning
from genai_infra.mockcloud import Plan


@pytest.fixture(scope="session")
def stack_plans() -> dict[str, Plan]:
    """Every stack file's plan, by stack name: a new stack is covered without editing a test.

    Shared read-only: a test that needs a changed stack plans its own copy."""
    root = planning.project_dir()
    return {stack: planning.plan_stack(stack, root) for stack in planning.stack_names(root)}
