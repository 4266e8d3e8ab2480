"""GithubActionsRunner: an AWS CodeBuild project that runs GitHub Actions jobs inside the VPC.

The deploy jobs need the private EKS API endpoint (Helm releases and Kubernetes objects), so they run
on this runner instead of a GitHub-hosted one: CodeBuild starts an ephemeral container in the private
subnets for every queued job whose ``runs-on`` names the project
(``codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}``), and it is gone when the job ends.
Cheaper than an always-on self-hosted runner (billed per build minute, nothing while idle) and nothing to
patch. The runner's own role can only write its logs and place its network interfaces: the job still
assumes the environment's deploy role through GitHub OIDC, so what a job may do is decided by that role's
trust (this repository, this GitHub environment), not by which runner picked it up.
"""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import cloudwatch, codebuild, ec2, iam, vpc

from genai_platform.components.aws.account import account_of
from genai_platform.components.aws.limits import check_log_retention
from genai_platform.components.github_oidc import check_repository
from genai_platform.components.tagging import child_tags
from genai_platform.components.validation import check_range

HTTPS_PORT = 443
COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE")
DEFAULT_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
"""CodeBuild's curated Amazon Linux 2023 image (Python 3.11+, git, AWS CLI)."""

_PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,149}$")
_CONNECTION_ARN = re.compile(r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]+$")


@dataclass
class GithubActionsRunnerArgs:
    """Arguments of :class:`GithubActionsRunner`."""

    vpc_id: pulumi.Input[str]
    """VPC the runner's containers run in."""

    private_subnet_ids: list[pulumi.Input[str]]
    """Private subnets (outbound through NAT): the runner has no public IP."""

    repository: str
    """GitHub repository ``owner/name`` whose workflow jobs this runner takes."""

    github_connection_arn: str
    """AWS CodeConnections connection to GitHub (created and authorised once per account in the console;
    CodeBuild uses it to register the webhook and the runner). Required: there is no safe default."""

    project_name: str | None = None
    """CodeBuild project name; default the component name. Workflows name it in ``runs-on``."""

    api_security_group_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """Security groups of private endpoints the jobs must reach on 443 (the EKS cluster security group):
    each gets one ingress rule from the runner's group, nothing wider."""

    compute_type: str = "BUILD_GENERAL1_SMALL"
    """CodeBuild compute (small: 2 vCPU, 3 GiB, ~$0.005/minute), enough for ``pulumi up``."""

    image: str = DEFAULT_IMAGE
    """Build image the job runs in."""

    build_timeout_minutes: int = 120
    """Longest a job may run; the deploy job's own timeout (90) stays below it."""

    log_retention_days: int = 90
    """Retention of the job logs in CloudWatch."""

    kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for the job logs and CodeBuild's artifacts; default the AWS-managed keys."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on every child."""


class GithubActionsRunner(pulumi.ComponentResource):
    """A CodeBuild project of type GitHub Actions runner in the private subnets, with its own role,
    security group (egress 443 only, no ingress) and log group, triggered by ``WORKFLOW_JOB_QUEUED``."""

    project_name: str
    """The CodeBuild project name, known at plan time."""
    runs_on: str
    """The ``runs-on`` label for a workflow job (GitHub expressions left for the workflow to expand)."""
    role_arn: pulumi.Output[str]
    """The runner's own role (logs and network interfaces only)."""
    security_group_id: pulumi.Output[str]
    """The runner's security group."""

    def __init__(self, name: str, args: GithubActionsRunnerArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:aws:GithubActionsRunner", name, None, opts)
        self._name, self._tags = name, args.tags
        self.project_name = args.project_name or name
        self.runs_on = f"codebuild-{self.project_name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"

        log_group = cloudwatch.LogGroup(f"{name}-logs", name=f"/aws/codebuild/{self.project_name}",
                                        retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn,
                                        tags=self._tagged(f"{name}-logs"), opts=self._child())
        group = ec2.SecurityGroup(f"{name}-sg", vpc_id=args.vpc_id,
                                  description=f"GitHub Actions runner {self.project_name}: HTTPS out only",
                                  tags=self._tagged(f"{name}-sg"), opts=self._child())
        # GitHub, the Pulumi state bucket, AWS and GCP APIs and plugin downloads are all HTTPS.
        vpc.SecurityGroupEgressRule(f"{name}-https-out", security_group_id=group.id, ip_protocol="tcp",
                                    from_port=HTTPS_PORT, to_port=HTTPS_PORT, cidr_ipv4="0.0.0.0/0",
                                    description="HTTPS to GitHub and cloud APIs",
                                    tags=self._tagged(f"{name}-https-out"), opts=self._child())
        for index, target in enumerate(args.api_security_group_ids):
            vpc.SecurityGroupIngressRule(f"{name}-api-{index}", security_group_id=target, ip_protocol="tcp",
                                         from_port=HTTPS_PORT, to_port=HTTPS_PORT,
                                         referenced_security_group_id=group.id,
                                         description=f"Private API from GitHub Actions runner {self.project_name}",
                                         tags=self._tagged(f"{name}-api-{index}"), opts=self._child())

        role = self._role(args, log_group, group)
        project = codebuild.Project(
            f"{name}-project",
            name=self.project_name,
            description=f"GitHub Actions runner for {args.repository} in the private subnets",
            service_role=role.arn,
            source=codebuild.ProjectSourceArgs(
                type="GITHUB", location=f"https://github.com/{args.repository}.git",
                auth=codebuild.ProjectSourceAuthArgs(type="CODECONNECTIONS", resource=args.github_connection_arn)),
            artifacts=codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER", compute_type=args.compute_type, image=args.image,
                image_pull_credentials_type="CODEBUILD", privileged_mode=False),
            vpc_config=codebuild.ProjectVpcConfigArgs(vpc_id=args.vpc_id, subnets=args.private_subnet_ids,
                                                      security_group_ids=[group.id]),
            logs_config=codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=codebuild.ProjectLogsConfigCloudwatchLogsArgs(group_name=log_group.name,
                                                                              status="ENABLED"),
                s3_logs=codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED")),
            build_timeout=args.build_timeout_minutes,
            encryption_key=args.kms_key_arn,
            project_visibility="PRIVATE",
            tags=self._tagged(f"{name}-project"),
            opts=self._child(depends_on=[role]),
        )
        # Only "a job was queued" events start a runner; the job's labels pick the project.
        codebuild.Webhook(f"{name}-webhook", project_name=project.name, build_type="BUILD",
                          filter_groups=[codebuild.WebhookFilterGroupArgs(filters=[
                              codebuild.WebhookFilterGroupFilterArgs(type="EVENT", pattern="WORKFLOW_JOB_QUEUED")])],
                          opts=self._child())

        self.role_arn = role.arn
        self.security_group_id = group.id
        self.register_outputs({"project_name": project.name, "role_arn": self.role_arn,
                               "security_group_id": self.security_group_id})

    def _tagged(self, name: str) -> dict[str, str]:
        return child_tags(name, self._tags)

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _role(self, args: GithubActionsRunnerArgs, log_group: cloudwatch.LogGroup,
              group: ec2.SecurityGroup) -> iam.Role:
        here = account_of(self)
        account, region, partition = here.account_id, here.region, here.partition
        project_arn = f"arn:{partition}:codebuild:{region}:{account}:project/{self.project_name}"
        role = iam.Role(f"{self._name}-role", assume_role_policy=pulumi.Output.json_dumps(
            runner_trust_policy(account, project_arn)), tags=self._tagged(f"{self._name}-role"), opts=self._child())
        policy = pulumi.Output.all(log_group.arn, group.id, args.private_subnet_ids).apply(
            lambda values: runner_policy(partition, region, account, values[0], values[1], values[2],
                                         args.github_connection_arn, args.kms_key_arn))
        iam.RolePolicy(f"{self._name}-role", role=role.id, policy=policy.apply(pulumi.Output.json_dumps),
                       opts=self._child())
        return role


