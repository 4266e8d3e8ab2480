import pytest

from genai_platform.components.aws.fargate.iam import (
    check_plain_environment,
    check_task_role_statements,
    ecr_repository_arn,
    execution_policy,
    secret_resource_arn,
)

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tabular/db-AbC123"
LOG_GROUP = "arn:aws:logs:eu-west-1:123456789012:log-group:/genai/ecs/tabular"


@pytest.mark.parametrize(("image", "arn"), [
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/tabular-api:1.0",
     "arn:aws:ecr:eu-west-1:123456789012:repository/tabular-api"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/mlflow@sha256:" + "a" * 64,
     "arn:aws:ecr:us-east-1:123456789012:repository/team/mlflow"),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api:2", "arn:aws-cn:ecr:cn-north-1:123456789012:repository/api"),
    ("public.ecr.aws/docker/library/python:3.12", None),
    ("ghcr.io/mlflow/mlflow:v2.20.0", None),
])
def test_ecr_repository_arn(image, arn):
    assert ecr_repository_arn(image) == arn


@pytest.mark.parametrize(("value_from", "expected"), [
    (SECRET, ("secretsmanager", SECRET)),
    (f"{SECRET}:password::", ("secretsmanager", SECRET)),
    (f"{SECRET}:password:AWSCURRENT:", ("secretsmanager", SECRET)),
    ("arn:aws:ssm:eu-west-1:123456789012:parameter/tabular/model-uri",
     ("ssm", "arn:aws:ssm:eu-west-1:123456789012:parameter/tabular/model-uri")),
])
def test_secret_resource_arn(value_from, expected):
    assert secret_resource_arn("secrets", "X", value_from) == expected


@pytest.mark.parametrize(("value_from", "message"), [
    ("arn:aws:ssm:eu-west-1:123456789012:document/run", "secrets['X']='arn:aws:ssm:eu-west-1:123456789012:"
     "document/run' is an SSM ARN but not a parameter: use arn:aws:ssm:<region>:<account>:parameter/<name>."),
    ("arn:aws:s3:::bucket/key", "secrets['X']='arn:aws:s3:::bucket/key' is not a Secrets Manager secret or SSM "
     "parameter ARN"),
    ("/tabular/model-uri", "is not a Secrets Manager secret or SSM parameter ARN"),
])
def test_secret_resource_arn_rejects(value_from, message):
    with pytest.raises(ValueError) as error:
        secret_resource_arn("secrets", "X", value_from)
    assert message in str(error.value)


@pytest.mark.parametrize("key", ["DB_PASSWORD", "HF_TOKEN", "JWT_SECRET", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY",
                                 "TLS_PRIVATE_KEY", "oauth_client_secret", "APIKEY", "Db_Passwd", "GCP_CREDENTIALS"])
def test_credential_like_environment_keys_are_rejected(key):
    with pytest.raises(ValueError, match=f"environment key '{key}' looks like a credential"):
        check_plain_environment("environment", {key: "value"})


@pytest.mark.parametrize("key", ["TOKENIZER_PATH", "MAX_TOKENS", "DB_SECRET_ARN", "PASSWORD_FILE", "LOG_LEVEL",
                                 "SECRET_NAME", "KEYCLOAK_URL", "MLFLOW_TRACKING_URI",
                                 "GOOGLE_APPLICATION_CREDENTIALS"])
def test_ordinary_environment_keys_pass(key):
    check_plain_environment("environment", {key: "value"})


@pytest.mark.parametrize("statements", [
    [{"Action": ["s3:GetObject", "s3:PutObject"], "Resource": ["arn:aws:s3:::b/*"]}],
    [{"Action": "ecs:ListClusters", "Resource": "*"}],
    [{"Action": ["ec2:DescribeInstances", "ecs:DescribeServices"], "Resource": "*"}],
    [{"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}],
])
def test_least_privilege_statements_pass(statements):
    check_task_role_statements("s", statements)


@pytest.mark.parametrize(("statement", "message"), [
    ({"Action": "*", "Resource": "arn:aws:s3:::b"}, "s[0] has the wildcard action '*': list the exact actions the task calls."),
    ({"Action": ["s3:Get*"], "Resource": "arn:aws:s3:::b"}, "s[0] has the wildcard action 's3:Get*'"),
    ({"Action": "secretsmanager:GetSecretValue", "Resource": "*"},
     "s[0] allows 'secretsmanager:GetSecretValue' on Resource '*'"),
    ({"Action": "s3:GetObject"}, "s[0] has no Resource: name the ARNs the actions apply to."),
    ({"Resource": "arn:aws:s3:::b"}, "s[0] has no Action: list the exact actions the task calls."),
    ({"NotResource": "arn:aws:s3:::b", "Action": "s3:GetObject"}, "s[0] uses NotResource"),
    ({"Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}, "s[0] uses Principal"),
])
def test_broad_statements_are_rejected(statement, message):
    with pytest.raises(ValueError) as error:
        check_task_role_statements("s", [statement])
    assert message in str(error.value)


def test_execution_policy_deduplicates_secrets_and_skips_kms_without_secrets():
    document = execution_policy(LOG_GROUP, "python:3.12", {"A": f"{SECRET}:user::", "B": f"{SECRET}:password::"},
                                ["arn:aws:kms:eu-west-1:123456789012:key/k"], "eu-west-1")
    secrets = [s for s in document["Statement"] if s["Sid"] == "Secrets"]
    assert secrets == [{"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                        "Resource": [SECRET]}]
    bare = execution_policy(LOG_GROUP, "python:3.12", {}, ["arn:aws:kms:eu-west-1:123456789012:key/k"], "eu-west-1")
    assert [s["Sid"] for s in bare["Statement"]] == ["Logs"]
