"""keras_rnninit: initialization, diagnostics and export for vanilla RNNs.

Importing the package registers every initializer and the cell with Keras,
so `.keras` files that use them load without `custom_objects`.
"""

from keras_rnninit import schemes
from keras_rnninit.cells import XavierGRUCell, XavierLSTMCell, XavierRNNCell
from keras_rnninit.initializers import (
    ChronoBias,
    HeRNN,
    ScaledIdentity,
    ScaledOrthogonal,
    SeededInitializer,
    SpectralRadius,
    Uniform01,
    XavierRNN,
    calculate_gain,
)
from keras_rnninit.layers import FastSimpleRNN
from keras_rnninit.version import __version__

__all__ = [
    "ChronoBias",
    "FastSimpleRNN",
    "HeRNN",
    "ScaledIdentity",
    "ScaledOrthogonal",
    "SeededInitializer",
    "SpectralRadius",
    "Uniform01",
    "XavierGRUCell",
    "XavierLSTMCell",
    "XavierRNN",
    "XavierRNNCell",
    "__version__",
    "calculate_gain",
    "schemes",
]
