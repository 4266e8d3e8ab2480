"""The offline plan spoken in the engine's Analyzer protocol, answered by pulumi_policy's own analyzer.

``pulumi preview --policy-pack policies`` starts the pack (``python -m pulumi.policy <engine> .``),
calls ``GetAnalyzerInfo``, ``Configure`` with the ``--policy-pack-config`` document, ``Analyze`` once per
resource (its inputs) and ``AnalyzeStack`` once (every resource's state). This module builds those very
protobuf requests from a recorded plan and hands them to pulumi_policy's analyzer servicer, the class
its gRPC server wraps, in-process. So rules see what the served pack sees, because it is the same
code: read-only proxies for lists and objects, floats for numbers, the engine's sentinel for an
unknown value, plaintext for a secret (the engine sends secrets, and pulumi_policy unwraps them).

The same functions drive the served pack in the parity test (``tests/policies/test_parity.py``), whose
answers must equal the in-process ones.

What the engine sends, from pulumi ``sdk/go/common/resource/plugin/analyzer_plugin.go`` (v3.2xx):
``Analyze`` and ``AnalyzeStack`` marshal properties with ``KeepUnknowns`` and ``KeepSecrets``; an unknown
becomes the string ``UnknownStringValue`` whatever its type; ``AnalyzeStack`` carries each resource's
outputs (state), parent and dependencies.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN
from pulumi_policy import EnforcementLevel
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG as SECRET_SIG
from pulumi_policy.deserialize import SPECIAL_SIG_KEY as SIG_KEY
from pulumi_policy.policy import _PolicyAnalyzerServicer

from genai_platform.mockcloud.plan import Plan, RecordedResource
from genai_platform.policies import Rule
from genai_platform.policies.pack import pack_arguments
from genai_platform.policies.values import PLACEHOLDERS, UNKNOWN

# ENGINE_UNKNOWN (imported above) is the engine's plugin.UnknownStringValue: how it marshals any value
# not known yet. SIG_KEY/SECRET_SIG make the envelope it sends a secret in.
SECRET_PLACEHOLDER = PLACEHOLDERS[1]
"""How the recorded plan hides a secret (genai_platform.mockcloud); the mock's state keeps the plaintext."""

_LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
           "remediate": analyzer_pb2.REMEDIATE, "disabled": analyzer_pb2.DISABLED}
LEVEL_NAMES = {number: name for name, number in _LEVELS.items()}
PACK_VERSION = "0.0.1"
"""What pulumi_policy's ``PolicyPack`` tells the engine (the CLI shows PulumiPolicy.yaml's version instead)."""
CANT_RUN = "can't run policy "
"""How pulumi_policy words the advisory note for a policy that read a value unknown at preview."""
_MIN_DERIVED_LENGTH = 8
"""Shorter computed values (``"1"``, a region) would match unrelated inputs by accident."""


@dataclass(frozen=True)
class AnalyzerRequests:
    """Everything the engine sends a policy pack for one stack: per-resource, then whole-stack."""

    resources: list[analyzer_pb2.AnalyzeRequest]
    stack: analyzer_pb2.AnalyzeStackRequest


