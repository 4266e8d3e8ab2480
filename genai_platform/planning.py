"""The offline plan: run a Pulumi Python program with a stack's config under recording mocks.

The program is this repository's own (``stacks/``, project ``genai-platform``) or another team's Pulumi Python
project (``genai-infra plan --project-dir``); both are a :class:`~genai_platform.project.Project` and go through
:func:`plan_project`. Everything the user can get wrong is refused before the program runs (the stack file; for
the platform its typed config and the instance-type and region catalogue; for another project Pulumi.yaml's
declarations, as the engine checks them, and the provider keys). A component that still refuses an argument the
platform's config produced is traced back to the config key that fed it; an exception in another team's program
is one line naming their file and line. Every failure is a :class:`ConfigError` (exit 2).
"""

import contextlib
import json
import os
import re
import runpy
import sys
import sysconfig
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

import pulumi

from genai_platform.catalogue import check_catalogue, check_priced_region
from genai_platform.cost.prices import load_prices
from genai_platform.mockcloud import Plan, run_under_mocks
from genai_platform.project import Project, read_project
from genai_platform.stack_file import SECRET_PLACEHOLDER, StackConfig, apply_project_config, read_stack_file
from genai_platform.stacks.config import PROJECT, SETTINGS, ConfigError, EnvConfig, elide, load, provider_problem, snake_case

__all__ = ["SECRET_PLACEHOLDER", "plan_project", "plan_stack", "project_dir", "read_stack_config", "stack_config",
           "stack_names", "stack_settings"]

MAX_COMPONENT_MESSAGE = 400
"""Characters of a component's own message kept in the one error line."""


def project_dir(start: Path | None = None) -> Path:
    """The checkout holding ``Pulumi.yaml``: the nearest one above ``start`` (default: cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file() and (folder / "stacks").is_dir():
            return folder
    raise ConfigError(f"no Pulumi.yaml with a stacks/ folder in {here} or above: run genai-infra from the checkout "
                      "or pass --project-dir.")


def stack_names(root: Path) -> list[str]:
    """Stacks of the project in ``root`` that have a ``Pulumi.<name>.yaml``."""
    return read_project(root).stack_names()


def read_stack_config(root: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    """The flat config Pulumi would pass to the program for ``stack``, and its secret keys (for tests and
    tools that run the program themselves, e.g. with overrides)."""
    stack_config = read_stack_file(read_project(root), stack)
    return stack_config.config, stack_config.secret_keys


def stack_settings(stack: str, root: Path) -> EnvConfig:
    """The validated settings of the platform's ``stack`` (budgets, tier...) as the program sees them."""
    project = read_project(root)
    return load(read_stack_file(project, stack).config, stack, project.relative(project.stack_file(stack)))


def stack_config(project: Project, stack: str) -> StackConfig:
    """The config the engine would hand ``project``'s program for ``stack``, refused as the engine (or the
    platform's typed config) refuses it."""
    config = read_stack_file(project, stack)
    file = project.relative(project.stack_file(stack))
    if project.is_platform:
        check_catalogue(load(config.config, stack, file), file, load_prices())
        return config
    config = apply_project_config(project, stack, config)
    # Their own namespace is theirs; the providers' keys are checked as the platform's are.
    for key, value in config.config.items():
        problem = provider_problem(key, value)
        if problem:
            raise ConfigError(f"{file}: {key} = {elide(repr(value))} is invalid: {problem}.")
    if "aws:region" in config.config:
        check_priced_region(config.config["aws:region"], file, load_prices())
    return config


def plan_stack(stack: str, root: Path | None = None, warnings: list[str] | None = None) -> Plan:
    """Plan ``stack`` of the project in ``root`` (default: this checkout's ``genai-platform``)."""
    return plan_project(read_project(root or project_dir()), stack, warnings)


def plan_project(project: Project, stack: str, warnings: list[str] | None = None) -> Plan:
    """Run ``project``'s program for ``stack`` under mocks, as the Python language host runs it.

    Raises :class:`ConfigError` for anything the user fixes: the stack file, a component's ``ValueError``
    (traced to the platform's config key) or, in another team's program, any exception (their file and line).
    The program's warnings go to ``warnings`` when given.
    """
    config = stack_config(project, stack)
    file = project.relative(project.stack_file(stack))
    try:
        with _running(project):
            return run_under_mocks(lambda: runpy.run_path(str(project.program), run_name="__main__"),
                                   project=project.name, stack=stack, config=config.config,
                                   secret_keys=config.secret_keys, warnings=warnings)
    except ConfigError:
        raise
    except (Exception, SystemExit) as error:  # a sys.exit() in a team's program must not end genai-infra
        if not project.is_platform:
            raise program_error(error, project) from None
        if isinstance(error, ValueError):
            raise trace_to_config(error, config, load(config.config, stack, file), file) from None
        raise


