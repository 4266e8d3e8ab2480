"""Tags every component puts on its children.

The stack passes environment-specific tags (``Environment``, ``Service``) through each
component's ``Args.tags``; components add the platform's own keys and a ``Name``.
``Environment`` is the cost-allocation tag the budgets filter on.
"""

from collections.abc import Mapping

PLATFORM_TAGS: dict[str, str] = {"ManagedBy": "pulumi", "Platform": "genai-platform"}
"""Keys on every taggable resource, so ownership is visible in the console and in Cost Explorer."""

COST_ALLOCATION_TAG = "Environment"
"""The tag key budgets and cost reports group by; activate it once in the billing console."""


def child_tags(name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags for one child resource: ``{"Name": name, **PLATFORM_TAGS, **extra}``."""
    return {"Name": name, **PLATFORM_TAGS, **(extra or {})}


def gcp_labels(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """GCP labels from the same tags: keys and values lower-case, as GCP requires."""
    merged = {**PLATFORM_TAGS, **(extra or {})}
    return {_label(k): _label(v) for k, v in merged.items()}


def _label(text: str) -> str:
    # GCP label keys/values allow only lower-case letters, digits, '-' and '_' (max 63).
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in text.lower())
    return cleaned[:63]
