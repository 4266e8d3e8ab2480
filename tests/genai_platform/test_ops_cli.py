"""``genai-infra bootstrap`` / ``verify`` end to end against a moto server (AWS_ENDPOINT_URL), and the one-line
error rendering: no credentials, denied, throttled, unreachable -> ``error: ...`` and exit 2, no traceback."""

import json
import logging
import os
import socket
import subprocess
import sys

import boto3
import pytest
import requests
from botocore import exceptions as bce
from botocore.awsrequest import AWSResponse
from moto.server import ThreadedMotoServer

from genai_platform.aws_ops.errors import explain
from genai_platform.aws_ops.session import AwsSession
from genai_platform.aws_ops.testing import isolate_aws_env, seed_environment
from genai_platform.cli import main

REGION = "eu-west-1"
BUCKET = "acme-pulumi-state"


@pytest.fixture(scope="module")
def server():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # keep request logs out of captured stderr
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    yield f"http://{host}:{port}"
    moto.stop()


@pytest.fixture
def endpoint(server, monkeypatch):
    """A fresh moto account behind AWS_ENDPOINT_URL, with fake credentials and nothing from ~/.aws."""
    requests.post(f"{server}/moto-api/reset", timeout=5)
    isolate_aws_env(monkeypatch, region=REGION, endpoint_url=server)
    return server


def cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def bootstrap(capsys):
    return cli(capsys, "bootstrap", "--bucket", BUCKET, "--region", REGION)


def test_bootstrap_from_nothing_then_again_changes_nothing(endpoint, capsys):
    code, out, err = bootstrap(capsys)
    assert (code, err) == (0, "")
    assert "  s3 bucket acme-pulumi-state   created  (eu-west-1)" in out
    assert "Done: 9 created, 0 updated, 0 unchanged." in out
    assert f"  pulumi login 's3://{BUCKET}?region={REGION}&awssdk=v2'" in out.splitlines()
    assert (f'  pulumi stack init prod --secrets-provider "awskms://alias/pulumi-secrets?region={REGION}"'
            in out.splitlines())

    code, out, err = bootstrap(capsys)
    item_lines = [line for line in out.splitlines() if line.startswith("  ") and "pulumi " not in line]
    assert (code, err) == (0, "")
    assert len(item_lines) == 9 and all("  exists, ok" in line for line in item_lines)
    assert "No changes: the backend already matches." in out


def test_bootstrap_hardens_a_weaker_existing_bucket(endpoint, capsys):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})

    code, out, _ = bootstrap(capsys)

    assert code == 0
    assert "  versioning                    updated  (Enabled)" in out
    assert "Done: 2 created, 6 updated, 1 unchanged." in out
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"


def test_bootstrap_refuses_a_bucket_of_another_account(endpoint, capsys, monkeypatch):
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")  # moto then answers 403, as S3 does
    other = boto3.client("s3", region_name=REGION)
    other.meta.events.register("before-sign.s3", lambda request, **_: request.headers.__setitem__(
        "x-moto-account-id", "111122223333"))
    other.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})

    code, _, err = bootstrap(capsys)

    assert code == 2
    assert err.splitlines() == [
        f"error: the bucket {BUCKET} exists but is not owned by account 123456789012 (or this caller may not "
        f"s3:ListBucket it): choose another --bucket name, or if the bucket is yours grant s3:ListBucket on "
        f"arn:aws:s3:::{BUCKET}"]


def test_bootstrap_rejects_a_bad_name_before_any_change(endpoint, capsys):
    code, _, err = cli(capsys, "bootstrap", "--bucket", "Bad_Name", "--region", REGION)
    assert code == 2
    assert err.splitlines() == ["error: --bucket 'Bad_Name' is not a valid state bucket name: use 3-63 lowercase "
                                "letters, digits and hyphens, starting and ending with a letter or digit."]
    aliases = boto3.client("kms", region_name=REGION).list_aliases()["Aliases"]
    assert "alias/pulumi-secrets" not in [alias["AliasName"] for alias in aliases]


def write_outputs(tmp_path, outputs):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return str(path)


def test_verify_json_passes_on_a_healthy_environment(endpoint, capsys, tmp_path):
    outputs = write_outputs(tmp_path, seed_environment("genai-prod", REGION))

    code, out, err = cli(capsys, "verify", "prod", "--outputs", outputs, "--format", "json")

    document = json.loads(out)
    assert (code, err) == (0, "")
    assert document["env"] == "prod" and document["region"] == REGION and document["passed"] is True
    assert document["summary"] == {"passed": 11, "failed": 0}
    assert document["checks"][0] == {"check": "database encrypted", "resource": "genai-prod-rag", "passed": True,
                                     "reason": "storage encrypted"}