_INSTALLED = tuple({sysconfig.get_paths()[key] + os.sep for key in ("purelib", "platlib")})


@contextlib.contextmanager
def program_warnings(into: list[str]) -> Iterator[None]:
    """The Python warnings raised while planning, appended to ``into`` once each (one line, sorted).

    A ``DeprecationWarning`` raised by an installed package is left out: Python's default filters hide one raised
    outside ``__main__``, so a real run never shows it (the SDKs raise theirs when a module is imported, e.g.
    ``s3.BucketV2 has been deprecated``; using a deprecated resource still warns through the engine's log).
    """
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            into += sorted({" ".join(str(w.message).split()) for w in raised
                            if not (issubclass(w.category, DeprecationWarning) and w.filename.startswith(_INSTALLED))})


@contextlib.contextmanager
def _running(project: Project) -> Iterator[None]:
    """The program's working directory and imports, as the language host sets them up.

    The host runs the program in its folder, with a folder program first on ``sys.path`` (``runpy`` does that);
    what the program prints is the engine's diagnostics, not the plan's report, so it goes to stderr (stdout may
    be a JSON or SARIF document). A team's module is forgotten after the run, so a second project with a
    ``team_lib`` of its own gets its own.
    """
    folder = project.program_dir
    before = set(sys.modules)
    if not project.is_platform:
        _refuse_shadowed_modules(project)
    try:
        with contextlib.chdir(folder), contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if not project.is_platform:
            for name in set(sys.modules) - before:
                if _inside(getattr(sys.modules[name], "__file__", None), folder):
                    del sys.modules[name]


def _refuse_shadowed_modules(project: Project) -> None:
    """A module of the team's folder that this process has already imported from elsewhere would silently be the
    other one (today: a team package named ``components``, ``stacks`` or ``policies`` is this platform's)."""
    folder = project.program_dir
    for entry in sorted(folder.iterdir()):
        name = entry.stem if entry.suffix == ".py" else entry.name if (entry / "__init__.py").is_file() else None
        loaded = sys.modules.get(name) if name and name != "__main__" else None
        source = getattr(loaded, "__file__", None)
        if loaded is not None and not _inside(source, folder):
            raise ConfigError(f"{project.relative(entry)}: the module {name} of the program is shadowed by the "
                              f"{name} that genai-infra itself imports ({source}): rename yours (e.g. "
                              f"{project.name.replace('-', '_')}_{name}).")


def _inside(path: str | None, folder: Path) -> bool:
    return bool(path) and Path(path).resolve().is_relative_to(folder.resolve())


def program_error(error: BaseException, project: Project) -> ConfigError:
    """One line for an exception in a team's program: the innermost line of their own code that raised it."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if _inside(frame.filename, project.root) and "site-packages" not in Path(frame.filename).parts]
    where = (f"{project.relative(Path(frames[-1].filename))}: line {frames[-1].lineno}" if frames
             else project.relative(project.program))
    message = _one_line(str(error))
    if isinstance(error, pulumi.RunError):  # what the language host prints for one: its message, no traceback
        return ConfigError(f"{where}: {message}")
    return ConfigError(f"{where}: the program raised {type(error).__name__}: {message}")


def _one_line(text: str) -> str:
    message = " ".join(text.split())
    return message[:MAX_COMPONENT_MESSAGE] + "..." if len(message) > MAX_COMPONENT_MESSAGE else message


def trace_to_config(error: ValueError, stack_config: StackConfig, settings: EnvConfig, file: str) -> ConfigError:
    """The config key whose value the component's message names (keys the file sets win over presets)."""
    message = _one_line(str(error))
    fed = [setting.key for setting in SETTINGS
           if not setting.secret and _mentions(message, getattr(settings, snake_case(setting.key)))]
    fed.sort(key=lambda key: f"{PROJECT}:{key}" not in stack_config.explicit)
    if not fed:
        return ConfigError(f"{file}: a component refused what the config produced: {message}")
    key = fed[0]
    value = getattr(settings, snake_case(key))
    shown = elide(json.dumps(value) if isinstance(value, list) else repr(value))
    return ConfigError(f"{file}: {PROJECT}:{key} = {shown} was refused by a component: {message}")


def _mentions(message: str, value: object) -> bool:
    """Whether ``message`` names ``value`` (a string or any list item of 2+ characters, as a whole word)."""
    items = value if isinstance(value, list) else [value]
    return any(isinstance(item, str) and len(item) >= 2
               and re.search(rf"(?<![\w.-]){re.escape(item)}(?![\w-])", message) for item in items)
