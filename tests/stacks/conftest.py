"""The stack tests' ``plans``: the suite's shared plan of every stack file (``tests/conftest.py``), read-only."""

import pytest

from genai_platform.mockcloud import Plan


@pytest.fixture(scope="session")
def plans(stack_plans) -> dict[str, Plan]:
    return stack_plans
