"""AWS components. ``from components.aws import Vpc, VpcArgs``."""

from components.aws.vpc import Vpc, VpcArgs

__all__ = ["Vpc", "VpcArgs"]
