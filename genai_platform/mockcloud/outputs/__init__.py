"""Computed outputs and invoke answers, one module per area; every module here is loaded.

Add a module (or an entry) when a component reads an output the generic answer lacks:
decorate a function with ``@computes("<type token>")`` or ``@answers("<function token>")``.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
