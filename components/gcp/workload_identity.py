"""GithubWorkloadIdentity: a workload identity pool and GitHub provider, and per environment a preview and a
deploy service account that only that environment's jobs (or this repository's pull requests) may impersonate.

The provider admits tokens of this repository only (``attribute_condition``); each service account grants
``roles/iam.workloadIdentityUser`` to exactly one ``principal://.../subject/<sub>``, the same subjects the AWS
roles trust (:mod:`genai_platform.components.github_oidc`), so no key file ever exists.
"""

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from genai_platform.components.github_oidc import (GITHUB_ISSUER, check_environments, check_repository, environment_subject,
                                    pull_request_subject)

DEPLOY_ROLES = ("roles/run.admin", "roles/artifactregistry.admin", "roles/pubsub.admin",
                "roles/iam.serviceAccountAdmin", "roles/iam.serviceAccountUser")
"""What ``pulumi up`` of the chat service creates on GCP: Cloud Run services, Artifact Registry, the budget's
Pub/Sub topic and its publisher binding, the services' own service accounts (and acting as them)."""

PREVIEW_ROLES = ("roles/viewer",)
"""Read-only metadata of the project for ``pulumi preview``."""

BUDGET_ROLE = "roles/billing.costsManager"
"""Granted on the billing account (budgets live there, not in the project)."""


@dataclass
class GithubWorkloadIdentityArgs:
    """Arguments of :class:`GithubWorkloadIdentity`."""

    repository: str
    """GitHub repository ``owner/name`` whose tokens the provider accepts."""

    environments: list[str]
    """Environments deployed to this project, e.g. ``["dev"]``."""

    project_number: pulumi.Input[str]
    """Number (not id) of the project, which ``principal://`` members name."""

    billing_account: str | None = None
    """Billing account the deploy accounts manage budgets on; default none: grant it by hand."""

    pool_id: str = "github"
    """Workload identity pool id (4-32 lower-case letters, digits, '-')."""


class GithubWorkloadIdentity(pulumi.ComponentResource):
    """Pool, provider and per-environment service accounts for GitHub Actions."""

    provider_name: pulumi.Output[str]
    """Full provider resource name (``GCP_WORKLOAD_IDENTITY_PROVIDER`` in the workflows)."""
    preview_service_accounts: dict[str, pulumi.Output[str]]
    """E-mail of each environment's preview account (``GCP_PREVIEW_SERVICE_ACCOUNT_<ENV>``)."""
    deploy_service_accounts: dict[str, pulumi.Output[str]]
    """E-mail of each environment's deploy account (``GCP_DEPLOY_SERVICE_ACCOUNT`` of the GitHub environment)."""

    def __init__(self, name: str, args: GithubWorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        check_repository(args.repository)
        check_environments(args.environments)
        super().__init__("genai:gcp:GithubWorkloadIdentity", name, None, opts)
        self._name, self._args = name, args
        pool = gcp.iam.WorkloadIdentityPool(f"{name}-pool", workload_identity_pool_id=args.pool_id,
                                            display_name="GitHub Actions", opts=self._child())
        provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-provider",
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="github-actions",
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=f"https://{GITHUB_ISSUER}"),
            attribute_mapping={"google.subject": "assertion.sub", "attribute.repository": "assertion.repository"},
            # Without a condition any GitHub repository's token would be admitted into the pool.
            attribute_condition=f"assertion.repository == '{args.repository}'",
            opts=self._child(),
        )
        self.provider_name = provider.name
        self.preview_service_accounts, self.deploy_service_accounts = {}, {}
        for env in args.environments:
            self.preview_service_accounts[env] = self._account(
                env, "preview", pull_request_subject(args.repository), pool, PREVIEW_ROLES)
            self.deploy_service_accounts[env] = self._account(
                env, "deploy", environment_subject(args.repository, env), pool, DEPLOY_ROLES)
        self.register_outputs({"provider_name": self.provider_name,
                               "preview_service_accounts": self.preview_service_accounts,
                               "deploy_service_accounts": self.deploy_service_accounts})

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _account(self, env: str, kind: str, subject: str, pool: gcp.iam.WorkloadIdentityPool,
                 roles: tuple[str, ...]) -> pulumi.Output[str]:
        logical = f"{self._name}-{env}-{kind}"
        account = gcp.serviceaccount.Account(logical, account_id=f"gh-{env}-{kind}",
                                             display_name=f"GitHub Actions {kind} of {env}", opts=self._child())
        member = pulumi.Output.all(self._args.project_number, pool.workload_identity_pool_id).apply(
            lambda values: f"principal://iam.googleapis.com/projects/{values[0]}/locations/global/"
                           f"workloadIdentityPools/{values[1]}/subject/{subject}")
        gcp.serviceaccount.IAMMember(f"{logical}-federation", service_account_id=account.name,
                                     role="roles/iam.workloadIdentityUser", member=member, opts=self._child())
        principal = pulumi.Output.concat("serviceAccount:", account.email)
        for role in roles:
            gcp.projects.IAMMember(f"{logical}-{role.split('/')[-1]}", project=account.project, role=role,
                                   member=principal, opts=self._child())
        if kind == "deploy" and self._args.billing_account:
            gcp.billing.AccountIamMember(f"{logical}-budgets", billing_account_id=self._args.billing_account,
                                         role=BUDGET_ROLE, member=principal, opts=self._child())
        return account.email
