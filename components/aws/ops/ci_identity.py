"""GithubCiIdentity: the GitHub OIDC provider and, per environment, a read-only preview role and a deploy role.

Trust is the OIDC token's ``aud`` (``sts.amazonaws.com``) and ``sub`` claims, matched exactly:

* deploy role of ``<env>``: ``repo:<owner>/<name>:environment:<env>``: only a job running in that GitHub
  environment of this repository, so the environment's protection rules (deployment branches/tags, required
  reviewers) decide who deploys; a pull request or another environment cannot assume it;
* preview role of ``<env>``: ``repo:<owner>/<name>:pull_request``: pull requests of this repository (GitHub
  issues no token to forks), read-only.

How far ``pulumi up`` reaches (no ``*`` action anywhere):

* only the services the platform's resources belong to (:data:`DEPLOY_SERVICES`; a test keeps the list equal
  to what the stacks' plans create), and only in the environment's region and its DR region;
* IAM only on roles, policies and instance profiles named ``<env>-*`` (the stacks' logical names, which
  Pulumi auto-names from) and the EKS OIDC providers; ``iam:PassRole`` only of those roles and only to the
  services that take them;
* explicit denies: IAM users and access keys, the AWS administrator policies, this stack's own roles and
  OIDC provider (a deploy cannot widen its own trust), and weakening the state bucket or the secrets key;
* the Pulumi state bucket and the secrets key by name.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import iam

from genai_platform.components.aws.account import account_of
from genai_platform.components.github_oidc import (GITHUB_ISSUER, check_environments, check_repository, environment_subject,
                                   pull_request_subject)
from genai_platform.components.tagging import child_tags

AUDIENCE = "sts.amazonaws.com"

DEPLOY_SERVICES = ("application-autoscaling", "aps", "autoscaling", "budgets", "cloudwatch", "codebuild", "ec2", "ecr",
                   "ecs", "eks", "elasticache", "elasticloadbalancing", "events", "grafana", "kms", "logs", "rds",
                   "s3", "secretsmanager", "sns", "sqs", "ssm")
"""AWS services whose resources the stacks create (IAM and STS are handled apart)."""

GLOBAL_SERVICES = ("budgets",)
"""Services whose API calls are not in the environment's region (aws:RequestedRegion is us-east-1)."""

PASS_ROLE_SERVICES = ("ec2.amazonaws.com", "eks.amazonaws.com", "ecs-tasks.amazonaws.com",
                      "codebuild.amazonaws.com", "rds.amazonaws.com", "monitoring.rds.amazonaws.com",
                      "application-autoscaling.amazonaws.com", "ecs.amazonaws.com", "vpc-flow-logs.amazonaws.com",
                      "s3.amazonaws.com", "grafana.amazonaws.com", "events.amazonaws.com")
"""Services the stacks hand a role to (node groups, the EKS control plane, ECS tasks, RDS monitoring...)."""

ADMIN_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ARN = re.compile(r"^arn:aws[a-z-]*:")


@dataclass
class GithubCiIdentityArgs:
    """Arguments of :class:`GithubCiIdentity`."""

    repository: str
    """GitHub repository ``owner/name`` whose workflows may assume the roles."""

    environments: list[str]
    """Environments (= stacks = GitHub environments) deployed from this AWS account, e.g. ``["dev"]``."""

    region: str
    """The environment's region: deploys touch it (and the global budgets API)."""

    state_bucket_name: str
    """The Pulumi state bucket (``genai-infra bootstrap``); previews read it, deploys write it."""

    secrets_kms_key_arn: str
    """The KMS key of the Pulumi secrets provider; both roles decrypt stack secrets with it."""

    dr_region: str | None = None
    """A second region deploys may touch: where the tier replicates for disaster recovery (``drRegion``, prod);
    default none."""

    oidc_provider_arn: str | None = None
    """An existing GitHub OIDC provider of the account; default none: one is created (one per account)."""

    role_name_prefix: str = "genai-ci"
    """Roles are named ``<prefix>-<env>-preview`` / ``<prefix>-<env>-deploy``: the workflows name them."""

    max_session_hours: int = 2
    """Session length of both roles; the deploy job times out after 90 minutes."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child."""