def test_verify_table_shows_the_failure_and_exits_1(endpoint, capsys, tmp_path):
    outputs = seed_environment("genai-dev", REGION)
    boto3.client("cloudwatch", region_name=REGION).set_alarm_state(
        AlarmName="genai-dev-api-5xx", StateValue="ALARM", StateReason="5xx burst")

    code, out, err = cli(capsys, "verify", "dev", "--outputs", write_outputs(tmp_path, outputs))

    assert (code, err) == (1, "")
    row = next(line for line in out.splitlines() if "no alarm firing" in line)
    assert "FAIL" in row and "1 of 1 in ALARM: genai-dev-api-5xx" in row
    assert "10 checks: 9 passed, 1 failed" in out


@pytest.mark.end_to_end
def test_console_script_in_a_subprocess_uses_the_environment(endpoint, tmp_path):
    outputs = write_outputs(tmp_path, seed_environment("genai-stg", REGION))
    script = os.path.join(os.path.dirname(sys.executable), "genai-infra")

    result = subprocess.run([script, "verify", "staging", "--outputs", outputs, "--format", "json"],
                            capture_output=True, text=True, env=dict(os.environ), timeout=120, check=False)

    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["summary"] == {"passed": 10, "failed": 0}


# --- one-line errors ---------------------------------------------------------------------------

def test_no_credentials_is_one_line_and_exit_2(monkeypatch, capsys):
    isolate_aws_env(monkeypatch, region=REGION, credentials=False)

    code, out, err = bootstrap(capsys)

    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: sts:GetCallerIdentity found no usable AWS credentials: set AWS_PROFILE (then aws sso login) "
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"]


def test_missing_region_is_one_line(monkeypatch, capsys):
    isolate_aws_env(monkeypatch, region=None)
    code, _, err = cli(capsys, "bootstrap", "--bucket", BUCKET)
    assert code == 2
    assert err.splitlines() == ["error: no AWS region: pass --region or set AWS_REGION (or region in the AWS profile)"]


def test_unknown_profile_is_one_line(monkeypatch, capsys):
    isolate_aws_env(monkeypatch, region=REGION)
    monkeypatch.setenv("AWS_PROFILE", "nope")
    code, _, err = bootstrap(capsys)
    assert code == 2
    assert err.splitlines() == [
        "error: the AWS profile 'nope' does not exist: fix AWS_PROFILE or add the profile to ~/.aws/config"]


def test_unreachable_endpoint_is_one_line(monkeypatch, capsys, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    isolate_aws_env(monkeypatch, region=REGION, endpoint_url=closed)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # honoured: no backoff wait in the test

    code, _, err = cli(capsys, "verify", "dev", "--outputs", write_outputs(tmp_path, {"budgetNames": ["b"]}))

    assert code == 2
    assert err.splitlines() == [
        f'error: sts:GetCallerIdentity could not reach {closed}/: check the network or proxy, AWS_ENDPOINT_URL '
        "and the region"]


def test_unreadable_outputs_file_is_one_line(endpoint, capsys, tmp_path):
    code, _, err = cli(capsys, "verify", "dev", "--outputs", str(tmp_path / "missing.json"))
    assert code == 2
    assert err.splitlines() == [f"error: cannot read --outputs {tmp_path / 'missing.json'}: No such file or "
                                "directory: write it with pulumi stack output --json > FILE"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_outputs_written_by_powershell_are_read(endpoint, capsys, tmp_path, encoding):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(seed_environment("ps", REGION)), encoding=encoding)
    code, out, err = cli(capsys, "verify", "dev", "--outputs", str(outputs), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["passed"] is True


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff\xfe{\x00\x00\xd8", "is not UTF-16 text (byte 4): save it as UTF-8"),
    (b'{"databaseIdentifier": "\xe9"}', "is not UTF-8 text (byte 24): save it as UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nests values too deeply to be stack outputs"),
    (b'{"databaseIdentifier": ""}', 'databaseIdentifier holds "", not a non-empty name'),
    (b" " * (10 * 1024 * 1024 + 1), "is 10485761 bytes, more than stack outputs need (10485760)"),
])
def test_bad_outputs_are_one_line_and_exit_2_before_any_aws_call(endpoint, capsys, tmp_path, content, message):
    outputs = tmp_path / "outputs.json"
    outputs.write_bytes(content)
    code, out, err = cli(capsys, "verify", "dev", "--outputs", str(outputs))
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith(f"error: --outputs {outputs}") and message in err


def throttle(sts, times):
    """Answer the next ``times`` requests of the ``sts`` client with a Throttling error before they reach the
    server; the responses go through botocore's retry handler exactly like real ones."""
    calls = []

    def respond(request, **_):
        calls.append(request.url)
        if len(calls) > times:
            return None
        body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                b"<Message>Rate exceeded</Message></Error></ErrorResponse>")
        return AWSResponse(request.url, 400, {}, _Raw(body))

    sts.meta.events.register_first("before-send.sts", respond)
    return calls


