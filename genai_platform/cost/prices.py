"""The price table shipped with the package (``prices.json``) and the arithmetic every pricer shares."""

import json
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

PRICES_FILE = "genai_platform/cost/prices.json"
"""Where the table lives in the checkout, for messages that tell the reader what to edit."""


@lru_cache(maxsize=None)
def _load(path: str | None) -> dict[str, Any]:
    if path is None:
        text = resources.files("genai_platform.cost").joinpath("prices.json").read_text()
    else:
        text = Path(path).read_text()
    return json.loads(text)


def load_prices(path: str | Path | None = None) -> dict[str, Any]:
    """The price table (a fresh copy, so callers may adjust it in tests without touching the cache)."""
    return json.loads(json.dumps(_load(str(path) if path else None)))


def rate(value: float) -> str:
    """A unit price as printed in a basis, without float noise: ``$0.0416``, ``$0.0000025``."""
    text = format(Decimal(str(value)).normalize(), "f")
    if "." not in text:
        text += ".00"
    elif len(text.split(".")[1]) == 1:
        text += "0"
    return f"${text}"


def money(value: float) -> str:
    """A monthly amount: ``$1,234.56``."""
    return f"${value:,.2f}"


def cents(value: float) -> float:
    """Round half up to cents. Float noise is cut at 6 decimals first, so 793.875 computed as
    793.87499999999 still rounds up like the exact product does."""
    return float(Decimal(str(round(value, 6))).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"))
