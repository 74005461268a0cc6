"""Long-range schemes (np_rnn, critical_tanh, spectral_095, irnn_xavier,
uniform_diag), NpRNN, UniformDiagonal, recommend."""

import math

import keras
import numpy as np
import pytest

from keras_rnninit import NpRNN
from tests.helpers import (
    Z,
    assert_variance,
    run_serialization_test,
    to_numpy,
)

N = 256


def test_np_rnn_is_symmetric_with_top_eigenvalue_one():
    w = to_numpy(NpRNN(seed=1)((N, N)))
    np.testing.assert_array_equal(w, w.T)
    eigenvalues = np.linalg.eigvalsh(w)
    assert abs(eigenvalues.max() - 1.0) < 1e-5
    assert eigenvalues.min() > 0


def test_np_rnn_matches_marchenko_pastur():
    # W = R / c with R = AᵀA/n + I and c = max eig(R). min eig(AᵀA/n) is of
    # order 1/n² for a square A, so c = 1 / min eig(W) up to that.
    w = to_numpy(NpRNN(seed=2)((N, N)))
    c = 1.0 / np.linalg.eigvalsh(w).min()
    # Marchenko-Pastur (ratio 1): the spectrum of AᵀA/n ends at 4, so c -> 5;
    # the Tracy-Widom fluctuations of the edge are ~ 2^(4/3) n^(-2/3) = 0.06.
    assert abs(c - 5.0) < 0.5
    # tr(AᵀA)/n² is the mean of n² chi²(1) draws: 1 +- sqrt(2)/n.
    assert abs(np.trace(w) * c / N - 2.0) < Z * math.sqrt(2.0) / N
    # Off the diagonal (AᵀA/n)_ij = sum_k A_ki A_kj / n: mean 0, variance 1/n,
    # so sqrt(n) of it has variance 1 and fourth moment 3 + 6/n.
    off = w[np.triu_indices(N, 1)] * c * math.sqrt(N)
    assert_variance(off, 1.0, 3.0 + 6.0 / N)


def test_np_rnn_seed_semantics():
    np.testing.assert_array_equal(
        to_numpy(NpRNN(seed=3)((8, 8))), to_numpy(NpRNN(seed=3)((8, 8)))
    )
    assert not np.array_equal(
        to_numpy(NpRNN(seed=3)((8, 8))), to_numpy(NpRNN(seed=4)((8, 8)))
    )
    unseeded = NpRNN()
    np.testing.assert_array_equal(
        to_numpy(unseeded((8, 8))), to_numpy(unseeded((8, 8)))
    )
    fresh = NpRNN(seed=keras.random.SeedGenerator(5))
    assert not np.array_equal(to_numpy(fresh((8, 8))), to_numpy(fresh((8, 8))))
    keras.utils.set_random_seed(7)
    a = to_numpy(NpRNN()((8, 8)))
    keras.utils.set_random_seed(7)
    np.testing.assert_array_equal(a, to_numpy(NpRNN()((8, 8))))


def test_np_rnn_config_and_registration():
    init = NpRNN(seed=3)
    assert init.get_config() == {"seed": 3}
    rebuilt = run_serialization_test(init)
    np.testing.assert_array_equal(to_numpy(init((8, 8))), to_numpy(rebuilt((8, 8))))
    assert keras.saving.get_registered_name(NpRNN) == "keras_rnninit>NpRNN"


def test_np_rnn_float16_and_bad_input():
    w = NpRNN(seed=0)((8, 8), dtype="float16")
    assert keras.backend.standardize_dtype(w.dtype) == "float16"
    with pytest.raises(
        ValueError,
        match=r"`shape` must be a square 2-D shape .* "
        r"Received: shape=\(4, 8\)",
    ):
        NpRNN(seed=0)((4, 8))
    with pytest.raises(ValueError, match="`dtype` must be a floating point dtype"):
        NpRNN(seed=0)((4, 4), dtype="int32")
    with pytest.raises(TypeError, match="`seed` must be None, an int"):
        NpRNN(seed=1.5)
