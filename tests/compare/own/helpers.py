"""The own-model tests' shared data and model: a small sequence classifier
and its arrays, and the documented batch stream recomputed by hand.

The arrays come from a generator of their own, so every test module sees the
same data whatever it imports first."""

import keras
import numpy as np

N, T, D = 80, 6, 3
_RNG = np.random.default_rng(3)
X = _RNG.normal(size=(N, T, D)).astype("float32")
Y = (X[:, :, 0].sum(1) > 0).astype("int32")
XV = _RNG.normal(size=(40, T, D)).astype("float32")
YV = (XV[:, :, 0].sum(1) > 0).astype("int32")


def classifier(rnn="SimpleRNN"):
    """`Input -> rnn(8) -> Dense(2, softmax)`, compiled with Adam(0.02)."""
    inputs = keras.Input((T, D), name="sequence")
    h = getattr(keras.layers, rnn)(8, name="rnn")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, "softmax", name="head")(h))
    model.compile(
        keras.optimizers.Adam(0.02),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def stream_rows(n, seed, count):
    """Row order of the doc's stream: pass k is permutation (seed, k)."""
    passes = -(-count // n)
    order = [np.random.default_rng([seed, k]).permutation(n) for k in range(passes)]
    return np.concatenate(order)[:count]
