"""One boto3 session per command: the standard AWS environment, standard retries, timeouts, cached clients.

Nothing here hard-codes an endpoint or credentials: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL (and the
per-service AWS_ENDPOINT_URL_<SERVICE>), SSO and instance roles all work the way boto3 does them.

Every request has a connect and a read timeout, and the command a total deadline checked before each HTTP
attempt (retries included): an endpoint that accepts connections and never answers costs at most the deadline
plus one read timeout, never botocore's default of 60 s per attempt times every retry.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import boto3
import botocore.session
from botocore import exceptions as bce
from botocore.config import Config

from genai_platform.aws_ops.errors import DeadlineExceeded, OpsError, call, explain

DEFAULT_RETRIES = {"mode": "standard", "max_attempts": 10}
"""Standard mode retries throttling and transient errors with jittered exponential backoff. In a client
Config ``max_attempts`` counts retries (botocore adds the first attempt): up to 11 requests ride out a burst of
throttling during a deploy without hiding a persistent failure for minutes."""

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30
"""Per attempt. AWS control-plane calls answer in well under a second; 30 s rides out a slow one."""
DEFAULT_DEADLINE_S = 300
"""Total time a command may spend on AWS calls (``--timeout``); bootstrap makes about 25 calls."""

_OVERRIDES = {"mode": ("AWS_RETRY_MODE", "retry_mode"), "max_attempts": ("AWS_MAX_ATTEMPTS", "max_attempts")}


def retry_config(core: botocore.session.Session, deadline_s: float = DEFAULT_DEADLINE_S) -> Config:
    """:data:`DEFAULT_RETRIES`, minus each setting the environment (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS) or the
    profile (retry_mode, max_attempts) already makes: an explicit Config value would silently override it,
    while a missing one lets botocore apply the user's setting. Timeouts never exceed the deadline."""
    profile = core.get_scoped_config()
    retries = {key: value for key, value in DEFAULT_RETRIES.items()
               if not (os.environ.get(_OVERRIDES[key][0]) or profile.get(_OVERRIDES[key][1]))}
    return Config(retries=retries, user_agent_extra="genai-infra", connect_timeout=min(CONNECT_TIMEOUT_S, deadline_s),
                  read_timeout=min(READ_TIMEOUT_S, deadline_s))


def add_timeout_argument(parser: argparse.ArgumentParser) -> None:
    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        if not 0 < value <= 3600:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0 and at most 3600")
        return value

    parser.add_argument("--timeout", type=seconds, default=DEFAULT_DEADLINE_S, metavar="SECONDS",
                        help=f"give up on AWS after this long, retries included (default: {DEFAULT_DEADLINE_S}; "
                             f"each request also times out after {CONNECT_TIMEOUT_S} s connecting and "
                             f"{READ_TIMEOUT_S} s reading)")


class AwsSession:
    """The region, account and clients one command works with."""

    def __init__(self, region: str | None = None, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self.deadline_s = deadline_s
        self._deadline = time.monotonic() + deadline_s
        try:
            core = botocore.session.get_session()
            self._config = retry_config(core, deadline_s)
            # botocore itself only reads AWS_DEFAULT_REGION; AWS_REGION is what the other SDKs, the CLI v2
            # and Pulumi's AWS provider read, so it wins over AWS_DEFAULT_REGION and the profile here.
            self._session = boto3.Session(botocore_session=core,
                                          region_name=region or os.environ.get("AWS_REGION") or None)
        except bce.ProfileNotFound as exc:
            raise OpsError(explain(exc, "boto3", "")) from exc
        self.region: str = self._session.region_name or ""
        if not self.region:
            raise OpsError("no AWS region: pass --region or set AWS_REGION (or region in the AWS profile)")
        self.partition: str = self._session.get_partition_for_region(self.region)
        self._clients: dict[str, Any] = {}
        self._account_id: str | None = None

    @property
    def retry_overrides(self) -> dict[str, Any]:
        """The retry settings this session sets on its clients (the rest come from the environment)."""
        return dict(self._config.retries or {})

    def client(self, service: str) -> Any:
        """A cached client for ``service`` in this session's region."""
        if service not in self._clients:
            client = self._session.client(service, config=self._config)
            client.meta.events.register("before-send", self._check_deadline)
            self._clients[service] = client
        return self._clients[service]

    def _check_deadline(self, **_: Any) -> None:
        if time.monotonic() > self._deadline:
            raise DeadlineExceeded(self.deadline_s)

    @property
    def account_id(self) -> str:
        """The caller's account (sts:GetCallerIdentity needs no permission, so it doubles as the
        credentials check that runs before anything else)."""
        if self._account_id is None:
            sts = self.client("sts")
            self._account_id = call("sts:GetCallerIdentity", "*", sts.get_caller_identity)["Account"]
        return self._account_id

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this session's partition/account (``region=False`` for global ARNs like S3's)."""
        if service == "s3":
            return f"arn:{self.partition}:s3:::{resource}"
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"
