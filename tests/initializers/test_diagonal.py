"""Long-range schemes (np_rnn, critical_tanh, spectral_095, irnn_xavier,
uniform_diag), NpRNN, UniformDiagonal, recommend."""

import math
import re

import keras
import numpy as np
import pytest

from keras_rnninit import UniformDiagonal
from tests.helpers import (
    Z,
    assert_variance,
    run_serialization_test,
    to_numpy,
)


@pytest.mark.slow
def test_uniform_diagonal_is_diagonal_and_uniform():
    w = to_numpy(UniformDiagonal(seed=1)((4096, 4096)))
    loops = np.diag(w).astype("float64")
    np.testing.assert_array_equal(w, np.diag(np.diag(w)))  # nothing off the diagonal
    assert loops.min() >= 0.0 and loops.max() < 1.0
    # U[0, 1]: mean 1/2 (variance 1/12), variance 1/12 (fourth central
    # moment 1/80); and the fraction below 1/4 is 1/4 (no piling up).
    assert abs(loops.mean() - 0.5) < Z * math.sqrt(1 / 12 / loops.size)
    assert_variance(loops, 1 / 12, 1 / 80)
    frac = float((loops < 0.25).mean())
    assert abs(frac - 0.25) < Z * math.sqrt(0.25 * 0.75 / loops.size)


def test_uniform_diagonal_range():
    loops = np.diag(to_numpy(UniformDiagonal(0.9, 1.1, seed=2)((2048, 2048))))
    assert loops.min() >= 0.9 and loops.max() < 1.1
    # U[a, b]: variance (b - a)² / 12, fourth central moment (b - a)⁴ / 80.
    assert_variance(loops.astype("float64"), 0.2**2 / 12, 0.2**4 / 80)


def test_uniform_diagonal_seed_semantics():
    def draw(init):
        return to_numpy(init((8, 8)))

    np.testing.assert_array_equal(
        draw(UniformDiagonal(seed=3)), draw(UniformDiagonal(seed=3))
    )
    assert not np.array_equal(
        draw(UniformDiagonal(seed=3)), draw(UniformDiagonal(seed=4))
    )
    unseeded = UniformDiagonal()
    np.testing.assert_array_equal(draw(unseeded), draw(unseeded))
    fresh = UniformDiagonal(seed=keras.random.SeedGenerator(5))
    assert not np.array_equal(draw(fresh), draw(fresh))


def test_uniform_diagonal_config_and_registration():
    init = UniformDiagonal(0.5, 1.0, seed=3)
    assert init.get_config() == {"low": 0.5, "high": 1.0, "seed": 3}
    rebuilt = run_serialization_test(init)
    np.testing.assert_array_equal(to_numpy(init((8, 8))), to_numpy(rebuilt((8, 8))))
    assert keras.saving.get_registered_name(UniformDiagonal) == (
        "keras_rnninit>UniformDiagonal"
    )
    assert isinstance(keras.initializers.get("uniform_diagonal"), UniformDiagonal)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"low": 1.0, "high": 1.0},
            ValueError,
            "`high` must be greater than `low`. Received: low=1.0, high=1.0",
        ),
        (
            {"low": -0.1},
            ValueError,
            "`low` must be a finite number >= 0. Received: low=-0.1",
        ),
        (
            {"high": float("inf")},
            ValueError,
            "`high` must be a finite number. Received: high=inf",
        ),
        (
            {"low": "0"},
            TypeError,
            "`low` must be a finite number >= 0. Received: low='0' of type str",
        ),
        (
            {"high": True},
            TypeError,
            "`high` must be a finite number. Received: high=True of type bool",
        ),
        ({"seed": 1.5}, TypeError, "`seed` must be None, an int"),
    ],
)
def test_uniform_diagonal_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        UniformDiagonal(**kwargs)


def test_uniform_diagonal_shapes_and_dtypes():
    w = UniformDiagonal(seed=0)((8, 8), dtype="float16")
    assert keras.backend.standardize_dtype(w.dtype) == "float16"
    with pytest.raises(
        ValueError,
        match=r"`shape` must be a square 2-D shape .* Received: shape=\(4, 8\)",
    ):
        UniformDiagonal(seed=0)((4, 8))
    with pytest.raises(ValueError, match="`dtype` must be a floating point dtype"):
        UniformDiagonal(seed=0)((4, 4), dtype="int32")
