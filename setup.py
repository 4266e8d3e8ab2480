"""Packaging: everything installs under one namespace, ``genai_platform``, so nothing clashes with the
``components``, ``stacks`` or ``policies`` packages of the project that installs it.

The library, the program and the pack keep their top-level folders here (the design card's layout);
``package_dir`` maps each to its sub-package: ``components/aws`` installs as ``genai_platform.components.aws``.
Everything else is declared in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

FOLDERS = ("components", "stacks", "policies")
"""Top-level folders installed as ``genai_platform.<folder>``."""

# Namespace discovery: data folders without an __init__.py (alert rules, dashboards) are packages too, so
# their files install as package data.
PACKAGES = [package for package in find_namespace_packages(include=["genai_platform", "genai_platform.*", *FOLDERS,
                                                                     *(f"{folder}.*" for folder in FOLDERS)])
            if "__pycache__" not in package]

setup(
    package_dir={"genai_platform": "genai_platform", **{f"genai_platform.{folder}": folder for folder in FOLDERS}},
    packages=[package if package.startswith("genai_platform") else f"genai_platform.{package}" for package in PACKAGES],
)
