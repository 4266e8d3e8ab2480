"""Packaging: everything installs under one namespace, ``genai_platform``, so nothing clashes with the
``components``, ``stacks`` or ``policies`` packages of the project that installs it.

The library, the program and the pack keep their top-level folders here (the design card's layout);
``package_dir`` maps each to its sub-package: ``components/aws`` installs as ``genai_platform.components.aws``.
Everything else is declared in pyproject.toml.
"""

import shutil

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

FOLDERS = ("components", "stacks", "policies")
"""Top-level folders installed as ``genai_platform.<folder>``."""

# Namespace discovery: data folders without an __init__.py (alert rules, dashboards) are packages too, so
# their files install as package data.
PACKAGES = [package for package in find_namespace_packages(include=["genai_platform", "genai_platform.*", *FOLDERS,
                                                                     *(f"{folder}.*" for folder in FOLDERS)])
            if "__pycache__" not in package]


class FreshBuildPy(build_py):
    """Builds the wheel's tree into an empty ``build/lib``.

    setuptools copies into ``build/lib`` and never removes what an earlier build left there, and the wheel ships
    all of it (pypa/setuptools#1871, open): a checkout built before the namespace move would still ship top-level
    ``components``, ``stacks`` and ``policies`` packages. An editable install builds elsewhere and keeps nothing,
    so it is left alone."""

    def run(self) -> None:
        if not self.editable_mode:
            shutil.rmtree(self.build_lib, ignore_errors=True)
        super().run()


setup(
    cmdclass={"build_py": FreshBuildPy},
    package_dir={"genai_platform": "genai_platform", **{f"genai_platform.{folder}": folder for folder in FOLDERS}},
    packages=[package if package.startswith("genai_platform") else f"genai_platform.{package}" for package in PACKAGES],
)
