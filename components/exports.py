"""Names a component package exports, imported only when used (PEP 562).

``from genai_platform.components.aws import QueueWithDlq`` imports the queue's module and what it needs, not every
AWS component and every SDK module they use (seconds); another team's program, the policy pack and the cost model
load only what they touch. The names stay listed in each package's ``__all__``.
"""

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose ``exports`` map each name to its defining submodule."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's name
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        namespace[name] = value  # the next look-up is an ordinary attribute
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
