"""genai-infra: the command-line tool of genai-platform (offline plan, bootstrap, verify).

Imports go one way: this package uses ``stacks``, ``components`` and ``policies``; they never import it.
"""
