"""The initializer tests' shared pieces: the gated layers and their gate
counts, a kernel split into its gate blocks, and a subclassed model that
builds its layer the way Keras builds one inside `call`."""

import keras
import numpy as np

N = 256  # every statistical check draws at least N x N = 65536 samples
GATES = {"lstm": 4, "gru": 3}
LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def blocks(w, gates):
    """`w`'s last axis split into its `gates` gate blocks, in Keras' order."""
    return np.split(w, gates, axis=-1)


class Wrapping(keras.Model):
    """A subclassed model: Keras builds its layers while tracing `call` in a
    StatelessScope and initializes their weights later, outside `add_weight`."""

    def __init__(self, layer):
        super().__init__()
        self.inner = layer

    def call(self, x):
        return self.inner(x)


def built_in_subclassed_model(layer, input_dim=3):
    """`layer`, built inside a subclassed model's first call."""
    Wrapping(layer)(np.zeros((2, 4, input_dim), "float32"))
    return layer
