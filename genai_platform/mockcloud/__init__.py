"""Run a Pulumi program under recording mocks: the engine of the offline plan and of the tests.

``run_under_mocks(program, stack=..., config=...)`` returns a :class:`Plan` with every resource
registration (type, name, parent, inputs, protect, dependencies) and the stack outputs.
"""

from genai_platform.mockcloud.cloud import ACCOUNT_ID, PlatformMocks
from genai_platform.mockcloud.plan import Plan, RecordedResource
from genai_platform.mockcloud.runner import run_under_mocks

__all__ = ["ACCOUNT_ID", "Plan", "PlatformMocks", "RecordedResource", "run_under_mocks"]
