"""Reading sizes and counts from the plan's inputs, and printing counts in a basis.

A value the plan does not know yet (an output, a secret) raises :class:`NotPriced` naming the input,
so the resource is reported as unpriced instead of being priced at zero.
"""

import re
from typing import Any

from genai_platform.cost.pricers.registry import NotPriced


def number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise NotPriced(f"{what}={value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise NotPriced(f"{what}={value!r} is not known at plan time, so the size cannot be priced")


def known_text(value: Any, what: str) -> str:
    if isinstance(value, str) and value and value != "[secret]":
        return value
    raise NotPriced(f"{what}={value!r} is not known at plan time, so the size cannot be priced")


def count_text(n: float) -> str:
    """A count as printed in a basis: ``3``, ``2.5``."""
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


_QUANTITY = re.compile(r"^\s*([0-9.]+)\s*([A-Za-z]*)\s*$")
_BINARY = {"": 1 / 2**30, "Ki": 1 / 2**20, "Mi": 1 / 2**10, "Gi": 1.0, "Ti": 2**10}
_DECIMAL = {"k": 1e3 / 2**30, "K": 1e3 / 2**30, "M": 1e6 / 2**30, "G": 1e9 / 2**30, "T": 1e12 / 2**30}


def gib(quantity: Any, what: str) -> float:
    """A Kubernetes-style memory quantity (``512Mi``, ``2Gi``, ``1G``) in GiB."""
    match = _QUANTITY.match(str(quantity))
    if not match or match.group(2) not in {**_BINARY, **_DECIMAL}:
        raise NotPriced(f"{what}={quantity!r} is not a memory quantity such as 512Mi or 2Gi")
    return float(match.group(1)) * {**_BINARY, **_DECIMAL}[match.group(2)]


def vcpus(quantity: Any, what: str) -> float:
    """A Kubernetes-style CPU quantity (``1``, ``2``, ``1000m``) in vCPUs."""
    text = str(quantity).strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise NotPriced(f"{what}={quantity!r} is not a CPU quantity such as 1 or 1000m") from None