class InProcessAnalyzer:
    """pulumi_policy's analyzer servicer, called like a gRPC ``AnalyzerStub`` (no server, no context).

    Two shortcuts keep a stack to about a second, neither changing an answer: ``Analyze`` for a type
    goes to a servicer holding only the resource policies that look at that type (the registry's type
    filter returns before a rule reads anything, so the others can only answer nothing), and an
    identical request gets the answer it got before (rules are pure). The parity test holds these
    answers equal to the served pack's.
    """

    def __init__(self, environment: str, rules: tuple[Rule, ...]):
        self._arguments = pack_arguments(environment, rules)
        self._rules = dict(zip(self._arguments["policies"], rules, strict=True))
        self._configuration: analyzer_pb2.ConfigureAnalyzerRequest | None = None
        self._servicer = self._new_servicer(self._arguments["policies"])
        self._by_type: dict[str, Any] = {}
        self._answers: dict[bytes, analyzer_pb2.AnalyzeResponse] = {}

    def _new_servicer(self, policies: list[Any]) -> _PolicyAnalyzerServicer:
        # What PolicyPack(**pack_arguments(...)) constructs before it starts its gRPC server and blocks
        # (pulumi_policy 1.21 policy.py): version "0.0.1", pack-wide default level advisory.
        servicer = _PolicyAnalyzerServicer(
            self._arguments["name"], PACK_VERSION, policies, EnforcementLevel.ADVISORY, None,
            self._arguments["description"], None, None, None, self._arguments["tags"], None)
        if self._configuration is not None:
            servicer.Configure(self._configuration, None)
        return servicer

    def GetAnalyzerInfo(self, request: Any) -> analyzer_pb2.AnalyzerInfo:  # noqa: N802 - the RPC's name
        return self._servicer.GetAnalyzerInfo(request, None)

    def Configure(self, request: analyzer_pb2.ConfigureAnalyzerRequest) -> Any:  # noqa: N802
        self._configuration = request
        self._by_type.clear()
        self._answers.clear()
        return self._servicer.Configure(request, None)

    def Analyze(self, request: analyzer_pb2.AnalyzeRequest) -> analyzer_pb2.AnalyzeResponse:  # noqa: N802
        key = request.SerializeToString(deterministic=True)
        if key not in self._answers:
            servicer = self._for_type(request.type)
            self._answers[key] = servicer.Analyze(request, None) if servicer else analyzer_pb2.AnalyzeResponse()
        return self._answers[key]

    def AnalyzeStack(self, request: analyzer_pb2.AnalyzeStackRequest) -> analyzer_pb2.AnalyzeResponse:  # noqa: N802
        return self._servicer.AnalyzeStack(request, None)

    def _for_type(self, type_token: str) -> _PolicyAnalyzerServicer | None:
        if type_token not in self._by_type:
            policies = [policy for policy, rule in self._rules.items()
                        if rule.kind == "resource" and (not rule.types or type_token in rule.types)]
            self._by_type[type_token] = self._new_servicer(policies) if policies else None
        return self._by_type[type_token]


def engine_config(config: Mapping[str, Any], info: analyzer_pb2.AnalyzerInfo) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """The ``Configure`` request the engine sends for a ``--policy-pack-config`` document.

    Each policy starts at the level the pack declares; ``"all"`` then the policy's own entry override
    it (a string is a level, an object may carry ``enforcementLevel`` and settings).
    """
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy in info.policies:
        level, settings = LEVEL_NAMES[policy.enforcementLevel], {}
        for key in ("all", policy.name):
            value = config.get(key)
            if isinstance(value, str):
                level = value
            elif isinstance(value, Mapping):
                level = value.get("enforcementLevel", level)
                if key == policy.name:
                    settings = {k: v for k, v in value.items() if k != "enforcementLevel"}
        entry = request.policyConfig[policy.name]
        entry.enforcementLevel = _LEVELS[level]
        entry.properties.update(settings)
    return request


def requests_for(plan: Plan, preview: bool) -> AnalyzerRequests:
    """The plan as the engine's Analyzer requests.

    ``preview=False`` is a stack whose values are all known (an update, or a preview of a stack that
    exists). ``preview=True`` is the first preview of a new stack: every output the provider computes
    (ids, ARNs, endpoints) is unknown, and so is every input built from one (a policy document naming
    an ARN, a ``bucket=bucket.id``).
    """
    unknown = _unknown_values(plan.resources) if preview else frozenset()
    analyze = []
    stack_resources = []
    for recorded in plan.resources:
        inputs = _engine_value(recorded.inputs, recorded.outputs, unknown)
        analyze.append(analyzer_pb2.AnalyzeRequest(
            type=recorded.type, urn=recorded.urn, name=recorded.name, properties=_struct(inputs),
            options=_options(recorded)))
        stack_resources.append(analyzer_pb2.AnalyzerResource(
            type=recorded.type, urn=recorded.urn, name=recorded.name,
            properties=_struct(_state(recorded, inputs, preview)), options=_options(recorded),
            parent=recorded.parent or "", dependencies=recorded.dependencies))
    return AnalyzerRequests(analyze, analyzer_pb2.AnalyzeStackRequest(resources=stack_resources))


@dataclass(frozen=True)
class Finding:
    """One diagnostic of the analyzer, as the engine attributes it."""

    policy: str
    enforcement: str
    urn: str
    """The resource's URN; for a stack policy the one it named, "" for the stack as a whole."""
    message: str
    """The rule's finding and fix, without the policy description the analyzer puts in front."""
    note: bool
    """True for pulumi_policy's "can't run policy ... during preview" advisory (a value was unknown)."""

    def to_json(self) -> dict[str, str]:
        return {"policy": self.policy, "enforcement": self.enforcement, "urn": self.urn, "message": self.message}


