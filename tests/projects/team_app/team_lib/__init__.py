"""The data team's own helpers: how its stacks name and tag what they create."""

from team_lib.tagging import team_tags

__all__ = ["team_tags"]
