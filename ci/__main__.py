"""The CI identity stack: outputs are exactly the GitHub variables the workflows read.

    cd ci && pulumi stack init nonprod && pulumi up      # as an administrator, once per account
    pulumi stack output githubVariables --json            # repository variables
    pulumi stack output githubEnvironmentVariables --json # variables of each GitHub environment
"""

import pulumi
from pulumi_aws import get_region

from genai_platform.components.aws.ops.ci_identity import GithubCiIdentity, GithubCiIdentityArgs
from genai_platform.components.gcp.workload_identity import GithubWorkloadIdentity, GithubWorkloadIdentityArgs

config = pulumi.Config()
repository = config.require("repository")
environments = config.require_object("environments")

aws = GithubCiIdentity("ci", GithubCiIdentityArgs(
    repository=repository,
    environments=environments,
    region=get_region().region,
    dr_region=config.get("drRegion"),
    state_bucket_name=config.require("stateBucket"),
    secrets_kms_key_arn=config.require("secretsKmsKeyArn"),
    oidc_provider_arn=config.get("oidcProviderArn"),
))
gcp = GithubWorkloadIdentity("ci", GithubWorkloadIdentityArgs(
    repository=repository,
    environments=environments,
    project_number=config.require("gcpProjectNumber"),
    billing_account=config.get("gcpBillingAccount"),
))

# Repository variables (pull requests preview every environment) ...
pulumi.export("githubVariables", {
    "GCP_WORKLOAD_IDENTITY_PROVIDER": gcp.provider_name,
    **{f"AWS_PREVIEW_ROLE_ARN_{env.upper()}": aws.preview_role_arns[env] for env in environments},
    **{f"GCP_PREVIEW_SERVICE_ACCOUNT_{env.upper()}": gcp.preview_service_accounts[env] for env in environments},
})
# ... and the variables of each GitHub environment (the deploy job runs in it).
pulumi.export("githubEnvironmentVariables", {
    env: {"AWS_DEPLOY_ROLE_ARN": aws.deploy_role_arns[env], "GCP_DEPLOY_SERVICE_ACCOUNT": gcp.deploy_service_accounts[env]}
    for env in environments
})
pulumi.export("oidcProviderArn", aws.oidc_provider_arn)
