"""Run a program under :class:`PlatformMocks` and record every registration."""

import contextvars
import logging
import math
import urllib.parse
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockEngine, MockMonitor, MockSettings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from genai_platform.mockcloud.aliases import alias_urns
from genai_platform.mockcloud.cloud import PlatformMocks
from genai_platform.mockcloud.plan import Plan, RecordedResource

# Signatures the engine protocol uses inside property bags (sdk/go/common/resource/sig).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_PLACEHOLDER = "[secret]"


class DuplicateUrnError(ValueError):
    """Two resources with one URN: the engine refuses the second registration, so the mocks do too."""


class RecordingMonitor(MockMonitor):
    """A mock resource monitor that keeps what each ``RegisterResource`` request carried.

    ``MockResourceArgs`` has no parent, protect or dependencies; the request does.
    """

    def __init__(self, mocks: PlatformMocks):
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self._urns: set[str] = set()
        self.duplicate_urns: list[str] = []
        self._aliases: dict[str, list[str]] = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if response.urn in self._urns:
            # Raised once the program has finished (see run_under_mocks): raised here, the error would sit in
            # the futures of the resource's outputs and be logged again, unretrieved, when they are collected.
            self.duplicate_urns.append(response.urn)
        self._urns.add(response.urn)
        registered = self.resources.get(response.urn)
        aliases = alias_urns(request, response.urn, self._aliases.get(request.parent, []))
        self._aliases[response.urn] = aliases
        self.recorded.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=request.custom,
                protect=bool(request.protect),
                dependencies=sorted(set(request.dependencies)),
                inputs=engine_properties(request.object),
                id=response.id or None,
                remote=request.remote,
                outputs=registered.state if registered else {},
                source=_source(request),
                aliases=aliases,
            )
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.stack_outputs = engine_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def run_under_mocks(
    program: Callable[[], Any],
    *,
    project: str = "genai-platform",
    stack: str = "test",
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    mocks: PlatformMocks | None = None,
    warnings: list[str] | None = None,
) -> Plan:
    """Run ``program`` inside a fresh stack under mocks and return what it registered.

    ``config`` is the flat Pulumi config (``{"aws:region": "us-east-1", ...}``, values as strings).
    Each call runs in its own context, so runs do not leak roots, config or resources into each other.
    Exceptions raised by the program propagate unchanged. The program's ``pulumi.log`` warnings and errors
    are appended to ``warnings`` when it is given (the caller decides when to show them), else logged.
    """
    config = dict(config or {})
    mocks = mocks or PlatformMocks(region=config.get("aws:region", "us-east-1"),
                                   gcp_project=config.get("gcp:project", "genai-platform-dev"),
                                   gcp_region=config.get("gcp:region", "europe-west4"))
    monitor = RecordingMonitor(mocks)

    def run() -> Plan:
        settings.configure(
            MockSettings(
                monitor=monitor,
                monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
                engine=MockEngine(_collecting_logger(warnings) if warnings is not None else None),
                project=project,
                stack=stack,
                dry_run=False,
                organization="organization",
                callbacks=None,
            )
        )
        settings.ROOT.set(None)
        set_all_config(config, secret_keys or [])
        _sync_await(run_in_stack(program))
        if monitor.duplicate_urns:
            # The engine's own words (pkg/resource/deploy/step_generator.go).
            raise DuplicateUrnError(f"Duplicate resource URN '{monitor.duplicate_urns[0]}'; try giving it a unique name")
        resources = sorted(monitor.recorded, key=lambda r: r.urn)
        return Plan(project=project, stack=stack, resources=resources, outputs=monitor.stack_outputs)

    return contextvars.copy_context().run(run)


def _source(request) -> tuple[str, int] | None:
    """The creating code's file and line from the request's ``sourcePosition`` (a ``file://`` URI)."""
    position = request.sourcePosition
    if not position.uri.startswith("file://"):
        return None
    return urllib.parse.unquote(urllib.parse.urlparse(position.uri).path), position.line


class _Collect(logging.Handler):
    def __init__(self, into: list[str]):
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(" ".join(record.getMessage().split()))


def _collecting_logger(into: list[str]) -> logging.Logger:
    logger = logging.Logger("genai_platform.plan")  # not registered: no global state shared between runs
    logger.addHandler(_Collect(into))
    return logger


def engine_properties(struct) -> dict[str, Any]:
    """A protobuf property bag as plain JSON: secrets hidden, resource references as URNs."""
    return _clean(json_format.MessageToDict(struct))


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        signature = value.get(_SIG_KEY)
        if signature == _SECRET_SIG:
            return SECRET_PLACEHOLDER
        if signature == _RESOURCE_REF_SIG:
            return value.get("urn")
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)  # protobuf Struct stores every number as a double
    if value == _UNKNOWN:
        return "[unknown]"
    return value
