"""The base of a diff: a plan document from a file, or the plan of a git commit made with that commit's own code.

A git ref is planned the way a fresh checkout of it would be: ``git archive <ref>`` into a temporary folder,
``pip install --no-deps --target <tmp>/site <tmp>/tree`` (the base's own packaging, so any package layout it
has works; built with this environment's build tools when they satisfy the base's ``[build-system]``, else in
the isolated environment pip fills from the index), then the base's ``genai-infra`` console script,
``PYTHONPATH=<tmp>/site``, cwd the base tree, ``plan <env> --format json``. Nothing of the head's code is
imported by that run. Another team's project (``--project-dir``, possibly a folder of its repository) is planned
in the same folder of the base tree; a repository that ships no ``genai-infra`` is planned by the running one.

``diff`` plans the head while the base's processes run (:func:`loading`): it takes as long as the slower
of the two, not their sum, and a head that cannot be planned stops the base's processes.
"""

import importlib.metadata
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement

from genai_platform.stacks.config import ConfigError

SCRIPT = "genai-infra"
PLANNED_EXIT_CODES = (0, 3, 4)
"""``plan`` exit codes that still print the document (policy violations and an over-budget estimate)."""
TIMEOUT_SECONDS = 600
RUNNING_PLANNER = ("-m", "genai_platform.cli")
"""The planner running this diff, for a base that ships none of its own."""


@dataclass(frozen=True)
class Base:
    document: dict[str, Any] | None
    """The base's plan document; None when the base has no such stack (every resource is then added)."""
    label: str


def load(spec: str, stack: str, root: Path) -> Base:
    """``spec`` is a plan JSON file (``plan --format json``, or ``--all``'s ``{"stacks": [...]}``) or a git ref."""
    with loading(spec, stack, root) as base:
        return base()


@contextmanager
def loading(spec: str, stack: str, root: Path) -> Iterator[Callable[[], Base]]:
    """Loads the base of ``spec`` while the body runs; the body calls what it is given for the :class:`Base`.

    A file is read and a ref resolved at once, so a bad ``--base`` is refused before anything is planned. A
    git ref is then planned in a thread, which extracts the tree and otherwise waits for the base's pip and
    plan processes; leaving the body without the base (the head could not be planned, or Ctrl-C) terminates
    them."""
    path = Path(spec)
    if path.is_file():
        found = Base(from_file(path, stack), str(path))
        yield lambda: found
        return
    commit = _resolve(spec, root)
    children = Children()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="genai-infra-base") as pool:
        planned = pool.submit(plan_commit, commit, stack, root, children.run)
        try:
            yield lambda: Base(planned.result(), f"{spec} ({commit[:7]})")
        finally:
            children.stop()


class Cancelled(Exception):
    """Raised in the base's thread when :meth:`Children.stop` came before its next process."""


