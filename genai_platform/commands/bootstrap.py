"""``genai-infra bootstrap``: create or harden the S3 + KMS backend for Pulumi state, before any stack exists."""

from __future__ import annotations

import argparse

from genai_platform.aws_ops.backend import (
    CREATED, DEFAULT_KMS_ALIAS, DEFAULT_NONCURRENT_DAYS, STACK_NAMES, UNCHANGED, BackendSpec, bootstrap_backend,
)
from genai_platform.aws_ops.errors import OpsError, guarded
from genai_platform.aws_ops.session import AwsSession, add_timeout_argument
from genai_platform.commands import SUMMARIES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bootstrap", help=SUMMARIES["bootstrap"], description=__doc__,
        epilog="Re-running is safe: settings that already match are reported 'exists, ok'; weaker ones are "
               "hardened, stricter ones are kept. See docs/runbook.md.")
    parser.add_argument("--bucket", required=True, help="state bucket name (globally unique)")
    parser.add_argument("--region", default=None, help="region of bucket and key (default: AWS_REGION / profile)")
    parser.add_argument("--kms-alias", default=DEFAULT_KMS_ALIAS,
                        help=f"alias of the secrets/encryption key (default: {DEFAULT_KMS_ALIAS})")
    parser.add_argument("--noncurrent-days", type=int, default=DEFAULT_NONCURRENT_DAYS,
                        help=f"days old state versions are kept (default: {DEFAULT_NONCURRENT_DAYS})")
    add_timeout_argument(parser)
    parser.set_defaults(func=run)


@guarded
def run(args: argparse.Namespace) -> int:
    aws = AwsSession(args.region, deadline_s=args.timeout)
    try:
        spec = BackendSpec(bucket=args.bucket, region=aws.region, kms_alias=args.kms_alias,
                           noncurrent_days=args.noncurrent_days)
    except ValueError as exc:
        raise OpsError(str(exc)) from exc
    print(f"Pulumi backend s3://{spec.bucket} in {spec.region} (account {aws.account_id})")
    items = bootstrap_backend(aws, spec)
    width = max(len(item.name) for item in items)
    for item in items:
        detail = f"  ({item.detail})" if item.detail else ""
        print(f"  {item.name:<{width}}  {item.status}{detail}")
    changed = [item for item in items if item.status != UNCHANGED]
    if changed:
        created = sum(item.status == CREATED for item in changed)
        print(f"Done: {created} created, {len(changed) - created} updated, {len(items) - len(changed)} unchanged.")
    else:
        print("No changes: the backend already matches.")
    print("\nNext:")
    print(f"  {spec.login_command}")
    for stack in STACK_NAMES:
        print(f"  {spec.stack_init_command(stack)}")
    return 0