class GithubCiIdentity(pulumi.ComponentResource):
    """The OIDC provider and the per-environment preview and deploy roles GitHub Actions assume."""

    oidc_provider_arn: pulumi.Output[str]
    """The GitHub OIDC provider of the account."""
    preview_role_arns: dict[str, pulumi.Output[str]]
    """Read-only role per environment (``AWS_PREVIEW_ROLE_ARN_<ENV>`` in the workflows)."""
    deploy_role_arns: dict[str, pulumi.Output[str]]
    """Deploy role per environment (``AWS_DEPLOY_ROLE_ARN`` of the GitHub environment)."""

    def __init__(self, name: str, args: GithubCiIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:aws:GithubCiIdentity", name, None, opts)
        self._name, self._args = name, args
        here = account_of(self)
        account, partition = here.account_id, here.partition
        if args.oidc_provider_arn:
            self.oidc_provider_arn = pulumi.Output.from_input(args.oidc_provider_arn)
        else:
            # No thumbprint: IAM trusts GitHub's certificate through its own CA library since 2023.
            provider = iam.OpenIdConnectProvider(f"{name}-github", url=f"https://{GITHUB_ISSUER}",
                                                 client_id_lists=[AUDIENCE], tags=child_tags(f"{name}-github", args.tags),
                                                 opts=self._child())
            self.oidc_provider_arn = provider.arn
        scope = _Scope(partition, account, args)
        self.preview_role_arns, self.deploy_role_arns = {}, {}
        for env in args.environments:
            self.preview_role_arns[env] = self._role(env, "preview", pull_request_subject(args.repository),
                                                     preview_policy(scope), managed=["ViewOnlyAccess"])
            self.deploy_role_arns[env] = self._role(env, "deploy", environment_subject(args.repository, env),
                                                    deploy_policy(scope, env))
        self.register_outputs({"oidc_provider_arn": self.oidc_provider_arn,
                               "preview_role_arns": self.preview_role_arns,
                               "deploy_role_arns": self.deploy_role_arns})

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _role(self, env: str, kind: str, subject: str, policy: dict[str, Any],
              managed: list[str] | None = None) -> pulumi.Output[str]:
        args = self._args
        logical = f"{self._name}-{env}-{kind}"
        role = iam.Role(logical, name=f"{args.role_name_prefix}-{env}-{kind}",
                        assume_role_policy=pulumi.Output.json_dumps(
                            self.oidc_provider_arn.apply(lambda arn: github_trust_policy(arn, subject))),
                        max_session_duration=args.max_session_hours * 3600,
                        tags=child_tags(logical, args.tags), opts=self._child())
        document = iam.Policy(logical, name=f"{args.role_name_prefix}-{env}-{kind}",
                              policy=pulumi.Output.json_dumps(policy), tags=child_tags(logical, args.tags),
                              opts=self._child())
        iam.RolePolicyAttachment(logical, role=role.name, policy_arn=document.arn, opts=self._child())
        for managed_policy in managed or []:
            iam.RolePolicyAttachment(f"{logical}-{managed_policy.lower()}", role=role.name,
                                     policy_arn=f"arn:aws:iam::aws:policy/job-function/{managed_policy}",
                                     opts=self._child())
        return role.arn


def github_trust_policy(provider_arn: str, subject: str) -> dict[str, Any]:
    """Only tokens for this audience and exactly this subject (no wildcard in ``sub``)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_ISSUER}:aud": AUDIENCE, f"{GITHUB_ISSUER}:sub": subject}},
    }]}


@dataclass(frozen=True)
class _Scope:
    partition: str
    account: str
    args: GithubCiIdentityArgs

    def arn(self, service: str, resource: str, region: str = "") -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"

    @property
    def state_bucket(self) -> str:
        return f"arn:{self.partition}:s3:::{self.args.state_bucket_name}"


def _state_statements(scope: _Scope, write: bool) -> list[dict[str, Any]]:
    objects = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write else ["s3:GetObject"]
    statements = [
        {"Sid": "StateList", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": scope.state_bucket},
        {"Sid": "StateObjects", "Effect": "Allow", "Action": objects, "Resource": f"{scope.state_bucket}/*"},
        {"Sid": "StackSecrets", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] if write else ["kms:Decrypt"],
         "Resource": scope.args.secrets_kms_key_arn},
    ]
    if not write:  # a preview still takes (and releases) the stack's lock file
        statements.append({"Sid": "StateLocks", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
                           "Resource": f"{scope.state_bucket}/.pulumi/locks/*"})
    return statements


def preview_policy(scope: _Scope) -> dict[str, Any]:
    """ViewOnlyAccess (attached) reads no data; this adds the state, its secrets key and the lookups a preview
    makes (identity, zones, the EKS AMI parameter)."""
    return {"Version": "2012-10-17", "Statement": [
        *_state_statements(scope, write=False),
        {"Sid": "PreviewLookups", "Effect": "Allow",
         "Action": ["ec2:DescribeAvailabilityZones", "ssm:GetParameter", "eks:DescribeCluster",
                    "iam:GetRole", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetOpenIDConnectProvider"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": [scope.args.region, "us-east-1"]}}},
    ]}


def deploy_policy(scope: _Scope, env: str) -> dict[str, Any]:
    """What ``pulumi up`` of one environment needs, bounded as the module docstring says."""
    args, p, a = scope.args, scope.partition, scope.account
    regional = [s for s in DEPLOY_SERVICES if s not in GLOBAL_SERVICES]
    iam_resources = [f"arn:{p}:iam::{a}:role/{env}-*", f"arn:{p}:iam::{a}:policy/{env}-*",
                     f"arn:{p}:iam::{a}:instance-profile/{env}-*",
                     f"arn:{p}:iam::{a}:oidc-provider/oidc.eks.{args.region}.amazonaws.com/*"]
    own = [f"arn:{p}:iam::{a}:role/{args.role_name_prefix}-*", f"arn:{p}:iam::{a}:policy/{args.role_name_prefix}-*",
           f"arn:{p}:iam::{a}:oidc-provider/{GITHUB_ISSUER}"]
    return {"Version": "2012-10-17", "Statement": [
        *_state_statements(scope, write=True),
        {"Sid": "PlatformServices", "Effect": "Allow", "Action": [f"{service}:*" for service in regional],
         "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": _regions(args)}}},
        {"Sid": "Budgets", "Effect": "Allow", "Action": [f"{service}:*" for service in GLOBAL_SERVICES],
         "Resource": scope.arn("budgets", "budget/*")},
        {"Sid": "EnvironmentIam", "Effect": "Allow", "Action": ["iam:*"], "Resource": iam_resources},
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole"],
         "Resource": f"arn:{p}:iam::{a}:role/aws-service-role/*"},
        {"Sid": "PassEnvironmentRoles", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": f"arn:{p}:iam::{a}:role/{env}-*",
         "Condition": {"StringEquals": {"iam:PassedToService": list(PASS_ROLE_SERVICES)}}},
        {"Sid": "Identity", "Effect": "Allow", "Action": ["sts:GetCallerIdentity", "iam:ListRoles",
                                                          "iam:ListPolicies", "iam:ListOpenIDConnectProviders"],
         "Resource": "*"},
        {"Sid": "NoUsersOrKeys", "Effect": "Deny",
         "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:AttachUserPolicy",
                    "iam:PutUserPolicy"], "Resource": "*"},
        {"Sid": "NoAdministratorPolicies", "Effect": "Deny",
         "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"], "Resource": "*",
         "Condition": {"ArnLike": {"iam:PolicyARN": [f"arn:{p}:iam::aws:policy/{name}" for name in ADMIN_POLICIES]}}},
        {"Sid": "NotOwnIdentity", "Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*"], "Resource": own},
        # The regional kms:* / s3:* must not reach the state the deploy itself depends on.
        {"Sid": "KeepSecretsKey", "Effect": "Deny",
         "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant"],
         "Resource": args.secrets_kms_key_arn},
        {"Sid": "KeepStateBucket", "Effect": "Deny",
         "Action": ["s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning",
                    "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration"], "Resource": scope.state_bucket},
    ]}


def _regions(args: GithubCiIdentityArgs) -> str | list[str]:
    return [args.region, args.dr_region] if args.dr_region else args.region


def _validate(args: GithubCiIdentityArgs) -> None:
    check_repository(args.repository)
    check_environments(args.environments)
    for argument, region in (("region", args.region), ("dr_region", args.dr_region)):
        if region is not None and not _REGION.match(region):
            raise ValueError(f"{argument}={region!r} is not an AWS region: use e.g. 'us-east-1'.")
    if not _ARN.match(args.secrets_kms_key_arn):
        raise ValueError(f"secrets_kms_key_arn={args.secrets_kms_key_arn!r} is not an ARN: use the key ARN "
                         "`genai-infra bootstrap` printed (arn:aws:kms:<region>:<account>:key/<id>).")
    if args.oidc_provider_arn is not None and not _ARN.match(args.oidc_provider_arn):
        raise ValueError(f"oidc_provider_arn={args.oidc_provider_arn!r} is not an ARN: use "
                         f"arn:aws:iam::<account>:oidc-provider/{GITHUB_ISSUER}, or leave it unset to create one.")
    if not 1 <= args.max_session_hours <= 12:
        raise ValueError(f"max_session_hours={args.max_session_hours} is out of range: use 1 to 12 hours.")
