"""genai-platform under one namespace, so nothing clashes with the packages of a project that installs it.

``genai_platform.components`` (the library), ``genai_platform.stacks`` (this platform's program) and
``genai_platform.policies`` (the CrossGuard rules) install from the repository's top-level folders (setup.py).
The modules here are the command-line tool ``genai-infra`` (offline plan, diff, cost model, bootstrap, verify);
imports go one way: the tool uses the program, the pack and the library, which never import it. This file
stays empty of imports: importing ``genai_platform.components`` runs it.
"""
