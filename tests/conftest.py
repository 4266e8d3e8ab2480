"""Fixtures the whole suite shares: a pinned calendar day, and every plan and policy report computed once per
test run, whatever the number of workers (a plan takes seconds)."""

import fcntl
import hashlib
import json
import pickle
import warnings as _warnings
from datetime import date
from pathlib import Path

import pytest

from genai_platform import planning, policy_check
from genai_platform.mockcloud import Plan
from genai_platform.policies.rules import lifecycle

PINNED_TODAY = date(2026, 12, 1)
"""The day the EKS support calendar is judged on in tests: a test never reads the clock, so the
``eks-version-*`` verdicts of the stacks do not change when the calendar date passes a deadline."""


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr(lifecycle, "today", lambda: PINNED_TODAY)
    return PINNED_TODAY


class SharedPlans:
    """``planning.plan_stack`` and ``policy_check.evaluate`` once per distinct input in a test run.

    A plan is keyed by the stack and the bytes of everything its program reads (Pulumi.yaml, the stack's
    own stack file and every other file under stacks/ but the other stacks' files), so a test planning an
    edited copy of the project shares the plan of any other test planning the same edit, and never one of
    different content. Plans and reports are pickled into ``folder`` under a lock, so the parallel workers
    of one run (pytest-xdist) plan each input once between them; the folder is this run's temporary one.
    The program's warnings are recorded the first time and given again on every later call, as a new run
    would give them. Plans are read-only for tests.
    """

    def __init__(self, folder: Path, real_plan_stack, real_evaluate):
        self._folder, self._plan_stack, self._evaluate = folder, real_plan_stack, real_evaluate
        self._plans: dict[str, tuple[Plan, list[str], list[tuple]]] = {}
        self._keys: dict[int, str] = {}  # id of a shared plan -> its key
        self._reports: dict[str, policy_check.PolicyReport] = {}

    def plan_stack(self, stack: str, root: Path | None = None, warnings: list[str] | None = None, **options) -> Plan:
        root = root or planning.project_dir()
        if options:
            return self._plan_stack(stack, root, warnings=warnings, **options)
        key = _program_digest(root, stack)
        if key not in self._plans:
            self._plans[key] = self._once(key, lambda: self._record(stack, root))  # a ConfigError is not kept
            self._keys[id(self._plans[key][0])] = key
        plan, program_warnings, raised = self._plans[key]
        if warnings is not None:
            warnings.extend(program_warnings)
        for message, category, filename, lineno in raised:
            _warnings.warn_explicit(message, category, filename, lineno)
        return plan

    def evaluate(self, plan: Plan, environment: str, config=None, **options) -> policy_check.PolicyReport:
        if options or id(plan) not in self._keys:
            return self._evaluate(plan, environment, config, **options)
        settings = hashlib.sha256(json.dumps([environment, config], sort_keys=True).encode()).hexdigest()[:16]
        key = f"{self._keys[id(plan)]}-policies-{settings}"
        if key not in self._reports:
            self._reports[key] = self._once(key, lambda: self._evaluate(plan, environment, config))
        return self._reports[key]

    def _record(self, stack: str, root: Path) -> tuple[Plan, list[str], list[tuple]]:
        program_warnings: list[str] = []
        with _warnings.catch_warnings(record=True) as raised:
            _warnings.simplefilter("always")
            plan = self._plan_stack(stack, root, warnings=program_warnings)
        return plan, program_warnings, [(w.message, w.category, w.filename, w.lineno) for w in raised]

    def _once(self, key: str, compute):
        """``compute()``'s result, computed by whichever worker asks first and read by the others."""
        stored = self._folder / f"{key}.pickle"
        with open(self._folder / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if stored.exists():
                return pickle.loads(stored.read_bytes())
            value = compute()
            stored.write_bytes(pickle.dumps(value))
            return value


def _program_digest(root: Path, stack: str) -> str:
    digest = hashlib.sha256(stack.encode() + b"\0")
    for path in [root / "Pulumi.yaml", *sorted((root / "stacks").rglob("*"))]:
        other_stack = path.parent == root / "stacks" and path.name.startswith("Pulumi.") \
            and path.name != f"Pulumi.{stack}.yaml"
        if path.is_file() and "__pycache__" not in path.parts and not other_stack:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]  # a file name: the stack name itself may be anything a test passes


@pytest.fixture(scope="session", autouse=True)
def shared_plans(tmp_path_factory, worker_id) -> SharedPlans:
    """Every test plans through one :class:`SharedPlans`, shared by the workers of the run (``-n auto``)."""
    run_folder = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        run_folder = run_folder.parent  # each worker's base is popen-gwN inside the run's folder
    folder = run_folder / "shared-plans"
    folder.mkdir(exist_ok=True)
    shared = SharedPlans(folder, planning.plan_stack, policy_check.evaluate)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planning, "plan_stack", shared.plan_stack)
        patch.setattr(policy_check, "evaluate", shared.evaluate)
        yield shared


@pytest.fixture(scope="session")
def stack_plans(shared_plans) -> dict[str, Plan]:
    """Every stack file's plan, by stack name: a new stack is covered without editing a test.

    Shared read-only: a test that needs a changed stack plans its own copy."""
    root = planning.project_dir()
    return {stack: shared_plans.plan_stack(stack, root) for stack in planning.stack_names(root)}
