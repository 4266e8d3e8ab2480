"""The alias URNs the engine derives for a registration, so the offline plan knows which old URNs a resource
answers to (a renamed component with ``aliases=[Alias(name=old)]`` is the same resource, not a replacement).

Mirrors the engine's ``stepGenerator.generateAliases`` (pkg/resource/deploy/step_generator.go): each alias spec
collapsed to a URN (unset fields default to the resource's own, ``noParent`` drops the parent), then every
alias of the parent multiplied out to its children (a child named ``<parent>-x`` follows its parent's old
name); the Python SDK computes the same itself for engines without alias specs (``all_aliases`` in
pulumi/runtime/resource.py, pulumi 3.272).

The URNs are built the way the mock monitor builds the ones the plan records (``MockMonitor.make_urn`` in
pulumi/runtime/mocks.py: the parent's own type, not its whole chain as the engine does), so an alias compares
equal to the URN the plan recorded under the old name.
"""


def create_urn(name: str, type_token: str, parent: str, project: str, stack: str) -> str:
    """``MockMonitor.make_urn``: the parent's type, ``$``, the type, ``::``, the name."""
    if parent:
        type_token = f"{qualified_type(parent).split('$')[-1]}${type_token}"
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


def qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


def urn_type(urn: str) -> str:
    return qualified_type(urn).split("$")[-1]


def inherited_child_alias(child_type: str, child_name: str, parent_name: str, parent_alias: str) -> str:
    name = urn_name(parent_alias) + child_name[len(parent_name):] if child_name.startswith(parent_name) else child_name
    stack, project = parent_alias.split("::")[0].removeprefix("urn:pulumi:"), parent_alias.split("::")[1]
    return create_urn(name, child_type, parent_alias, project, stack)


def alias_urns(request, urn: str, parent_aliases: list[str]) -> list[str]:
    """Every URN the resource of ``request`` (a RegisterResourceRequest registered as ``urn``) answers to."""
    stack, project = urn.split("::")[0].removeprefix("urn:pulumi:"), urn.split("::")[1]
    own = []
    for alias in request.aliases:
        if alias.WhichOneof("alias") == "urn":
            own.append(alias.urn)
            continue
        spec = alias.spec
        parent = "" if spec.noParent else spec.parentUrn or request.parent
        own.append(create_urn(spec.name or request.name, spec.type or request.type, parent,
                              spec.project or project, spec.stack or stack))
    found = list(own)
    if request.parent:
        parent_name = urn_name(request.parent)
        for parent_alias in parent_aliases:
            found.append(inherited_child_alias(request.type, request.name, parent_name, parent_alias))
            found += [inherited_child_alias(urn_type(child), urn_name(child), parent_name, parent_alias)
                      for child in own]
    return list(dict.fromkeys(alias for alias in found if alias != urn))
