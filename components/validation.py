"""The range check every component's validation uses, so all say "out of range" the same way."""


def check_range(argument: str, value: float, low: float, high: float | None = None, unit: str = "") -> None:
    """Raise ``ValueError`` unless ``low <= value <= high`` (``high`` None: no upper bound).

    The message names the argument, the value and the allowed range, e.g.
    ``"zone_count=9 is out of range: use 1 to 8 availability zones."``; ``unit`` follows the range.
    """
    if value < low or (high is not None and value > high):
        allowed = f"{low} or more" if high is None else (f"{low}" if low == high else f"{low} to {high}")
        raise ValueError(f"{argument}={value} is out of range: use {allowed}{unit}.")
