"""Property-level differences between two property bags, as ``(path, old, new)`` with nested paths
(``ingress[0].cidrBlocks``, ``tags.Name``), and the masking every printed value goes through."""

import json
import re
from dataclasses import dataclass
from typing import Any

from genai_platform.stack_file import SECRET_PLACEHOLDER

SECRET = "[secret]"
"""How a secret value shows, in the plan and in the diff (the plan's own mask)."""

MISSING = None
"""``old`` of an added property and ``new`` of a removed one (JSON null in ``--format json``)."""

_PLAIN_KEY = re.compile(r"[A-Za-z_][\w-]*")
MAX_SHOWN = 120
"""Characters of a value kept when it is printed (the JSON output keeps it whole)."""


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any
    forces: str | None = None
    """The replace-forcing property this change lies in (see :mod:`genai_platform.plan_diff.replacements`)."""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "old": masked(self.old), "new": masked(self.new), "forces_replacement": self.forces}


def changes(old: Any, new: Any, path: str = "") -> list[Change]:
    """Every leaf that differs between ``old`` and ``new``; a value that changes kind (list to dict, ...) or a
    secret on either side is one change at its own path. A JSON document held in a string (an IAM policy, a
    container definition) is compared inside: ``policy.Statement[1].Resource``, not two 600-character strings."""
    if old == new:
        return []
    if isinstance(old, str) and isinstance(new, str):
        documents = _json_document(old), _json_document(new)
        if None not in documents:
            return changes(*documents, path)
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new)):
            found += changes(old.get(key, MISSING), new.get(key, MISSING), _child(path, key))
        return found
    if isinstance(old, list) and isinstance(new, list):
        found = []
        for index in range(max(len(old), len(new))):
            found += changes(old[index] if index < len(old) else MISSING,
                             new[index] if index < len(new) else MISSING, f"{path}[{index}]")
        return found
    return [Change(path, old, new)]


def _json_document(text: str) -> dict | list | None:
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict | list) else None


def _child(path: str, key: str) -> str:
    part = key if _PLAIN_KEY.fullmatch(key) else f"[{json.dumps(key)}]"
    return f"{path}{part}" if not path or part.startswith("[") else f"{path}.{part}"


def masked(value: Any) -> Any:
    """``value`` with every secret as ``[secret]``: the plan masks secret inputs and outputs already; the
    offline stand-in for a ``secure:`` config value is masked too, wherever a program put it."""
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str) and SECRET_PLACEHOLDER in value:
        return SECRET
    return value


def shown(value: Any) -> str:
    """One value as the text and Markdown reports print it: JSON, masked, cut after :data:`MAX_SHOWN`."""
    if value is MISSING:
        return "(none)"
    text = json.dumps(masked(value), sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}... ({len(text)} characters)"
