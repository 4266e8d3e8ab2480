"""Fixtures the whole suite shares: a pinned calendar day, every plan and policy report computed once per test
run, whatever the number of workers (a plan takes seconds), and the ``end_to_end`` marker on every test that
starts a process."""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import json
import pickle
import subprocess
import warnings as _warnings
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The platform's modules are imported inside the fixtures: pytest loads this file in the xdist controller too,
# which runs no test, and importing the providers' SDKs there would hold back the start of every worker by seconds.
if TYPE_CHECKING:
    from genai_platform import policy_check
    from genai_platform.mockcloud import Plan
    from genai_platform.project import Project

PINNED_TODAY = date(2026, 12, 1)
"""The day the EKS support calendar is judged on in tests: a test never reads the clock, so the
``eks-version-*`` verdicts of the stacks do not change when the calendar date passes a deadline."""


PROCESS_FIXTURES = frozenset({"served_pack", "git_repo", "consumer", "import_graph"})
"""Fixtures that start processes (the served pack, git and a base's pip and plan, the wheel's venv): a test using one
is ``end_to_end`` without saying so."""


def pytest_collection_modifyitems(items):
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.end_to_end)


@pytest.fixture(autouse=True)
def processes_only_when_end_to_end(request, monkeypatch):
    """A test that starts a process is marked ``end_to_end``, so ``-m 'not end_to_end'`` is the in-process suite."""
    if request.node.get_closest_marker("end_to_end") is None:
        def refused(self, args, *rest, **kwargs):
            raise AssertionError(f"{request.node.nodeid} starts {args!r}: mark it @pytest.mark.end_to_end")

        monkeypatch.setattr(subprocess.Popen, "_execute_child", refused)


def pytest_collection_finish(session):
    """The test modules have imported the SDKs: settle them as the console script does before it plans."""
    from genai_platform import heap

    heap.settle_imports()


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    from genai_platform.policies.rules import lifecycle

    monkeypatch.setattr(lifecycle, "today", lambda: PINNED_TODAY)
    return PINNED_TODAY


class SharedPlans:
    """``planning.plan_project`` and ``policy_check.analyzed`` once per distinct input in a test run.

    ``plan_project`` is where every plan starts: ``plan_stack``, the ``plan``, ``diff`` and ``first-deploy``
    commands all come through it. A plan is keyed by the stack and the bytes of everything its program reads
    (Pulumi.yaml, the stack's own stack file and every other file of the program's folder but the other stacks'
    files), so a test planning an edited copy of a project shares the plan of any other test planning the same
    edit, and never one of different content. Plans and reports are pickled into ``folder`` under a lock, so the
    parallel workers of one run (pytest-xdist) plan each input once between them; the folder is this run's
    temporary one. The program's warnings are recorded the first time and given again on every later call, as a
    new run would give them. A plan shared with a copy in another folder has its resources' source files moved
    into that folder, where the same bytes put them. Plans are read-only for tests.
    """

    def __init__(self, folder: Path, real_plan_project, real_analyzed, all_rules: tuple):
        self._folder, self._plan_project, self._analyzed = folder, real_plan_project, real_analyzed
        self._all_rules = all_rules  # what analyzed() checks by default; a chosen subset is not shared
        self._plans: dict[str, tuple[Plan, list[str], list[tuple], str]] = {}
        self._placed: dict[tuple[str, str], Plan] = {}  # (key, program folder) -> the plan as planned there
        self._keys: dict[int, str] = {}  # id of a plan given out -> its key (they are all kept, so ids stay unique)
        self._reports: dict[str, tuple[int, list]] = {}  # what policy_check.analyzed returns

    def plan_project(self, project: Project, stack: str, warnings: list[str] | None = None, **options) -> Plan:
        if options:
            return self._plan_project(project, stack, warnings=warnings, **options)
        key = _program_digest(project, stack)
        if key not in self._plans:
            self._plans[key] = self._once(key, lambda: self._record(project, stack))  # a ConfigError is not kept
        planned, program_warnings, raised, planned_in = self._plans[key]
        folder = str(project.program_dir)
        if (key, folder) not in self._placed:
            self._placed[key, folder] = planned if folder == planned_in else _moved(planned, planned_in, folder)
            self._keys[id(self._placed[key, folder])] = key
        plan = self._placed[key, folder]
        if warnings is not None:
            warnings.extend(program_warnings)
        for message, category, filename, lineno in raised:
            _warnings.warn_explicit(message, category, filename, lineno)
        return plan

    def analyzed(self, plan: Plan, environment: str, config=None, rules=None) -> tuple[int, list]:
        if rules not in (None, self._all_rules) or id(plan) not in self._keys:
            return self._analyzed(plan, environment, config, rules or self._all_rules)
        settings = hashlib.sha256(json.dumps([environment, config], sort_keys=True).encode()).hexdigest()[:16]
        key = f"{self._keys[id(plan)]}-policies-{settings}"
        if key not in self._reports:
            self._reports[key] = self._once(key, lambda: self._analyzed(plan, environment, config))
        return self._reports[key]

    def _record(self, project: Project, stack: str) -> tuple[Plan, list[str], list[tuple], str]:
        program_warnings: list[str] = []
        with _warnings.catch_warnings(record=True) as raised:
            _warnings.simplefilter("always")
            plan = self._plan_project(project, stack, warnings=program_warnings)
        return (plan, program_warnings, [(w.message, w.category, w.filename, w.lineno) for w in raised],
                str(project.program_dir))

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


