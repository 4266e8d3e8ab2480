"""A Pulumi project as the engine reads its ``Pulumi.yaml``: name, runtime, main, stackConfigDir, config.

``genai-infra plan`` plans this repository's own project (``genai-platform``, with its typed config in
``stacks/config.py``) and any other team's Pulumi Python project (``--project-dir``). Both are a
:class:`Project`; what differs is only whose config schema applies to the project's own namespace.

What the engine does with a project, from pulumi/pulumi (pkg v3.259, commit 1b59498):

* ``sdk/go/common/workspace/project.go``: ``RewriteShorthandConfigValues`` (a plain value under ``config:`` is
  the *default* of a project key, the *value* of another namespace's key), ``RewriteConfigPathIntoStackConfigDir``
  (``config: <folder>`` is the old spelling of ``stackConfigDir``), ``Project.Validate`` (an array declares its
  ``items``; a default has the declared type; another namespace's key has a ``value`` and no type) and
  ``ValidateConfigValue`` (the types);
* ``pkg/workspace/config.go``: ``ValidateStackConfigAndApplyProjectConfig`` (defaults and values fill the keys the
  stack file does not set; a project key without either that the stack does not set is missing) and its messages
  ``Stack 'dev' is missing configuration value 'x'`` and ``Stack 'dev' with configuration key 'x' must be of type
  'integer'``;
* ``pkg/engine/project.go`` ``getPwdMain``: ``main`` is relative to the project folder; a folder runs as ``.`` in
  that folder (the Python host's ``runpy.run_path(".")`` puts it first on ``sys.path``), a file runs in its folder.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genai_platform.engine_yaml import read_mapping
from genai_platform.stacks.config import PROJECT, ConfigError, declared_keys, elide

PROJECT_FILE = "Pulumi.yaml"
_TYPES = ("string", "integer", "boolean", "array", "object")


@dataclass(frozen=True)
class DeclaredKey:
    """One entry of ``Pulumi.yaml``'s ``config:`` block, after the engine's shorthand rewrite."""

    key: str
    """The namespaced key (``team-app:dbName``)."""
    written: str
    """The key as ``Pulumi.yaml`` writes it (``dbName``): the engine's messages quote it so."""
    type: str | None = None
    items: Any = None
    """For an array: the items' type declaration (``{"type": "string"}``, possibly nested)."""
    default: Any = None
    value: Any = None
    secret: bool = False

    @property
    def required(self) -> bool:
        return self.default is None and self.value is None

    def type_name(self) -> str:
        """``array<string>`` as the engine's ``InferFullTypeName`` spells it."""
        return _full_type_name(self.type, self.items)


