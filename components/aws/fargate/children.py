"""Naming, tagging and parenting of the children of a
:class:`~genai_platform.components.aws.fargate.service.FargateAlbService`, shared by the modules that create them.

The helpers live in several modules but must create the resources the component would create itself:
a child's logical name and parent are part of its URN, and a changed URN makes Pulumi replace it.
"""

from dataclasses import dataclass

import pulumi

from genai_platform.components.tagging import child_tags


@dataclass(frozen=True)
class Children:
    """Where the children of one service go: under ``parent``, named ``<prefix>-<suffix>``."""

    parent: pulumi.Resource
    """The component; every child is parented to it."""

    prefix: str
    """The component's name, the first part of every child name."""

    tags: dict[str, str]
    """The caller's extra tags (``FargateAlbServiceArgs.tags``)."""

    def name(self, suffix: str) -> str:
        """Logical name of the child ``suffix``: ``<prefix>-<suffix>``."""
        return f"{self.prefix}-{suffix}"

    def tagged(self, name: str) -> dict[str, str]:
        """Tags of the child named ``name``."""
        return child_tags(name, self.tags)

    def opts(self, **kwargs) -> pulumi.ResourceOptions:
        """Resource options parenting a child to the component, plus ``kwargs``."""
        return pulumi.ResourceOptions(parent=self.parent, **kwargs)
