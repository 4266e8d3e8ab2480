"""Sub-commands of genai-infra; each module ``genai_platform.commands.<name>`` has ``register(subparsers)``.

``SUMMARIES`` is what ``genai-infra --help`` lists. It lives here, not in the modules, so that the top-level
help imports no command module (and so none of the provider SDKs, boto3 or the policy pack they load): a
command's module is imported only when that command is chosen.
"""

SUMMARIES = {
    "plan": "plan stacks offline (no cloud account, no Pulumi CLI)",
    "diff": "compare a stack's plan with a base (a plan file or a git ref): changes, replacements, cost",
    "bootstrap": "create the S3 state bucket and KMS key for Pulumi (idempotent)",
    "verify": "check a deployed environment (database, buckets, queues, targets, budgets, alarms)",
    "first-deploy": "print the script of a new environment's first deploy",
}
"""Each sub-command (in the order ``--help`` lists them) and its one-line summary."""
