"""keras_rnninit: initialization, diagnostics and export for vanilla RNNs.

The package root is lazy (PEP 562): `import keras_rnninit` imports neither
Keras nor TensorFlow, so the command line's `--help` and `--version` are
fast. Our classes are registered with Keras as soon as Keras is imported (or
is already), so `.keras` files that use them load without `custom_objects`
after `import keras_rnninit`; see `keras_rnninit/_registration.py`.
Modules that moved in 0.2 keep their 0.1 paths with a warning
(`keras_rnninit/_moved.py`).
"""

import importlib

from keras_rnninit import _moved, _registration
from keras_rnninit.version import __version__

# Public name -> the module that defines it.
_ATTRIBUTES = {
    "ChronoBias": "keras_rnninit.initializers",
    "FastSimpleRNN": "keras_rnninit.layers",
    "HeRNN": "keras_rnninit.initializers",
    "NpRNN": "keras_rnninit.initializers",
    "ScaledIdentity": "keras_rnninit.initializers",
    "ScaledOrthogonal": "keras_rnninit.initializers",
    "SeededInitializer": "keras_rnninit.initializers",
    "SpectralRadius": "keras_rnninit.initializers",
    "Uniform01": "keras_rnninit.initializers",
    "UniformDiagonal": "keras_rnninit.initializers",
    "XavierGRUCell": "keras_rnninit.layers",
    "XavierLSTMCell": "keras_rnninit.layers",
    "XavierRNN": "keras_rnninit.initializers",
    "XavierRNNCell": "keras_rnninit.layers",
    "calculate_gain": "keras_rnninit.initializers",
}
_SUBMODULES = {
    "cli",
    "compare",
    "diagnostics",
    "export",
    "initializers",
    "layers",
    "schemes",
    "tasks",
    "utils",
}

__all__ = [
    "ChronoBias",
    "FastSimpleRNN",
    "HeRNN",
    "NpRNN",
    "ScaledIdentity",
    "ScaledOrthogonal",
    "SeededInitializer",
    "SpectralRadius",
    "Uniform01",
    "UniformDiagonal",
    "XavierGRUCell",
    "XavierLSTMCell",
    "XavierRNN",
    "XavierRNNCell",
    "__version__",
    "calculate_gain",
    "schemes",
]


def __getattr__(name):
    if name in _ATTRIBUTES:
        _registration.register()
        value = getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    elif f"keras_rnninit.{name}" in _moved.MOVED:
        value = importlib.import_module(f"keras_rnninit.{name}")  # warns
    elif name in _SUBMODULES:
        # No register() here: a submodule that needs Keras imports it, and
        # the import hook registers then; `keras_rnninit.schemes.recommend`
        # needs no Keras at all.
        value = importlib.import_module(f"keras_rnninit.{name}")
    else:
        raise AttributeError(f"module 'keras_rnninit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_ATTRIBUTES, *_SUBMODULES})


_registration.install()
_moved.install()
