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
