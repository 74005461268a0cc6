"""The 0.1 import paths of modules that moved in 0.2, kept for one minor
version (CHANGELOG.md's policy): importing an old path warns
(`DeprecationWarning`, naming the new one) and gives the new module itself,
so `from keras_rnninit.cells import XavierRNNCell` and
`import keras_rnninit.callbacks` keep working, with the same objects.
"""

import importlib
import importlib.abc
import importlib.util
import os
import sys
import warnings

__all__ = ["MOVED", "install"]

# Old path -> new path (0.1 -> 0.2); they go in 0.3.
MOVED = {
    "keras_rnninit.activations": "keras_rnninit.utils.activations",
    "keras_rnninit.callbacks": "keras_rnninit.diagnostics.callbacks",
    "keras_rnninit.cells": "keras_rnninit.layers.cells",
    "keras_rnninit.commands": "keras_rnninit.cli.commands",
    "keras_rnninit.demo": "keras_rnninit.cli.demo",
    "keras_rnninit.guidance": "keras_rnninit.schemes.guidance",
    "keras_rnninit.recurrence": "keras_rnninit.layers.recurrence",
    "keras_rnninit.recurrence_jax": "keras_rnninit.layers.recurrence.jax",
    "keras_rnninit.reinitialize": "keras_rnninit.schemes.redraw",
    "keras_rnninit.summaries": "keras_rnninit.diagnostics.summaries",
    "keras_rnninit.validation": "keras_rnninit.utils.validation",
}


def warn(old):
    """Warn that `old` moved, pointing at the first frame outside the import
    machinery, this module and the package root (the user's import line)."""
    ours = {
        __file__,
        os.path.join(os.path.dirname(__file__), "__init__.py"),
        importlib.__file__,  # import_module, from the root's `__getattr__`
    }
    # warnings counts frames from this one and skips the import machinery's.
    depth, frame = 1, sys._getframe(1)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen")
        or frame.f_code.co_filename in ours
    ):
        depth += not frame.f_code.co_filename.startswith("<frozen")
        frame = frame.f_back
    warnings.warn(
        f"`{old}` moved to `{MOVED[old]}`; the old path goes in 0.3.",
        DeprecationWarning,
        stacklevel=depth + 1,
    )


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path and loads it as the new module (no second copy)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        warn(spec.name)
        module = importlib.import_module(MOVED[spec.name])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):
        # The import system gave the module the alias' spec: give its own back.
        module.__spec__ = module.__spec__.loader_state


_ALIAS = _Alias()


def install():
    """Put the old paths in front of every other finder (idempotent)."""
    if _ALIAS not in sys.meta_path:
        sys.meta_path.insert(0, _ALIAS)
