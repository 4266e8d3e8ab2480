"""One ECR repository per service image, and the pinned image reference each workload runs."""

import pulumi
from pulumi_aws import ecr

from genai_platform.components.aws import ContainerRepository, ContainerRepositoryArgs
from genai_platform.stacks.config import EnvConfig


class ServiceImages:
    """The ECR repositories of one service (``<env>/<service>-<image>``), created under ``parent``."""

    def __init__(self, prefix: str, images: list[str], settings: EnvConfig, tags: dict[str, str],
                 parent: pulumi.Resource):
        env, service = prefix.split("-", 1)
        self._tag, self._by_digest, self._parent = settings.release_tag, settings.deploy_by_digest, parent
        self._repositories = {
            image: ContainerRepository(f"{prefix}-{image}", ContainerRepositoryArgs(
                repository_name=f"{env}/{service}-{image}", protect=settings.protect_stateful, tags=tags,
            ), pulumi.ResourceOptions(parent=parent))
            for image in images
        }

    def image(self, name: str) -> pulumi.Output[str]:
        """``<repository url>:<release tag>`` of one image: every workload runs the reviewed release."""
        return self._repositories[name].image(self._tag)

    def digest(self, name: str) -> pulumi.Output[str] | None:
        """With ``deployByDigest``, the digest ECR holds for the release tag of one image (looked up at deploy
        time, so the tag must have been pushed); otherwise None and the workload runs the tag."""
        if not self._by_digest:
            return None
        return ecr.get_image_output(repository_name=self._repositories[name].repository_name, image_tag=self._tag,
                                    opts=pulumi.InvokeOptions(parent=self._parent)).image_digest
