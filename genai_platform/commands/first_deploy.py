"""``genai-infra first-deploy <env>``: the script that brings a new environment up without ever opening its
EKS API endpoint to the internet.

The deploy workflow runs on the environment's in-VPC runner, which does not exist before the first deploy.
So the first deploy has two phases:

1. from an administrator's shell (anywhere): ``pulumi up --target`` of the runner, the whole network (its
   way out to GitHub is the NAT and the routes, which nothing else depends on) and whatever those depend on
   (the EKS control plane whose security group the runner is let into, parents). None of these needs the
   Kubernetes API: creating a control plane is an AWS API call; the endpoint stays private;
2. from GitHub: re-run the deploy workflow (or push to ``main``): the job runs on the new runner inside the
   VPC and creates everything else, Helm releases and Kubernetes objects included.

The targets come from the offline plan of the same program, so they follow the code; the command refuses
when a target would need the API, when the stack opens the endpoint, when the runner is not configured, or
when the deploy role cannot administer the cluster (it reaches the API through an EKS access entry).
"""

import argparse
import shlex
import sys
from pathlib import Path

from genai_platform import planning
from genai_platform.commands import SUMMARIES
from genai_platform.mockcloud import Plan, RecordedResource
from genai_platform.stacks.config import ConfigError, EnvConfig

EXIT_REFUSED = 2
RUNNER_TYPE = "genai:aws:GithubActionsRunner"
NETWORK_TYPE = "genai:aws:Vpc"
_STACK_ROOT = "pulumi:pulumi:Stack"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("first-deploy", help=SUMMARIES["first-deploy"],
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", metavar="ENV", help="stack name (stacks/Pulumi.<ENV>.yaml)")
    parser.add_argument("--deploy-role-arn", required=True,
                        help="the environment's deploy role (ci stack output githubEnvironmentVariables)")
    parser.add_argument("--project-dir", type=Path, default=None, help="checkout holding Pulumi.yaml (default: cwd)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        root = args.project_dir.resolve() if args.project_dir else planning.project_dir()
        settings = planning.stack_settings(args.stack, root)
        _check_settings(settings, args.deploy_role_arn)
        plan = planning.plan_stack(args.stack, root)
        targets = bootstrap_targets(plan)
    except (ConfigError, ValueError) as error:
        print(f"error: {args.stack}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print(script(args.stack, targets))
    return 0


def _check_settings(settings: EnvConfig, deploy_role_arn: str) -> None:
    stack = settings.stack
    if settings.eks_public_access_cidrs:
        raise ConfigError(f"eksPublicAccessCidrs={settings.eks_public_access_cidrs} opens the EKS API endpoint: "
                          "the first deploy never does; remove it (pulumi config rm genai-platform:eksPublicAccessCidrs).")
    if not (settings.ci_github_connection_arn and settings.ci_github_repository):
        raise ConfigError("the in-VPC runner is not configured: set genai-platform:ciGithubRepository (owner/name) "
                          "and genai-platform:ciGithubConnectionArn (a CodeConnections connection to GitHub, created "
                          "and authorised once in the console).")
    if deploy_role_arn not in settings.eks_admin_role_arns:
        raise ConfigError(f"eksAdminRoleArns does not contain {deploy_role_arn}: the deploy job reaches the cluster "
                          f"through that role's access entry; run pulumi config set --path "
                          f"'genai-platform:eksAdminRoleArns[0]' {deploy_role_arn} -s {stack}.")


def engine_urn(plan: Plan, resource: RecordedResource) -> str:
    """The URN the engine gives ``resource``: its type qualified by every ancestor's type but the stack's.

    Pulumi's mocks qualify a type by the direct parent only, so recorded URNs cannot be used as targets."""
    by_urn = {r.urn: r for r in plan.resources}
    types, current = [resource.type], resource
    while current.parent in by_urn and by_urn[current.parent].type != _STACK_ROOT:
        current = by_urn[current.parent]
        types.append(current.type)
    return f"urn:pulumi:{plan.stack}::{plan.project}::{'$'.join(reversed(types))}::{resource.name}"


def bootstrap_targets(plan: Plan) -> list[str]:
    """Engine URNs of the runner and the network with their children, everything those depend on, and the
    parents of each.

    A remote component (the pulumi-eks cluster) registers its children inside the provider, invisible
    offline: it is targeted with a ``$**`` wildcard over them."""
    by_urn = {r.urn: r for r in plan.resources}
    runners = plan.of_type(RUNNER_TYPE)
    if len(runners) != 1:
        raise ValueError(f"the plan has {len(runners)} {RUNNER_TYPE}: configure exactly one runner.")
    roots = [runners[0].urn, *(network.urn for network in plan.of_type(NETWORK_TYPE))]
    pending = [r.urn for r in plan.resources if any(_within(by_urn, r, root) for root in roots)]
    chosen: set[str] = set()
    while pending:
        urn = pending.pop()
        if urn in chosen or urn not in by_urn or by_urn[urn].type == _STACK_ROOT:
            continue
        chosen.add(urn)
        resource = by_urn[urn]
        pending.extend(resource.dependencies)
        if resource.parent:
            pending.append(resource.parent)
    needs_api = sorted(urn for urn in chosen if by_urn[urn].type.startswith("kubernetes:"))
    if needs_api:
        raise ValueError(f"the runner depends on Kubernetes objects, which need the private API: {needs_api}.")
    targets = []
    for urn in sorted(chosen):
        target = engine_urn(plan, by_urn[urn])
        targets.append(target)
        if by_urn[urn].remote:
            targets.append(target.rsplit("::", 1)[0] + "$**")
    return targets


def _within(by_urn: dict[str, RecordedResource], resource: RecordedResource, ancestor: str) -> bool:
    current: RecordedResource | None = resource
    while current is not None:
        if current.urn == ancestor:
            return True
        current = by_urn.get(current.parent) if current.parent else None
    return False


def script(stack: str, targets: list[str]) -> str:
    from genai_platform.stacks.services.platform import Platform  # loads the provider SDKs: only when a script is written

    target_args = " \\\n  ".join(f"--target {shlex.quote(target)}" for target in targets)
    runner = Platform.runner_name(stack)
    return f"""#!/usr/bin/env bash
# First deploy of {stack}: phase 1 creates the in-VPC runner ({runner}) and what it needs; the EKS API
# endpoint stays private. Run with administrator credentials for the account, after `pulumi login`.
set -euo pipefail
pulumi up --stack {shlex.quote(stack)} --yes --non-interactive \\
  --policy-pack policies --policy-pack-config {shlex.quote(f"policies/config.{stack}.json")} \\
  {target_args}
# Phase 2, from GitHub, inside the VPC: push to main (dev) or the release tag (staging, prod), or re-run the
# last deploy run; the deploy job now runs on codebuild-{runner}-* and creates everything else.
"""
