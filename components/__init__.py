"""genai-platform components: reusable Pulumi components for an ML/GenAI platform.

Import from the cloud sub-packages, e.g. ``from genai_platform.components.aws import Vpc, VpcArgs``.
"""
