"""Entry point of the CrossGuard pack: ``pulumi preview --policy-pack policies``.

The engine starts this file with the stack name in ``PULUMI_STACK``; rules are enforced at the level
that environment gets (see docs/policies.md). ``PolicyPack(...)`` starts a gRPC server and blocks,
which is why nothing else in the project constructs one.
"""

import sys
from pathlib import Path

_PACK_DIR = Path(__file__).resolve().parent
# Run as a script, Python puts the pack directory first on sys.path; put the repository root there
# instead so ``policies`` and ``components`` import as packages and no rule module shadows another name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _PACK_DIR]
sys.path.insert(0, str(_PACK_DIR.parent))

from pulumi_policy import PolicyPack  # noqa: E402

from policies.pack import pack_arguments  # noqa: E402
from policies.registry import environment_from_process  # noqa: E402

PolicyPack(**pack_arguments(environment_from_process()))