def analyze(analyzer: Any, requests: AnalyzerRequests) -> list[Finding]:
    """Send ``requests`` as the engine does and collect the findings, in the order they came.

    ``analyzer`` is a gRPC ``AnalyzerStub`` of a served pack or an :class:`InProcessAnalyzer`.
    Like the engine, a resource policy's diagnostic belongs to the resource analyzed.
    """
    findings = []
    for request in requests.resources:
        findings += _findings(analyzer.Analyze(request).diagnostics, request.urn)
    findings += _findings(analyzer.AnalyzeStack(requests.stack).diagnostics, "")
    return findings


def _findings(diagnostics: Iterable[analyzer_pb2.AnalyzeDiagnostic], resource_urn: str) -> list[Finding]:
    found = []
    for diagnostic in diagnostics:
        note = diagnostic.message.startswith(CANT_RUN)
        message = diagnostic.message if note else diagnostic.message.removeprefix(diagnostic.description)
        found.append(Finding(policy=diagnostic.policyName, enforcement=LEVEL_NAMES[diagnostic.enforcementLevel],
                             urn=diagnostic.urn or resource_urn, message=message.removeprefix("\n"), note=note))
    return found


def _struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(properties)
    return struct


def _options(recorded: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    # The engine always sets customTimeouts (zero when none were given).
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=recorded.protect, parent=recorded.parent or "",
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts())


def _state(recorded: RecordedResource, inputs: dict[str, Any], preview: bool) -> dict[str, Any]:
    """What the engine's state holds for a resource: its inputs plus what the provider computed."""
    computed = {key: value for key, value in recorded.outputs.items() if key not in recorded.inputs}
    if preview:
        return {**{key: ENGINE_UNKNOWN for key in computed}, **inputs}
    return {**_engine_value(computed, computed, frozenset()), **inputs}


def _engine_value(value: Any, outputs: Any, unknown: frozenset[str]) -> Any:
    """A recorded value as the engine marshals it; ``outputs`` is the same path in the mock's state."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return value
        known = outputs if isinstance(outputs, dict) else {}
        return {key: _engine_value(item, known.get(key), unknown) for key, item in value.items()}
    if isinstance(value, list):
        known = outputs if isinstance(outputs, list) and len(outputs) == len(value) else [None] * len(value)
        return [_engine_value(item, other, unknown) for item, other in zip(value, known, strict=True)]
    if value == SECRET_PLACEHOLDER:
        # The recorded inputs hide secrets; the mock's state still has the plaintext the engine would send.
        plaintext = outputs.get("value") if isinstance(outputs, dict) and outputs.get(SIG_KEY) == SECRET_SIG else value
        return {SIG_KEY: SECRET_SIG, "value": plaintext}
    if value == UNKNOWN or (isinstance(value, str) and _derived(value, unknown)):
        return ENGINE_UNKNOWN
    return value


def _unknown_values(resources: Iterable[RecordedResource]) -> frozenset[str]:
    """Values a first preview cannot know: what the provider computes for one resource (id, ARN, ...).

    A value several resources share (the account id, a region) comes from a look-up, which a preview
    does answer, so it is not counted; nor are values too short to tell apart from plain text, nor an
    output the provider echoes from an input (a task definition's id is its family).
    """
    seen: dict[str, int] = {}
    for resource in resources:
        echoed = {value for value in resource.inputs.values() if isinstance(value, str)}
        computed = {value for key, value in resource.outputs.items()
                    if key not in resource.inputs and isinstance(value, str) and value not in echoed}
        if resource.id and resource.id not in echoed:
            computed.add(resource.id)
        for value in computed:
            seen[value] = seen.get(value, 0) + 1
    return frozenset(value for value, count in seen.items() if count == 1 and len(value) >= _MIN_DERIVED_LENGTH)


def _derived(text: str, unknown: frozenset[str]) -> bool:
    """Whether an input string was built from a value a first preview does not know."""
    if not unknown:
        return False
    if text in unknown:
        return True
    return len(text) > _MIN_DERIVED_LENGTH and any(value in text for value in unknown)
