"""Register our Keras classes as soon as Keras exists, without importing it.

`import keras_rnninit` must stay fast (the command line's `--help` and
`--version` import it), yet a `.keras` file that names our classes must load
after it, however the user imports things. So:

- if Keras is already imported, `register()` runs at once;
- otherwise a meta-path hook watches the imports of `keras` and of our own
  submodules, and runs `register()` once Keras is loaded and none of our
  modules is half-imported (registering in the middle of, say,
  `keras_rnninit.initializers` importing Keras would import `cells` while
  the initializers it needs do not exist yet);
- the package's lazy attributes (`keras_rnninit.XavierRNN`, ...) register too.
"""

import importlib
import importlib.abc
import sys

# Importing these registers every class with Keras (decorators at import).
MODULES = ("keras_rnninit.initializers", "keras_rnninit.layers")


def register():
    """Import the modules that register our classes, then add the short names."""
    for name in MODULES:
        importlib.import_module(name)
    from keras_rnninit.initializers.names import register_names

    register_names()  # again: covers initializers registered after the first call


class _Watched(importlib.abc.Loader):
    """The module's own loader; afterwards, register if the time has come."""

    def __init__(self, hook, loader):
        self.hook, self.loader = hook, loader

    def __getattr__(self, name):  # get_code, get_data, ...: runpy, resources
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        self.hook.depth += 1
        try:
            self.loader.exec_module(module)
        finally:
            self.hook.depth -= 1
        self.hook.maybe_register()


class _Hook(importlib.abc.MetaPathFinder):
    depth = 0  # how many of the watched modules are executing right now

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras" and not fullname.startswith("keras_rnninit."):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Watched(self, spec.loader)
                return spec
        return None

    def maybe_register(self):
        if self.depth == 0 and "keras" in sys.modules and self in sys.meta_path:
            sys.meta_path.remove(self)
            register()


_HOOK = _Hook()


def install():
    """Register now if Keras is loaded, else as soon as it is."""
    if "keras" in sys.modules:
        register()
    elif _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)
