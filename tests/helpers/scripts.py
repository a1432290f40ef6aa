"""The repo's scripts (``pyscripts/*.py``, ``local/*.py``) as modules, so that tests call their ``main(argv)`` in
process. The scripts are not in a package: each is loaded from its file, without putting its folder on sys.path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def load_script(relpath: str) -> ModuleType:
    """The script at ``relpath`` (relative to the checkout, e.g. ``local/make_voxceleb.py``), loaded once per test
    session as the module ``script_<folder>_<name>``."""
    name = "script_" + relpath.removesuffix(".py").replace("/", "_")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / relpath)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import would: dataclasses and pickle look the module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
