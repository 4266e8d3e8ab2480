"""The component packages export their names lazily: a program pays only for the components it imports."""

import importlib
import json
import subprocess
import sys

import pytest

PACKAGES = ("genai_platform.components.aws", "genai_platform.components.gcp", "genai_platform.components.k8s")

PROBE = """
import json, sys
def loaded():  # pulumi_aws registers every service module lazily; a used one has imported its _inputs
    return sorted([m for m in ("pulumi_gcp", "pulumi_kubernetes") if m in sys.modules]
                  + [s for s in ("sqs", "kms", "eks", "ecs", "rds", "elasticache") if f"pulumi_aws.{s}._inputs" in sys.modules])
import genai_platform.components.aws, genai_platform.components.gcp, genai_platform.components.k8s
after_packages = loaded()
from genai_platform.components.aws import QueueWithDlq
print(json.dumps({"after_packages": after_packages, "after_queue": loaded()}))
"""


@pytest.mark.end_to_end
def test_importing_a_package_imports_no_sdk_and_one_component_only_what_it_uses():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout) == {"after_packages": [], "after_queue": ["kms", "sqs"]}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_is_the_object_its_module_defines(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert value is getattr(importlib.import_module(f"{package}.{module._EXPORTS[name]}"), name)
        assert getattr(value, "__module__", f"{package}.{module._EXPORTS[name]}").startswith(package)
    assert set(module.__all__) <= set(dir(module))


def test_a_name_no_package_exports_is_an_attribute_and_import_error():
    import genai_platform.components.aws as aws

    with pytest.raises(AttributeError, match="module 'genai_platform.components.aws' has no attribute 'Vcp'"):
        aws.Vcp  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'Vcp'"):
        exec("from genai_platform.components.aws import Vcp")
