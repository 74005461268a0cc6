"""`calculate_gain` against torch.nn.init's formulas, and `gain="tanh"`."""

import math

import numpy as np
import pytest

from keras_rnninit import ScaledIdentity, ScaledOrthogonal, XavierRNN, calculate_gain
from tests.helpers import assert_variance, to_numpy

# torch.nn.init.calculate_gain, written out (PyTorch docs, "calculate_gain").
TORCH = {
    "linear": 1.0,
    "identity": 1.0,
    "sigmoid": 1.0,
    "tanh": 5 / 3,
    "relu": math.sqrt(2),
    "selu": 0.75,
    "leaky_relu": math.sqrt(2 / (1 + 0.01**2)),
}


@pytest.mark.parametrize("activation, gain", sorted(TORCH.items()))
def test_calculate_gain_matches_torch(activation, gain):
    assert calculate_gain(activation) == pytest.approx(gain, rel=1e-15)


def test_leaky_relu_slope():
    assert calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match=r"^`activation` must be one of identity, "):
        calculate_gain("swish")
    with pytest.raises(TypeError, match=r"^`activation` must be a string"):
        calculate_gain(None)
    with pytest.raises(ValueError, match=r"^`param` is only for leaky_relu"):
        calculate_gain("tanh", 0.1)


def test_xavier_rnn_gain_by_name_has_the_variance():
    n = 256
    std = (5 / 3) / math.sqrt(n)
    init = XavierRNN(gain="tanh", seed=3)
    assert init.get_config()["gain"] == pytest.approx(5 / 3)
    assert_variance(to_numpy(init(shape=(n, n))), std**2, 3 * std**4)


def test_orthogonal_and_identity_gain_by_name():
    w = to_numpy(ScaledOrthogonal(gain="relu", seed=0)(shape=(16, 16)))
    np.testing.assert_allclose(w.T @ w, 2 * np.eye(16), atol=1e-5)
    eye = to_numpy(ScaledIdentity(gain="selu")(shape=(3, 3)))
    np.testing.assert_array_equal(eye, 0.75 * np.eye(3))
    for name in ("gelu", "1.0"):
        with pytest.raises(
            ValueError,
            match=r"^`gain` must be a positive finite "
            r"float or an activation name \(identity, leaky_relu",
        ):
            XavierRNN(gain=name)
