"""The config keys the program's providers read (``aws:region``, ``gcp:project``...), and their types.

Read from the installed provider SDKs (``pulumi_<provider>/config/vars.py``, generated from each provider's
schema), so a provider upgrade that adds or renames a key is picked up without an edit here. Only the source
text is read: importing the SDK's config module is not needed to know its keys.
"""

import importlib.util
import re
from functools import cache
from pathlib import Path

PROVIDERS = ("aws", "gcp")
"""Providers whose default instance the program configures from the stack file."""

ENGINE_NAMESPACE = "pulumi"
"""Keys such as ``pulumi:tags`` and ``pulumi:disable-default-providers`` belong to the engine itself."""

_READ = re.compile(r"__config__\.(get|get_bool|get_int|get_float|get_object)\('([A-Za-z0-9_]+)'\)")
_KIND = {"get": "string", "get_bool": "boolean", "get_int": "integer", "get_float": "number",
         "get_object": "object"}


@cache
def provider_keys(provider: str) -> dict[str, str]:
    """``{key: kind}`` for one provider; kind is string, boolean, integer, number or object.

    A ``string`` key may hold a YAML object too (``aws:defaultTags``): the engine passes it as JSON text.
    """
    spec = importlib.util.find_spec(f"pulumi_{provider}")
    if spec is None or spec.origin is None:
        return {}
    source = Path(spec.origin).with_name("config") / "vars.py"
    return {name: _KIND[method] for method, name in _READ.findall(source.read_text())}


@cache
def aws_regions() -> tuple[str, ...]:
    """Every region the AWS provider accepts (its ``Region`` enum)."""
    from pulumi_aws import Region  # the package is lazy: this loads its enums, not its resource modules

    return tuple(region.value for region in Region)
