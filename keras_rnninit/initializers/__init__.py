"""Registered Keras initializers for the weights of vanilla and gated RNNs.

Every class is registered under the package name ``keras_rnninit``, so a
``.keras`` file that uses them loads without ``custom_objects`` once
``keras_rnninit`` is imported. Each is also known to Keras by its class
name and its snake_case name (`kernel_initializer="xavier_rnn"`); see
`keras_rnninit.initializers.names`.
"""

from keras_rnninit.initializers.base import SeededInitializer
from keras_rnninit.initializers.chrono import ChronoBias
from keras_rnninit.initializers.diagonal import UniformDiagonal
from keras_rnninit.initializers.gain import calculate_gain
from keras_rnninit.initializers.gaussian import HeRNN, XavierRNN
from keras_rnninit.initializers.names import register_names
from keras_rnninit.initializers.np_rnn import NpRNN
from keras_rnninit.initializers.orthogonal import ScaledIdentity, ScaledOrthogonal
from keras_rnninit.initializers.spectral import SpectralRadius
from keras_rnninit.initializers.uniform import Uniform01

__all__ = [
    "ChronoBias",
    "HeRNN",
    "NpRNN",
    "ScaledIdentity",
    "ScaledOrthogonal",
    "SeededInitializer",
    "SpectralRadius",
    "Uniform01",
    "UniformDiagonal",
    "XavierRNN",
    "calculate_gain",
]

# Last, after every initializer module above is imported.
register_names()
