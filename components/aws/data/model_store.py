"""ModelStore: the S3 bucket model weights are served from, and the one workload role that may read it."""

import re
from dataclasses import dataclass, field

import pulumi

from genai_platform.components.aws.data.bucket import Bucket, BucketArgs
from genai_platform.components.aws.eks.workload_role import WorkloadRole, WorkloadRoleArgs, check_service_account

_PREFIX = re.compile(r"^([A-Za-z0-9!_.*'()-]+/)*$")


@dataclass
class ModelStoreArgs:
    """Arguments of :class:`ModelStore`. Every default is the secure, cheap one."""

    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (``EksCluster.oidc_provider_arn``): the reader role trusts it."""

    oidc_provider_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL (``EksCluster.oidc_provider_url``)."""

    namespace: str
    """Namespace of the model server's service account; the role's trust policy pins it."""

    service_account: str
    """Service account of the model server (a ``VllmServer``/``KubeService`` names it after the component). Only it
    may assume the read-only role."""

    noncurrent_version_expiration_days: int = 30
    """Days a replaced weight file is kept (versioning is on: a bad upload is rolled back by restoring the previous
    version). Weights are large (~15 GB for a 7B model in bf16), so this bounds what a rollback window costs."""

    access_log_bucket: pulumi.Input[str] | None = None
    """Bucket receiving S3 server access logs of the store (``Bucket(access_log_target=True)``). Default none."""

    protect: bool = False
    """Pulumi ``protect`` on the bucket and its key (prod protects them)."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child (the stack passes ``Environment``)."""


class ModelStore(pulumi.ComponentResource):
    """A private, versioned, KMS-encrypted, TLS-only bucket (:class:`Bucket`) of model weights, plus an IRSA role
    granting exactly ``s3:ListBucket``/``s3:GetObject`` on it and ``kms:Decrypt`` on its key to one service account.

    Nothing else is granted: the weights are uploaded by an operator or a CI job with their own credentials
    (docs/runbook.md), never by the server that reads them.
    """

    bucket_name: pulumi.Output[str]
    """Name of the bucket; weights live under ``<prefix>/`` (``s3://<bucket>/<prefix>/``)."""
    bucket_arn: pulumi.Output[str]
    """ARN of the bucket."""
    reader_role_arn: pulumi.Output[str]
    """The read-only role of ``namespace/service_account`` (annotate that service account with it)."""

    def __init__(self, name: str, args: ModelStoreArgs, opts: pulumi.ResourceOptions | None = None):
        check_service_account(args.namespace, args.service_account)
        super().__init__("genai:aws:ModelStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = Bucket(f"{name}-weights", BucketArgs(
            noncurrent_version_expiration_days=args.noncurrent_version_expiration_days,
            access_log_bucket=args.access_log_bucket,
            protect=args.protect,
            tags=args.tags,
        ), child)
        reader = WorkloadRole(f"{name}-reader", WorkloadRoleArgs(
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_provider_url=args.oidc_provider_url,
            namespace=args.namespace,
            service_account=args.service_account,
            policies={"read-weights": bucket.read_policy_json},
            tags=args.tags,
        ), child)
        self.bucket_name, self.bucket_arn, self.reader_role_arn = bucket.bucket_name, bucket.bucket_arn, reader.role_arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn,
                               "reader_role_arn": self.reader_role_arn})

    def model_uri(self, prefix: str) -> pulumi.Output[str]:
        """``s3://<bucket>/<prefix>``: where a model's weights (``config.json``, ``*.safetensors``, tokenizer) live."""
        check_model_prefix(prefix)
        return pulumi.Output.concat("s3://", self.bucket_name, "/", prefix.rstrip("/"))


def check_model_prefix(prefix: str) -> None:
    """Refuse a model path that is not an S3 key prefix of the form ``<org>/<model>/``."""
    path = prefix.rstrip("/") + "/"
    if not prefix or prefix.startswith("/") or not _PREFIX.match(path) or ".." in path.split("/"):
        raise ValueError(f"model path {prefix!r} is not an S3 key prefix: use e.g. 'mistralai/Mistral-7B-Instruct-v0.3' "
                         "(the folder holding config.json and the *.safetensors files).")
