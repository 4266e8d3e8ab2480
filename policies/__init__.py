"""genai-platform CrossGuard policy pack, as importable rules.

``policies/__main__.py`` (what ``pulumi preview --policy-pack policies`` runs) wraps these rules in a
``pulumi_policy.PolicyPack``; ``genai_platform.policy_check`` runs the very same policy objects over an offline
plan, through pulumi_policy's own analyzer servicer fed the engine's requests.
Constructing a ``PolicyPack`` starts a gRPC server and blocks, so only ``__main__`` does it.
"""

from pathlib import Path

from genai_platform.policies.registry import (
    ENVIRONMENTS,
    Rule,
    RuleContext,
    build_policies,
    default_config,
    environment_from_process,
)
from genai_platform.policies.rules import ALL_RULES

PACK_DIR = Path(__file__).resolve().parent
"""The pack's folder, wherever it is installed: ``PulumiPolicy.yaml`` and the ``config.<env>.json`` files."""

__all__ = ["ALL_RULES", "ENVIRONMENTS", "PACK_DIR", "Rule", "RuleContext", "build_policies", "default_config",
           "environment_from_process"]
