"""Sub-commands of genai-infra; each module has ``register(subparsers)``."""
