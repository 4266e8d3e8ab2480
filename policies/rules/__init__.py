"""Rule modules, one per domain. Importing this package registers every rule in ``genai_platform.policies.registry.RULES``."""

from genai_platform.policies.registry import RULES, Rule
from genai_platform.policies.rules import (  # noqa: F401 - imported for their registrations
    budgets,
    ecs,
    eks,
    elasticache,
    elb,
    gcp,
    iam,
    karpenter,
    kms,
    kubernetes,
    lifecycle,
    logs,
    network,
    observability,
    rds,
    s3,
    sqs,
    stack,
    tagging,
)

DOMAINS = ("s3", "rds", "network", "eks", "ecs", "elb", "sqs", "elasticache", "iam", "kms", "logs", "gcp",
           "budgets", "kubernetes", "tagging", "observability", "stack", "karpenter",
           "lifecycle")
"""Rule modules in the order docs and reports list them."""

ALL_RULES: tuple[Rule, ...] = tuple(sorted(RULES, key=lambda rule: DOMAINS.index(rule.domain)))
"""Every rule of the pack, by domain, then in definition order."""
