"""Validation of IAM members the GCP components bind roles to, and the stable names of their bindings."""

import re
from collections.abc import Sequence

MEMBER_PREFIXES = ("user:", "group:", "serviceAccount:", "domain:", "principal:", "principalSet:")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


def check_members(argument: str, members: Sequence[str], public_refusal: str) -> None:
    """Raise ``ValueError`` for a public, malformed or repeated member of ``argument``.

    ``public_refusal`` follows ``"<argument> contains '<member>'"`` and says why a public member is refused.
    """
    for member in members:
        if member in PUBLIC_MEMBERS:
            raise ValueError(f"{argument} contains {member!r}{public_refusal}")
        if not member.startswith(MEMBER_PREFIXES):
            raise ValueError(f"{argument} contains {member!r}, which is not an IAM principal: prefix it with one "
                             f"of {', '.join(MEMBER_PREFIXES)}.")
    if len(set(members)) != len(members):
        raise ValueError(f"{argument}={list(members)} names a principal twice: list each once.")


def member_slug(member: str) -> str:
    """A resource-name-safe form of ``member`` for the logical name of its binding (stable when lists reorder)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", member).strip("-")
