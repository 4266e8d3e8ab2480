"""The stack outputs ``genai-infra verify`` reads (``pulumi stack output --json``).

The stacks export these names; ``verify`` reports a missing key as a failed check, so a renamed export
cannot silently switch a check off. Each value may be a single string, a list, or a dict of
label -> value (the label names the row in the report); an empty list or dict means "none in this stack".
"""

DATABASE_IDENTIFIER = "databaseIdentifier"
"""RDS DB instance identifier(s) (not the endpoint): checked for encryption, no public access,
backup retention > 0 and, in prod, deletion protection."""

BUCKET_NAMES = "bucketNames"
"""S3 bucket names: checked for all four public access block settings and default encryption."""

QUEUE_URLS = "queueUrls"
"""SQS work queue URLs (dict name -> url): each must have a RedrivePolicy; the DLQ it names must be empty."""

DLQ_URLS = "dlqUrls"
"""SQS dead-letter queue URLs (dict name -> url): each must be empty (ApproximateNumberOfMessages == 0)."""

ALB_TARGET_GROUP_ARNS = "albTargetGroupArns"
"""ALB target group ARNs: every registered target must be healthy, and a group that listener rules send
traffic to must have at least one. Export both groups of a canary/blue-green service: the idle one (weight 0
in every rule that forwards to it) may be empty."""

BUDGET_NAMES = "budgetNames"
"""AWS Budgets names in the caller's account: each must exist."""

ALARM_NAME_PREFIX = "alarmNamePrefix"
"""CloudWatch alarm name prefix of this stack (e.g. ``genai-prod-``): at least one alarm must match and
none may be in ALARM."""

ALL = (DATABASE_IDENTIFIER, BUCKET_NAMES, QUEUE_URLS, DLQ_URLS, ALB_TARGET_GROUP_ARNS, BUDGET_NAMES,
       ALARM_NAME_PREFIX)
