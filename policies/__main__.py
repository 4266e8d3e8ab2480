"""Entry point of the CrossGuard pack: ``pulumi preview --policy-pack policies``.

The engine starts this file with the stack name in ``PULUMI_STACK``; rules are enforced at the level
that environment gets (see docs/policies.md). ``PolicyPack(...)`` starts a gRPC server and blocks,
which is why nothing else in the project constructs one.
"""

import sys
from pathlib import Path

_PACK_DIR = Path(__file__).resolve().parent
# Run as a script, Python puts the pack directory first on sys.path, where a module of the pack (values.py,
# registry.py...) would shadow a library of the same name; the rules import as ``genai_platform.policies``
# from the project virtualenv (PulumiPolicy.yaml), where ./setup.sh installed the project.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _PACK_DIR]

from pulumi_policy import PolicyPack  # noqa: E402

from genai_platform.policies.pack import pack_arguments  # noqa: E402
from genai_platform.policies.registry import environment_from_process  # noqa: E402

PolicyPack(**pack_arguments(environment_from_process()))