def _moved(plan: Plan, planned_in: str, folder: str) -> Plan:
    """``plan`` as its program gives it when run from ``folder``: the sources in ``planned_in`` are there instead."""
    def moved(source: tuple[str, int] | None) -> tuple[str, int] | None:
        if source is None or not source[0].startswith(planned_in + "/"):
            return source
        return folder + source[0][len(planned_in):], source[1]

    return dataclasses.replace(plan, resources=[dataclasses.replace(resource, source=moved(resource.source))
                                                for resource in plan.resources])


def _program_digest(project: Project, stack: str) -> str:
    digest = hashlib.sha256(project.name.encode() + b"\0" + stack.encode() + b"\0")
    own_stack_file = project.stack_file(stack)
    files = [project.root / "Pulumi.yaml", own_stack_file, *sorted(project.program_dir.rglob("*"))]
    for path in dict.fromkeys(files):  # a team project's folder holds its Pulumi.yaml and stack files too
        other_stack = path.parent == project.config_dir and path.name.startswith("Pulumi.") \
            and path.name.endswith(".yaml") and path != own_stack_file
        if path.is_file() and "__pycache__" not in path.parts and not other_stack:
            digest.update(project.relative(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]  # a file name: the stack name itself may be anything a test passes


@pytest.fixture(scope="session", autouse=True)
def shared_plans(tmp_path_factory, worker_id) -> SharedPlans:
    """Every test plans through one :class:`SharedPlans`, shared by the workers of the run (``-n auto``)."""
    from genai_platform import planning, policy_check

    run_folder = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        run_folder = run_folder.parent  # each worker's base is popen-gwN inside the run's folder
    folder = run_folder / "shared-plans"
    folder.mkdir(exist_ok=True)
    shared = SharedPlans(folder, planning.plan_project, policy_check.analyzed, policy_check.ALL_RULES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planning, "plan_project", shared.plan_project)
        patch.setattr(policy_check, "analyzed", shared.analyzed)
        yield shared


@pytest.fixture(scope="session", autouse=True)
def one_botocore_loader():
    """Every botocore session of the run reads the service models through one loader per search path.

    A new session makes a new loader, which finds and parses the JSON models again (about 0.2 s for each test of
    the state backend against moto); the models are read-only, so sharing the loader changes no behaviour."""
    import botocore.session

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", functools.cache(botocore.session.create_loader))
        yield


@pytest.fixture(scope="session")
def stack_plans(shared_plans, worker_id) -> dict[str, Plan]:
    """Every stack file's plan, by stack name: a new stack is covered without editing a test.

    Shared read-only: a test that needs a changed stack plans its own copy. Each worker starts with another
    stack, so two workers that both need them all plan side by side instead of one waiting for the other."""
    from genai_platform import planning

    root = planning.project_dir()
    stacks = planning.stack_names(root)
    first = int(worker_id.removeprefix("gw")) % len(stacks) if worker_id.startswith("gw") else 0
    plans = {stack: planning.plan_stack(stack, root) for stack in stacks[first:] + stacks[:first]}
    return {stack: plans[stack] for stack in stacks}
