"""One boto3 session per command: the standard AWS environment, standard retries, cached clients.

Nothing here hard-codes an endpoint or credentials: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL (and the
per-service AWS_ENDPOINT_URL_<SERVICE>), SSO and instance roles all work the way boto3 does them.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.session
from botocore import exceptions as bce
from botocore.config import Config

from genai_infra.aws_ops.errors import OpsError, call, explain

DEFAULT_RETRIES = {"mode": "standard", "max_attempts": 10}
"""Standard mode retries throttling and transient errors with jittered exponential backoff. In a client
Config ``max_attempts`` counts retries (botocore adds the first attempt): up to 11 requests ride out a burst of
throttling during a deploy without hiding a persistent failure for minutes."""

_OVERRIDES = {"mode": ("AWS_RETRY_MODE", "retry_mode"), "max_attempts": ("AWS_MAX_ATTEMPTS", "max_attempts")}


def retry_config(core: botocore.session.Session) -> Config:
    """:data:`DEFAULT_RETRIES`, minus each setting the environment (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS) or the
    profile (retry_mode, max_attempts) already makes: an explicit Config value would silently override it,
    while a missing one lets botocore apply the user's setting."""
    profile = core.get_scoped_config()
    retries = {key: value for key, value in DEFAULT_RETRIES.items()
               if not (os.environ.get(_OVERRIDES[key][0]) or profile.get(_OVERRIDES[key][1]))}
    return Config(retries=retries, user_agent_extra="genai-infra")


class AwsSession:
    """The region, account and clients one command works with."""

    def __init__(self, region: str | None = None) -> None:
        try:
            core = botocore.session.get_session()
            self._config = retry_config(core)
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
            self._clients[service] = self._session.client(service, config=self._config)
        return self._clients[service]

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
