"""The one table of activation derivatives, against autodiff of Keras' own."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rnninit.diagnostics import recurrent
from keras_rnninit.layers import recurrence
from keras_rnninit.utils.activations import DERIVATIVES

# Away from relu's kink at 0, where the derivative is a convention.
Z = np.array([-3.0, -0.7, -1e-3, 2e-3, 0.4, 2.5], dtype="float64")


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_derivative_matches_autodiff(name):
    activation = keras.activations.get(name)
    z = tf.constant(Z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        h = activation(z)
    expected = tape.gradient(h, z).numpy()
    derivative = DERIVATIVES[name]
    h = h.numpy()
    got = np.ones_like(h) if derivative is None else derivative(h).astype(h.dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_kernels_and_diagnostics_share_the_table():
    assert recurrence.DERIVATIVES is DERIVATIVES
    assert recurrent.DERIVATIVES is DERIVATIVES
    assert sorted(recurrent._ACTIVATIONS) == sorted(DERIVATIVES)
