"""FastSimpleRNN beside keras.layers.SimpleRNN with the same weights, for the
layer's tests and the kernel's."""

import keras
import numpy as np

from keras_rnninit.layers import FastSimpleRNN

X = np.random.default_rng(0).normal(size=(4, 9, 3)).astype("float32")


def twins(units=6, jit_compile="auto", **kwargs):
    """A FastSimpleRNN and a keras SimpleRNN with the same weights and the same
    dropout seed (so, in training, the same dropout masks)."""
    fast = FastSimpleRNN(units, seed=0, jit_compile=jit_compile, **kwargs)
    slow = keras.layers.SimpleRNN(units, seed=0, **kwargs)
    fast.build(X.shape)
    slow.build(X.shape)
    slow.set_weights(fast.get_weights())
    return fast, slow


def assert_close(got, expected, rtol=1e-5):
    """Every leaf equal to within rtol of the reference's largest entry."""
    got, expected = keras.tree.flatten(got), keras.tree.flatten(expected)
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        a, b = (np.asarray(keras.ops.convert_to_numpy(v)) for v in (a, b))
        scale = float(np.max(np.abs(b))) or 1.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale)
