"""What the AWS and GCP CI identities share: GitHub's OIDC issuer, the subjects they trust, the checks."""

import re
from collections.abc import Sequence

GITHUB_ISSUER = "token.actions.githubusercontent.com"
"""Issuer of GitHub Actions OIDC tokens (``iss`` is ``https://`` + this)."""

_REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


def environment_subject(repository: str, environment: str) -> str:
    """``sub`` of a job that runs in GitHub environment ``environment`` of ``repository``."""
    return f"repo:{repository}:environment:{environment}"


def pull_request_subject(repository: str) -> str:
    """``sub`` of a job triggered by a pull request of ``repository`` (forks get no token)."""
    return f"repo:{repository}:pull_request"


def check_repository(repository: str) -> None:
    if not _REPOSITORY.match(repository):
        raise ValueError(f"repository={repository!r} is not a GitHub repository: use 'owner/name'.")


def check_environments(environments: Sequence[str]) -> None:
    if not environments:
        raise ValueError("environments is empty: name the environments this account deploys, e.g. ['dev'].")
    for env in environments:
        if not _ENVIRONMENT.match(env):
            raise ValueError(f"environments contains {env!r}: use lower-case names of up to 20 letters, digits "
                             "and '-', as the stacks and GitHub environments are named.")
    if len(set(environments)) != len(environments):
        raise ValueError(f"environments={list(environments)} names an environment twice: list each once.")
