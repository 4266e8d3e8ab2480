"""One ECR repository per service image, and the pinned image reference each workload runs."""

import pulumi

from components.aws import ContainerRepository, ContainerRepositoryArgs
from stacks.config import EnvConfig


class ServiceImages:
    """The ECR repositories of one service (``<env>/<service>-<image>``), created under ``parent``."""

    def __init__(self, prefix: str, images: list[str], settings: EnvConfig, tags: dict[str, str],
                 parent: pulumi.Resource):
        env, service = prefix.split("-", 1)
        self._tag = settings.release_tag
        self._repositories = {
            image: ContainerRepository(f"{prefix}-{image}", ContainerRepositoryArgs(
                repository_name=f"{env}/{service}-{image}", protect=settings.protect_stateful, tags=tags,
            ), pulumi.ResourceOptions(parent=parent))
            for image in images
        }

    def image(self, name: str) -> pulumi.Output[str]:
        """``<repository url>:<release tag>`` of one image: every workload runs the reviewed release."""
        return self._repositories[name].image(self._tag)
