"""The arguments ``policies/__main__.py`` gives ``pulumi_policy.PolicyPack``, built from the registry.

Kept apart from ``__main__`` so tests can check them without starting the pack's gRPC server.
"""

from typing import Any

from genai_platform.policies.registry import Rule, build_policies
from genai_platform.policies.rules import ALL_RULES

PACK_NAME = "genai-platform"
"""Also the ``name`` in PulumiPolicy.yaml's directory; shows in every violation as ``genai-platform@v<version>``."""


def pack_arguments(environment: str, rules: tuple[Rule, ...] = ALL_RULES) -> dict[str, Any]:
    """Keyword arguments for ``PolicyPack``: every rule, enforced at the level ``environment`` gets.

    A ``--policy-pack-config`` file can still override a rule's level and settings per run. ``rules``
    is for tests that serve a subset; the pack itself always serves ``ALL_RULES``.
    """
    return {
        "name": PACK_NAME,
        "policies": build_policies(environment, rules),
        "description": f"genai-platform guardrails ({len(rules)} rules), enforced for {environment}.",
        "tags": ["aws", "gcp", "kubernetes", "security", "cost"],
    }