def runner_trust_policy(account: str, project_arn: str) -> dict:
    """CodeBuild may assume the role only for this account's project (confused-deputy guard)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": project_arn}},
    }]}


def runner_policy(partition: str, region: str, account: str, log_group_arn: str, security_group_id: str,
                  subnet_ids: list[str], connection_arn: str, kms_key_arn: str | None) -> dict:
    """Logs, the VPC network interfaces CodeBuild documents for VPC builds (narrowed to the runner's own
    subnets and security group), and the GitHub connection."""
    ec2_arn = f"arn:{partition}:ec2:{region}:{account}"
    subnets = [f"{ec2_arn}:subnet/{subnet}" for subnet in subnet_ids]
    statements = [
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:*"},
        # The calls CodeBuild documents for VPC builds ("Allow CodeBuild access to AWS services required to
        # create a VPC network interface"); Describe calls support no resource-level scoping.
        {"Sid": "DescribeNetwork", "Effect": "Allow",
         "Action": ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"], "Resource": "*"},
        {"Sid": "OwnNetworkInterfaces", "Effect": "Allow", "Action": "ec2:CreateNetworkInterface",
         "Resource": [f"{ec2_arn}:network-interface/*", f"{ec2_arn}:security-group/{security_group_id}", *subnets]},
        {"Sid": "DeleteNetworkInterfaces", "Effect": "Allow", "Action": "ec2:DeleteNetworkInterface",
         "Resource": f"{ec2_arn}:network-interface/*"},
        {"Sid": "AttachInOwnSubnets", "Effect": "Allow", "Action": "ec2:CreateNetworkInterfacePermission",
         "Resource": f"{ec2_arn}:network-interface/*",
         "Condition": {"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                       "ArnEquals": {"ec2:Subnet": subnets}}},
        {"Sid": "GithubConnection", "Effect": "Allow",
         "Action": ["codeconnections:GetConnectionToken", "codeconnections:GetConnection",
                    "codestar-connections:GetConnectionToken", "codestar-connections:GetConnection"],
         "Resource": connection_arn},
    ]
    if kms_key_arn:
        statements.append({"Sid": "EncryptLogs", "Effect": "Allow",
                           "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": kms_key_arn})
    return {"Version": "2012-10-17", "Statement": statements}


def _validate(name: str, args: GithubActionsRunnerArgs) -> None:
    project_name = args.project_name or name
    if not _PROJECT_NAME.match(project_name):
        raise ValueError(f"project_name={project_name!r} is not a CodeBuild project name: use 2 to 150 letters, "
                         "digits, '-' and '_', starting with a letter or digit.")
    check_repository(args.repository)
    if not _CONNECTION_ARN.match(args.github_connection_arn):
        raise ValueError(f"github_connection_arn={args.github_connection_arn!r} is not a CodeConnections "
                         "connection ARN: create one for GitHub in the console and use "
                         "arn:aws:codeconnections:<region>:<account>:connection/<id>.")
    if len(args.private_subnet_ids) < 1:
        raise ValueError("private_subnet_ids is empty: the runner must run in the VPC's private subnets.")
    if args.compute_type not in COMPUTE_TYPES:
        raise ValueError(f"compute_type={args.compute_type!r}: use one of {list(COMPUTE_TYPES)}.")
    check_range("build_timeout_minutes", args.build_timeout_minutes, 5, 2160, " minutes")
    check_log_retention("log_retention_days", args.log_retention_days)
