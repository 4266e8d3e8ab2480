"""Every AWS failure becomes ONE line naming the call (as an IAM action) and the fix; never a traceback.

Commands wrap their ``run`` in :func:`guarded`; AWS calls go through :func:`call`, which knows the IAM
action and resource ARN so a denial can say exactly which permission is missing.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore import exceptions as bce

MAX_MESSAGE = 300
"""Characters of an AWS or botocore message kept in the error line (botocore echoes the bad parameter whole)."""

EXIT_ERROR = 2
"""Exit code of every operational failure (AWS error, refusal, unreadable input): distinct from 1, which
``verify`` uses for "the environment is unhealthy"."""

_DENIED = frozenset({
    "AccessDenied", "AccessDeniedException", "AuthorizationError", "Forbidden", "403",
    "UnauthorizedOperation", "UnauthorizedException", "AuthFailure",
})
_BAD_CREDENTIALS = frozenset({
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
    "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "RequestExpired",
})
# botocore's standard retry mode retries these; if one still surfaces, every attempt was throttled.
# LimitExceededException is left out on purpose: for most services it means a quota, not a rate.
_THROTTLED = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "RequestThrottled", "SlowDown", "PriorRequestNotComplete", "429",
})
_UNREACHABLE = (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ReadTimeoutError,
                bce.ConnectionClosedError, bce.ProxyConnectionError, bce.SSLError)
_SSO_EXPIRED = (bce.SSOTokenLoadError, bce.TokenRetrievalError, bce.UnauthorizedSSOTokenError)


class OpsError(Exception):
    """A failure the operator fixes (credentials, permissions, names, input files); printed as one line."""

    exit_code = EXIT_ERROR


class DeadlineExceeded(Exception):
    """The command's total deadline passed before an HTTP attempt (raised from a botocore event hook)."""

    def __init__(self, deadline_s: float):
        super().__init__(deadline_s)
        self.deadline_s = deadline_s

    def line(self, action: str) -> str:
        return (f"{action} did not finish within the --timeout of {self.deadline_s:g} s (the endpoint is slow or "
                "does not answer): check the network or proxy and AWS_ENDPOINT_URL, or raise --timeout; a re-run "
                "finishes what this one started")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def shorten(text: str, limit: int = 100) -> str:
    """``text`` on one line, cut past ``limit`` characters: an echoed value never floods the error line."""
    text = _one_line(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def error_code(exc: bce.ClientError) -> str:
    """The service's error code; S3 HEAD requests have no body, so their code is the HTTP status."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def explain(exc: Exception, action: str, resource: str) -> str:
    """The one line (without ``error:``) for ``exc`` raised by ``action`` on ``resource``."""
    if isinstance(exc, bce.ClientError):
        code = error_code(exc)
        message = shorten(exc.response.get("Error", {}).get("Message", ""), MAX_MESSAGE)
        if code in _DENIED:
            return f"{action} was denied ({code}): the caller needs {action} on {resource}"
        if code in _BAD_CREDENTIALS:
            return (f"{action} was rejected ({code}): the AWS credentials are invalid or expired: "
                    "refresh them (aws sso login, or new access keys) and re-run")
        if code in _THROTTLED:
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
            return (f"{action} was throttled ({code}) after {attempts} attempts: wait a minute and re-run, "
                    "or raise the API rate quota in Service Quotas")
        return f"{action} failed ({code}): {message}" if message else f"{action} failed ({code})"
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return (f"{action} found no usable AWS credentials: set AWS_PROFILE (then aws sso login) "
                "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if isinstance(exc, _SSO_EXPIRED):
        return f"{action} could not use the SSO session (expired or missing): run aws sso login and re-run"
    if isinstance(exc, bce.NoRegionError):
        return f"{action} has no AWS region: pass --region or set AWS_REGION"
    if isinstance(exc, bce.ProfileNotFound):
        return (f"the AWS profile {exc.kwargs.get('profile')!r} does not exist: "
                "fix AWS_PROFILE or add the profile to ~/.aws/config")
    if isinstance(exc, _UNREACHABLE):
        endpoint = exc.kwargs.get("endpoint_url", "the AWS endpoint")
        return (f"{action} could not reach {endpoint}: check the network or proxy, "
                "AWS_ENDPOINT_URL and the region")
    return f"{action} failed: {shorten(exc, MAX_MESSAGE)}"


def call(action: str, resource: str, operation: Callable[..., Any], /, *,
         absent: Iterable[str] = (), refuse: Mapping[str, str] | None = None, **params: Any) -> Any:
    """``operation(**params)``; None when the error code is in ``absent`` (e.g. "no policy yet");
    ``refuse`` maps error codes to a specific one-line refusal; anything else becomes :func:`explain`."""
    try:
        return operation(**params)
    except bce.ClientError as exc:
        code = error_code(exc)
        if code in absent:
            return None
        if refuse and code in refuse:
            raise OpsError(refuse[code]) from exc
        raise OpsError(explain(exc, action, resource)) from exc
    except bce.BotoCoreError as exc:
        raise OpsError(explain(exc, action, resource)) from exc
    except DeadlineExceeded as exc:
        raise OpsError(exc.line(action)) from None


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn :class:`OpsError` (and any botocore error a call site did not wrap) into ``error: ...`` on
    stderr and exit code 2."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except OpsError as exc:
            line = str(exc)
        except bce.ClientError as exc:
            line = explain(exc, exc.operation_name, "its resource")
        except bce.BotoCoreError as exc:
            line = explain(exc, "an AWS call", "its resource")
        except DeadlineExceeded as exc:
            line = exc.line("an AWS call")
        print(f"error: {line}", file=sys.stderr)
        return EXIT_ERROR

    return wrapper