class _Raw:
    def __init__(self, body):
        self.body = body

    def stream(self, **_):
        yield self.body


def test_standard_retry_mode_with_ten_retries_unless_the_environment_says_otherwise(monkeypatch):
    isolate_aws_env(monkeypatch, region=REGION)
    default = AwsSession()
    assert default.retry_overrides == {"mode": "standard", "max_attempts": 10}
    assert default.client("sqs").meta.config.retries == {"mode": "standard", "total_max_attempts": 11}

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    configured = AwsSession()
    assert configured.retry_overrides == {}
    assert configured.client("sqs").meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}


def test_a_throttled_call_is_retried_and_succeeds(endpoint):
    aws = AwsSession()
    calls = throttle(aws.client("sts"), times=1)
    assert aws.account_id == "123456789012"
    assert len(calls) == 2


def test_persistent_throttling_is_one_line_after_the_attempts(endpoint, monkeypatch, capsys):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    created = []
    original = AwsSession.client

    def throttled_client(self, service):
        client = original(self, service)
        if service == "sts" and not created:
            created.append(throttle(client, times=99))
        return client

    monkeypatch.setattr(AwsSession, "client", throttled_client)

    code, _, err = bootstrap(capsys)

    assert code == 2 and len(created[0]) == 2
    assert err.splitlines() == [
        "error: sts:GetCallerIdentity was throttled (Throttling) after 2 attempts: wait a minute and re-run, "
        "or raise the API rate quota in Service Quotas"]


def client_error(code, message="", status=400, retries=0):
    return bce.ClientError({"Error": {"Code": code, "Message": message},
                            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": retries}}, "Op")


@pytest.mark.parametrize(("exc", "line"), [
    (client_error("AccessDenied", "User is not authorized", 403),
     "s3:CreateBucket was denied (AccessDenied): the caller needs s3:CreateBucket on arn:aws:s3:::acme-pulumi-state"),
    (client_error("403", "Forbidden", 403),
     "s3:CreateBucket was denied (403): the caller needs s3:CreateBucket on arn:aws:s3:::acme-pulumi-state"),
    (client_error("ExpiredToken", "The security token included in the request is expired"),
     "s3:CreateBucket was rejected (ExpiredToken): the AWS credentials are invalid or expired: refresh them "
     "(aws sso login, or new access keys) and re-run"),
    (client_error("SlowDown", "Please reduce your request rate.", 503, retries=9),
     "s3:CreateBucket was throttled (SlowDown) after 10 attempts: wait a minute and re-run, or raise the API rate "
     "quota in Service Quotas"),
    (client_error("InvalidBucketName", "The specified bucket\nis not valid."),
     "s3:CreateBucket failed (InvalidBucketName): The specified bucket is not valid."),
    (bce.NoCredentialsError(),
     "s3:CreateBucket found no usable AWS credentials: set AWS_PROFILE (then aws sso login) or AWS_ACCESS_KEY_ID "
     "and AWS_SECRET_ACCESS_KEY"),
    (bce.EndpointConnectionError(endpoint_url="https://s3.eu-west-1.amazonaws.com/"),
     "s3:CreateBucket could not reach https://s3.eu-west-1.amazonaws.com/: check the network or proxy, "
     "AWS_ENDPOINT_URL and the region"),
    (bce.UnauthorizedSSOTokenError(),
     "s3:CreateBucket could not use the SSO session (expired or missing): run aws sso login and re-run"),
])
def test_error_lines_name_the_call_and_the_fix(exc, line):
    assert explain(exc, "s3:CreateBucket", "arn:aws:s3:::acme-pulumi-state") == line
