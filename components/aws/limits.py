"""AWS limits several components validate against, in one place."""

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)
"""Retention values CloudWatch Logs accepts (PutRetentionPolicy); anything else is rejected by AWS."""


def check_log_retention(argument: str, days: int) -> None:
    """Raise ``ValueError`` naming ``argument`` unless ``days`` is a retention CloudWatch Logs accepts."""
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"{argument}={days} is not a CloudWatch Logs retention: use one of {', '.join(map(str, LOG_RETENTION_DAYS))}."
        )


AUTO_NAME_SUFFIX = 8
"""Pulumi auto-names a resource ``<logical name>-<7 random hex>``: eight characters beyond its logical name."""


def check_auto_name(name: str, child_suffix: str, max_length: int, what: str) -> None:
    """Raise ``ValueError`` unless the auto-name of the child ``f"{name}{child_suffix}"`` fits ``max_length``.

    The provider refuses a longer name only when the resource is registered (``pulumi preview``/``up``);
    the offline plan's mocks accept any length, so components check here first.
    """
    longest = max_length - len(child_suffix) - AUTO_NAME_SUFFIX
    if len(name) > longest:
        raise ValueError(
            f"name={name!r} has {len(name)} characters, too many for the {what} named '{name}{child_suffix}-' plus "
            f"7 random characters (at most {max_length}): use a component name of at most {longest} characters."
        )
