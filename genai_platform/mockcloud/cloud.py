"""Mocks that answer like the clouds do: realistic ids, ARNs, endpoints and look-ups.

Resource outputs come from small per-type functions registered with :func:`computes`
(see ``genai_platform.mockcloud.outputs``); a type without one still gets a deterministic id,
an auto-generated physical name and, on AWS, an ARN in the service's usual shape.
Provider functions (invokes) are answered by :func:`answers` entries; an invoke with no
answer fails with the token, so a silent ``{}`` never hides a missing mock.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
"""The AWS account every offline plan pretends to run in (AWS's documentation account)."""
GCP_PROJECT_NUMBER = "123456789012"


@dataclass(frozen=True)
class MockContext:
    """What an output function knows about the resource (or call) being answered."""

    type: str
    name: str
    inputs: dict[str, Any]
    region: str
    account: str
    gcp_project: str
    gcp_region: str

    def hex_id(self, length: int = 17) -> str:
        """A stable hex string derived from type and name, for ids like ``vpc-0a1b...``."""
        return hashlib.sha256(f"{self.type}/{self.name}".encode()).hexdigest()[:length]

    @property
    def physical_name(self) -> str:
        """The name the resource gets: the input ``name`` or Pulumi's auto-name (logical name + 7 hex)."""
        return str(self.inputs.get("name") or f"{self.name}-{self.hex_id(7)}")


OutputFunction = Callable[[MockContext], dict[str, Any]]
_RESOURCE_OUTPUTS: dict[str, OutputFunction] = {}
_CALL_ANSWERS: dict[str, OutputFunction] = {}


def computes(*type_tokens: str) -> Callable[[OutputFunction], OutputFunction]:
    """Register the computed outputs of resource types. The function may set ``"id"``."""

    def register(function: OutputFunction) -> OutputFunction:
        for token in type_tokens:
            _RESOURCE_OUTPUTS[token] = function
        return function

    return register


def answers(*call_tokens: str) -> Callable[[OutputFunction], OutputFunction]:
    """Register the result of provider functions (invokes), e.g. ``aws:index/getRegion:getRegion``."""

    def register(function: OutputFunction) -> OutputFunction:
        for token in call_tokens:
            _CALL_ANSWERS[token] = function
        return function

    return register


class PlatformMocks(pulumi.runtime.Mocks):
    """Pulumi mocks for AWS, GCP, Kubernetes and pulumi-eks, in one region and project."""

    def __init__(self, region: str = "us-east-1", gcp_project: str = "genai-platform-dev",
                 gcp_region: str = "europe-west4"):
        # Import the registrations here, not at module import: they import this module.
        import genai_platform.mockcloud.outputs  # noqa: F401

        self.region, self.gcp_project, self.gcp_region = region, gcp_project, gcp_region
        self._provider_regions: dict[str, str] = {}
        """Region of each explicit AWS provider (a second region for disaster recovery), by provider id."""

    def _context(self, type_token: str, name: str, inputs: dict[str, Any], region: str | None = None) -> MockContext:
        return MockContext(type_token, name, inputs, region or self.region, ACCOUNT_ID, self.gcp_project,
                           self.gcp_region)

    def _region_of(self, provider: str | None) -> str | None:
        """The region of the explicit AWS provider a resource or call names (``<urn>::<id>``), if any."""
        return self._provider_regions.get(provider.rsplit("::", 1)[-1]) if provider else None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        region = self._region_of(args.provider)
        context = self._context(args.typ, args.name, dict(args.inputs), region)
        state = dict(args.inputs)
        computed = dict(_RESOURCE_OUTPUTS.get(args.typ, _generic_outputs)(context))
        resource_id = computed.pop("id", None) or _default_id(context)
        for key, value in computed.items():
            state.setdefault(key, value)
        if region and args.typ.startswith("aws:"):
            state.setdefault("region", region)  # provider v7 records the region each resource lives in
        if args.typ == "pulumi:providers:aws" and args.inputs.get("region"):
            self._provider_regions[resource_id] = str(args.inputs["region"])
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        answer = _CALL_ANSWERS.get(args.token)
        if answer is None:
            raise NotImplementedError(
                f"the offline plan has no mock for provider function {args.token!r}: "
                "add an @answers entry in genai_platform/mockcloud/outputs/"
            )
        return answer(self._context(args.token, args.token, dict(args.args), self._region_of(args.provider)))


def _default_id(context: MockContext) -> str:
    if context.type.startswith("aws:"):
        return context.physical_name
    return f"{context.name}-{context.hex_id(8)}"


def _generic_outputs(context: MockContext) -> dict[str, Any]:
    """Outputs of a type with no registered function: a name, and an ARN on AWS."""
    outputs: dict[str, Any] = {}
    if context.type.startswith(("aws:", "gcp:")):
        outputs["name"] = context.physical_name
    if context.type.startswith("aws:"):
        service = context.type.split(":")[1].split("/")[0]
        kind = context.type.rsplit(":", 1)[1].lower()
        outputs["arn"] = f"arn:aws:{service}:{context.region}:{context.account}:{kind}/{context.physical_name}"
    return outputs
