"""Tags every resource of the data team carries (its cost-allocation and ownership tags)."""


def team_tags(stack: str, owner: str) -> dict[str, str]:
    return {"Environment": stack, "Team": "data", "Owner": owner}