class Children:
    """The base's processes: run one at a time from its thread, all terminated by :meth:`stop`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: list[subprocess.Popen] = []
        self._stopped = False

    def run(self, what: str, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        """``subprocess.run(command, capture_output=True, text=True, **kwargs)``; one that runs over the timeout
        is stopped and refused in one line starting with ``what``."""
        with self._lock:
            if self._stopped:
                raise Cancelled
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
            self._running.append(process)
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise ConfigError(f"{what} ran for over {TIMEOUT_SECONDS} s and was stopped: pass --base a plan file "
                              "(genai-infra plan <env> --format json) instead.") from None
        finally:
            with self._lock:
                self._running.remove(process)
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for process in self._running:
                process.terminate()


def from_file(path: Path, stack: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"--base {path}: not a plan document ({' '.join(str(error).split())}): write one with "
                          f"genai-infra plan {stack} --format json.") from None
    if isinstance(document, dict) and isinstance(document.get("stacks"), list):
        found = [d for d in document["stacks"] if isinstance(d, dict) and d.get("stack") == stack]
        failed = [e for e in document.get("errors") or [] if isinstance(e, dict) and e.get("stack") == stack]
        if not found and failed:
            raise ConfigError(f"--base {path}: {stack} could not be planned there: {failed[0].get('error')}")
        if not found:
            names = ", ".join(str(d.get("stack")) for d in document["stacks"] if isinstance(d, dict)) or "none"
            raise ConfigError(f"--base {path}: holds no plan of {stack} (it has: {names}).")
        document = found[0]
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise ConfigError(f"--base {path}: not a plan document (no resources list): write one with "
                          f"genai-infra plan {stack} --format json.")
    malformed = _malformed(document)
    if malformed:
        raise ConfigError(f"--base {path}: not a plan document ({malformed}): write one with "
                          f"genai-infra plan {stack} --format json.")
    if document.get("stack") not in (None, stack):
        raise ConfigError(f"--base {path}: is the plan of {document['stack']}, not {stack}.")
    return document


def _malformed(document: dict[str, Any]) -> str | None:
    """What keeps ``document`` from being compared, if anything (the diff reads these fields unchecked)."""
    for index, resource in enumerate(document["resources"]):
        if not (isinstance(resource, dict) and all(isinstance(resource.get(key), str) for key in ("urn", "type", "name"))
                and isinstance(resource.get("inputs", {}), dict)):
            return f"resources[{index}] lacks a string urn, type or name"
    if not isinstance(document.get("outputs", {}), dict):
        return "outputs is not an object"
    cost = document.get("cost", {})
    items = cost.get("items", []) if isinstance(cost, dict) else None
    if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("urn"), str)
            and isinstance(item.get("monthly"), int | float) for item in items):
        return "cost.items is not a list of {urn, monthly}"
    return None


def _git(root: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=TIMEOUT_SECONDS, **kwargs)


def _resolve(ref: str, root: Path) -> str:
    if ref.startswith("-"):
        raise ConfigError(f"--base {ref}: neither a plan JSON file nor a git ref.")
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", text=True)
    if found.returncode != 0:
        raise ConfigError(f"--base {ref}: neither a plan JSON file nor a git ref in {root} "
                          "(fetch it first, e.g. git fetch origin main, or pass a file from plan --format json).")
    return found.stdout.strip()


def plan_commit(commit: str, stack: str, root: Path,
                run: Callable[..., subprocess.CompletedProcess]) -> dict[str, Any] | None:
    """The plan document of ``stack`` at ``commit``, planned by that commit's code; None if it has no such stack.

    ``root`` may be a project inside the repository (another team's, ``plan --project-dir``): the same folder of
    the base tree is planned. A base that ships no ``genai-infra`` of its own (another team's repository) is
    planned by the running one, with the base's own packages installed first when it has any. ``run`` starts
    the install and the plan (:meth:`Children.run`)."""
    toplevel = _toplevel(root)
    inside = root.resolve().relative_to(toplevel)
    with tempfile.TemporaryDirectory(prefix="genai-infra-diff-") as folder:
        tree, site = Path(folder) / "tree", Path(folder) / "site"
        _extract(commit, toplevel, tree)  # from the top: in a sub-folder, git archive takes only that folder
        project = tree / inside
        if not _stack_file(project, stack).is_file():
            return None
        if (tree / "pyproject.toml").is_file() or (tree / "setup.py").is_file():
            install = run(f"--base {commit[:7]}: its install",
                          [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *build_isolation(tree),
                           "--target", str(site), str(tree)])
            if install.returncode != 0:
                raise ConfigError(f"--base {commit[:7]}: its code does not install: {_pip_error(install.stderr)}")
        command, paths = _entry_point(tree, site)
        where = ["--project-dir", str(project)] if inside != Path(".") or tuple(command) == RUNNING_PLANNER else []
        planned = run(f"--base {commit[:7]}: its plan of {stack}",
                      [sys.executable, *command, "plan", stack, "--format", "json", *where],
                      cwd=project, env=_environment([site, *paths]))
    if planned.returncode not in PLANNED_EXIT_CODES:
        raise ConfigError(f"--base {commit[:7]}: {stack} could not be planned there (exit {planned.returncode}): "
                          f"{_last_line(planned.stderr, prefer='error:')}")
    try:
        return json.loads(planned.stdout)
    except json.JSONDecodeError:
        raise ConfigError(f"--base {commit[:7]}: its plan printed no JSON document.") from None


DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0",)
"""What pip builds a tree with that has no pyproject.toml, or one without ``[build-system]`` (PEP 518)."""


def build_isolation(tree: Path) -> list[str]:
    """pip's flag for building ``tree``: ``--no-build-isolation`` when this environment has every build requirement
    the tree declares (seconds faster, and no index needed), else none, so pip builds it in an environment of its
    own with them (another team's hatchling or poetry-core, a newer setuptools)."""
    try:
        declared = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8")).get("build-system")
    except FileNotFoundError:
        declared = None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []  # pip refuses it in its own words
    requires = declared.get("requires") if isinstance(declared, dict) else DEFAULT_BUILD_REQUIRES
    if not isinstance(requires, list | tuple):  # pip refuses it too
        return []
    return ["--no-build-isolation"] if all(map(_installed, requires)) else []


def _installed(requirement: object) -> bool:
    """Whether this environment satisfies ``requirement`` (a PEP 508 string; one whose marker excludes this
    environment is satisfied)."""
    try:
        wanted = Requirement(str(requirement))
        if wanted.marker is not None and not wanted.marker.evaluate():
            return True
        return wanted.specifier.contains(importlib.metadata.version(wanted.name), prereleases=True)
    except (InvalidRequirement, importlib.metadata.PackageNotFoundError):
        return False


def _toplevel(root: Path) -> Path:
    found = _git(root, "rev-parse", "--show-toplevel", text=True)
    if found.returncode != 0:
        raise ConfigError(f"{root} is not in a git repository: pass --base a plan file instead of a git ref.")
    return Path(found.stdout.strip()).resolve()


def _extract(commit: str, root: Path, tree: Path) -> None:
    archive = _git(root, "archive", "--format=tar", commit)
    if archive.returncode != 0:
        raise ConfigError(f"--base {commit[:7]}: git archive failed: {_last_line(archive.stderr.decode(errors='replace'))}")
    tree.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")


def _stack_file(tree: Path, stack: str) -> Path:
    """Where the base keeps ``Pulumi.<stack>.yaml``: its Pulumi.yaml's ``stackConfigDir`` (default: the project)."""
    try:
        project = yaml.safe_load((tree / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        project = {}
    folder = project.get("stackConfigDir", ".") if isinstance(project, dict) else "."
    return tree / str(folder) / f"Pulumi.{stack}.yaml"


def _entry_point(tree: Path, site: Path) -> tuple[list[str], list[Path]]:
    """How to run the base's ``genai-infra`` and what to add to its path: its console script as pip wrote it, its
    ``[project.scripts]`` entry, or (a repository that ships none, e.g. another team's) the running planner."""
    script = site / "bin" / SCRIPT
    if script.is_file():
        return [str(script)], []
    try:
        target = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"][SCRIPT]
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        # found where this process finds it (its own PYTHONPATH, else the installed package)
        return list(RUNNING_PLANNER), [Path(entry) for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                       if entry]
    module, _, function = target.partition(":")
    return ["-c", f"import sys; from {module} import {function}; sys.exit({function}())"], []


def _environment(paths: list[Path]) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return {**environment, "PYTHONPATH": os.pathsep.join(map(str, paths)), "PYTHONSAFEPATH": "1"}


_PIP_ERROR_LINES = (re.compile(r"\w+(Error|Exception): "), re.compile(r"(?i)error: (?![a-z-]+$)"))
"""What says why in pip's failure report, best first: the build's exception (``╰─> ModuleNotFoundError: ...``),
then an error line that is more than pip's category name (``error: metadata-generation-failed``)."""


def _pip_error(text: str) -> str:
    lines = [line.strip(" ×╰─>│") for line in text.splitlines() if line.strip(" ×╰─>│")]
    for pattern in _PIP_ERROR_LINES:
        found = [line for line in lines if pattern.match(line)]
        if found:
            return found[0][:400]
    return (lines or ["(no output)"])[-1][:400]


def _last_line(text: str, prefer: str | None = None) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    preferred = [line for line in lines if prefer and line.startswith(prefer)]
    return (preferred or lines or ["(no output)"])[0 if preferred else -1][:400]