@dataclass(frozen=True)
class Project:
    """A Pulumi project folder, as the engine and its Python language host see it."""

    name: str
    root: Path
    """The folder holding ``Pulumi.yaml``; paths in messages are relative to it."""
    program: Path
    """What the language host runs: a folder (its ``__main__.py``, the folder first on ``sys.path``) or a file."""
    config_dir: Path
    """Where ``Pulumi.<stack>.yaml`` files live (``stackConfigDir``; the project folder by default)."""
    declared: tuple[DeclaredKey, ...] = ()
    is_platform: bool = False
    """This repository's own project: its namespace is checked against ``stacks/config.py``'s SETTINGS."""
    kinds: Mapping[str, str] = field(default_factory=dict)
    """Declared type of each namespaced key (the platform's SETTINGS kinds for its own project)."""

    @property
    def program_dir(self) -> Path:
        """The working directory the program runs in (``getPwdMain``'s pwd)."""
        return self.program if self.program.is_dir() else self.program.parent

    def stack_file(self, stack: str) -> Path:
        return self.config_dir / f"Pulumi.{stack}.yaml"

    def relative(self, path: Path) -> str:
        """``path`` as messages show it: relative to the project folder when inside it."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def stack_names(self) -> list[str]:
        """Stacks that have a ``Pulumi.<name>.yaml`` in the stack config folder."""
        return sorted(path.name[len("Pulumi."):-len(".yaml")] for path in self.config_dir.glob("Pulumi.*.yaml"))

    @property
    def secret_keys(self) -> list[str]:
        return [declared.key for declared in self.declared if declared.secret]

    def full_key(self, key: str) -> str:
        """A stack or project key with the project namespace the engine gives a bare one."""
        return key if ":" in key else f"{self.name}:{key}"


def read_project(root: Path) -> Project:
    """The project in ``root``, or a :class:`ConfigError` naming ``Pulumi.yaml``, the entry and the fix."""
    path = root / PROJECT_FILE
    if not path.is_file():
        raise ConfigError(f"{root}: no {PROJECT_FILE}: pass --project-dir the folder of a Pulumi project "
                          "(the one holding Pulumi.yaml).")
    document = read_mapping(path, PROJECT_FILE)
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{PROJECT_FILE}: project is missing a 'name' attribute: add name: <project>.")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name):
        raise ConfigError(f"{PROJECT_FILE}: name = {elide(repr(name))} is not a project name: use letters, digits, "
                          "_, - and . (e.g. team-app).")
    runtime = document.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ConfigError(f"{PROJECT_FILE}: runtime = {elide(repr(runtime_name))}: genai-infra plans Pulumi Python "
                          "programs only (runtime: python); plan this project with pulumi preview.")
    config = document.get("config")
    config_dir = document.get("stackConfigDir")
    if isinstance(config, str):  # RewriteConfigPathIntoStackConfigDir: the old spelling of stackConfigDir
        if config_dir is not None:
            raise ConfigError(f"{PROJECT_FILE}: sets both config: {elide(config)} and stackConfigDir: keep only "
                              "stackConfigDir.")
        config_dir, config = config, None
    declared = _declared(name, config)
    platform = name == PROJECT
    return Project(
        name=name, root=root, program=_program(root, document.get("main")),
        config_dir=_folder(root, config_dir, "stackConfigDir"), declared=declared, is_platform=platform,
        kinds={**({key: setting.kind for key, setting in declared_keys().items()} if platform else {}),
               **{d.key: d.type for d in declared if d.type}},
    )


def _program(root: Path, main: Any) -> Path:
    if main in (None, ""):
        program = root
    elif not isinstance(main, str):
        raise ConfigError(f"{PROJECT_FILE}: main = {elide(repr(main))} is not a path: name the program's file or "
                          "folder, relative to Pulumi.yaml.")
    else:
        program = (root / main).resolve()
        if not program.exists():
            # The engine's words (pkg/engine/project.go getPwdMain), with the fix.
            raise ConfigError(f"{PROJECT_FILE}: project 'main' could not be read: {main} does not exist: point "
                              "main at the program's file or folder.")
    if program.is_dir() and not (program / "__main__.py").is_file():
        # What pulumi-language-python-exec logs when the folder has no program.
        raise ConfigError(f"{PROJECT_FILE}: unable to find main python program `__main__.py` in "
                          f"`{program}`: add it, or point main at the program's file.")
    return program


def _folder(root: Path, value: Any, key: str) -> Path:
    if value in (None, ""):
        return root
    folder = root / value if isinstance(value, str) else None
    if folder is None or not folder.is_dir():
        raise ConfigError(f"{PROJECT_FILE}: {key} = {elide(repr(value))} is not a folder of the project: create it "
                          "or fix the path.")
    return folder


def _declared(name: str, config: Any) -> tuple[DeclaredKey, ...]:
    if config is None:
        return ()
    if not isinstance(config, dict):
        raise ConfigError(f"{PROJECT_FILE}: config must be a mapping of key: declaration lines.")
    declared = []
    for written, spec in config.items():
        ours = ":" not in written or written.startswith(f"{name}:")
        if not isinstance(spec, dict):  # RewriteShorthandConfigValues
            spec = {"default": spec} if ours else {"value": spec}
        key = written if ":" in written else f"{name}:{written}"
        entry = DeclaredKey(key=key, written=written, type=spec.get("type"), items=spec.get("items"),
                            default=spec.get("default"), value=spec.get("value"), secret=spec.get("secret") is True)
        _validate_declaration(entry, ours)
        declared.append(entry)
    return tuple(declared)


def _validate_declaration(entry: DeclaredKey, ours: bool) -> None:
    """``Project.Validate``'s rules, in its words."""
    where = f"{PROJECT_FILE}: config {entry.written}"
    if entry.default is not None and entry.value is not None:
        raise ConfigError(f"{where}: project config '{entry.written}' cannot have both a 'default' and 'value' "
                          "attribute: keep one.")
    if not ours:
        if entry.type is not None or entry.default is not None:
            raise ConfigError(f"{where}: Configuration key '{entry.written}' is not namespaced by the project and "
                              "should not define a type or default: give it a value: instead.")
        return
    if entry.type is not None and entry.type not in _TYPES:
        raise ConfigError(f"{where}: type = {elide(repr(entry.type))} is not a config type: use one of "
                          f"{', '.join(_TYPES)}.")
    if entry.type == "array" and entry.items is None:
        raise ConfigError(f"{where}: The configuration key '{entry.written}' declares an array but does not "
                          "specify the underlying type via the 'items' attribute: add items: {type: string}.")
    if entry.type is not None and entry.default is not None and not matches_type(entry.type, entry.items, entry.default):
        raise ConfigError(f"{where}: The default value specified for configuration key '{entry.written}' is not of "
                          f"the expected type '{entry.type_name()}': fix the default.")


def matches_type(type_name: str | None, items: Any, value: Any) -> bool:
    """The engine's ``ValidateConfigValue``: a stack file's scalar reaches it as text, a list or mapping as JSON."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value == math.trunc(value)):
            return True
        return isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]+", value) is not None  # Go's strconv.Atoi
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(matches_type(items.get("type"), items.get("items"), item) for item in value)


def _full_type_name(type_name: str | None, items: Any) -> str:
    if isinstance(items, dict):
        return f"array<{_full_type_name(items.get('type'), items.get('items'))}>"
    return type_name or ""
