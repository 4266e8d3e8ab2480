"""``genai-infra bootstrap`` killed at any step is repaired by the next run; a silent endpoint cannot hang it.

A loopback WSGI proxy in front of a moto server fails one chosen call, either before it reaches the server (the
step never happened) or after (the step happened but the caller never heard): the two ways a killed run ends.
"""

import logging
import os
import socket
import subprocess
import sys
import threading
import time

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from genai_platform.aws_ops.backend import ALIAS_TAG
from genai_platform.aws_ops.testing import isolate_aws_env
from genai_platform.cli import main

REGION = "eu-west-1"
BUCKET = "acme-pulumi-state"
ALIAS = "alias/pulumi-secrets"
# S3 writes by subresource, named as the IAM actions the CLI's error lines name.
_S3_WRITES = {"": "CreateBucket", "publicAccessBlock": "PutBucketPublicAccessBlock",
              "versioning": "PutBucketVersioning", "encryption": "PutEncryptionConfiguration",
              "policy": "PutBucketPolicy", "lifecycle": "PutLifecycleConfiguration",
              "ownershipControls": "PutBucketOwnershipControls"}
_HOP_BY_HOP = {"connection", "content-encoding", "content-length", "transfer-encoding", "keep-alive"}


def operation(request: Request) -> str:
    """``service:Action`` of a botocore request (JSON target header, query Action, or S3 method + subresource)."""
    target = request.headers.get("X-Amz-Target", "")
    if target:
        return "kms:" + target.split(".")[-1]
    if request.method == "POST" and b"Action=" in request.get_data():
        action = request.form.get("Action", "")
        return f"sts:{action}"
    subresource = next(iter(request.args), "")
    if request.method == "PUT":
        return "s3:" + _S3_WRITES.get(subresource, f"PUT?{subresource}")
    return f"s3:{request.method}?{subresource}"


class FaultyProxy:
    """Forwards every request to moto, except the chosen operation: failed ``before`` or ``after`` forwarding,
    with a non-retryable error (``status`` 400) or a retryable one (500), ``times`` times."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.fault: tuple[str, str, int] | None = None
        self.times = 0
        self.seen: list[str] = []

    def fail(self, name: str, when: str = "before", status: int = 400, times: int = 1) -> None:
        self.fault, self.times = (name, when, status), times

    def __call__(self, environ, start_response):
        request = Request(environ)
        name = operation(request)
        self.seen.append(name)
        failing = self.fault is not None and self.fault[0] == name and self.times > 0
        if not failing or self.fault[1] == "after":
            upstream = requests.request(
                request.method, self.upstream + request.full_path.rstrip("?"), data=request.get_data(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"}, timeout=30)
        if failing:
            self.times -= 1
            return self._error(name, start_response)
        headers = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP]
        start_response(f"{upstream.status_code} {upstream.reason}",
                       [*headers, ("Content-Length", str(len(upstream.content)))])
        return [upstream.content]

    def _error(self, name: str, start_response):
        code, status = ("InjectedFault", "400 Bad Request") if self.fault[2] == 400 else (
            "InternalFailure", "500 Internal Server Error")
        if name.startswith("kms:"):
            body = f'{{"__type": "{code}", "message": "injected at {name}"}}'.encode()
            kind = "application/x-amz-json-1.1"
        else:
            body = f"<ErrorResponse><Error><Code>{code}</Code><Message>injected at {name}</Message></Error>" \
                   f"</ErrorResponse>".encode()
            kind = "application/xml"
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture(scope="module")
def servers():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    proxy = FaultyProxy(f"http://{host}:{port}")
    front = make_server("127.0.0.1", 0, proxy, threaded=True)
    thread = threading.Thread(target=front.serve_forever, daemon=True)
    thread.start()
    yield proxy, f"http://127.0.0.1:{front.server_port}"
    front.shutdown()
    moto.stop()


@pytest.fixture
def proxy(servers, monkeypatch):
    proxy, endpoint = servers
    requests.post(f"{proxy.upstream}/moto-api/reset", timeout=5)
    proxy.fault, proxy.seen = None, []
    isolate_aws_env(monkeypatch, region=REGION, endpoint_url=endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the faults are not retryable anyway; no backoff waits
    return proxy


def bootstrap(capsys, *extra):
    code = main(["bootstrap", "--bucket", BUCKET, "--region", REGION, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


WRITES = ["kms:CreateKey", "kms:CreateAlias", "kms:EnableKeyRotation", "s3:CreateBucket",
          "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
          "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"]


def test_the_writes_of_a_first_run_are_the_steps_under_test(proxy, capsys):
    assert bootstrap(capsys)[0] == 0
    assert [name for name in proxy.seen if name.split(":")[1].startswith(("Create", "Put", "Enable"))] == WRITES


# Every step failed after it took effect (the harder case: done, but the run never learnt of it), and the two
# creates failed before they reached AWS too (a write that never happened is what each later step also covers).
KILLS = [(step, "after") for step in WRITES] + [("kms:CreateKey", "before"), ("s3:CreateBucket", "before")]


@pytest.mark.parametrize(("step", "when"), KILLS)
def test_a_run_killed_at_any_step_is_repaired_by_the_next(proxy, capsys, step, when):
    proxy.fail(step, when)
    code, _, err = bootstrap(capsys)
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {step} failed (InjectedFault)")

    assert bootstrap(capsys)[0] == 0
    code, out, _ = bootstrap(capsys)
    assert code == 0 and "No changes: the backend already matches." in out

    kms = boto3.client("kms", region_name=REGION)
    tagged = [key["KeyId"] for key in kms.list_keys()["Keys"]
              if {"TagKey": ALIAS_TAG, "TagValue": ALIAS} in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]]
    assert len(tagged) == 1  # adopted, never a second key
    assert kms.describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"] == tagged[0]
    assert kms.get_key_rotation_status(KeyId=tagged[0])["KeyRotationEnabled"] is True
    rule = boto3.client("s3", region_name=REGION).get_bucket_encryption(Bucket=BUCKET)[
        "ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"].endswith(tagged[0])


def test_aws_max_attempts_is_respected(proxy, capsys, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    proxy.fail("sts:GetCallerIdentity", status=500, times=10)
    code, _, err = bootstrap(capsys)
    assert code == 2 and err.startswith("error: sts:GetCallerIdentity failed (InternalFailure)")
    assert proxy.seen.count("sts:GetCallerIdentity") == 3


@pytest.mark.end_to_end
def test_an_endpoint_that_never_answers_is_given_up_on_within_the_timeout(monkeypatch):
    """The console script in a real process: a socket that accepts connections and never answers."""
    silent = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.extend(silent.accept() for _ in range(20)), daemon=True).start()
    isolate_aws_env(monkeypatch, region=REGION, endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}")
    script = os.path.join(os.path.dirname(sys.executable), "genai-infra")

    started = time.monotonic()
    result = subprocess.run([script, "bootstrap", "--bucket", BUCKET, "--timeout", "2"], capture_output=True,
                            text=True, env=dict(os.environ), timeout=60, check=False)
    elapsed = time.monotonic() - started
    silent.close()

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: sts:GetCallerIdentity did not finish within the --timeout of 2 s (the endpoint is slow or does not "
        "answer): check the network or proxy and AWS_ENDPOINT_URL, or raise --timeout; a re-run finishes what this "
        "one started"]
    # The deadline plus one read timeout (clipped to the deadline), with room for interpreter start-up and backoff.
    assert elapsed < 2 + 2 + 15
