import math

import numpy as np
import pytest

from keras_rnninit import (
    ScaledIdentity,
    ScaledOrthogonal,
)
from tests.helpers import (
    Z,
    assert_mean,
    assert_variance,
    to_numpy,
)
from tests.initializers.helpers import N, blocks


@pytest.mark.parametrize("shape", [(N, N), (N, N // 2), (N // 2, N)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_scaled_orthogonal_gram_on_short_side(shape, gain):
    w = to_numpy(ScaledOrthogonal(gain=gain, seed=4)(shape=shape))
    assert w.shape == shape
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram / gain**2, np.eye(min(shape)), atol=1e-5)


@pytest.mark.slow
def test_scaled_orthogonal_is_haar_trace_unbiased():
    # For Haar O(n), trace(Q) has the moments of N(0, 1) up to order n
    # (Diaconis & Shahshahani): mean 0, variance 1, fourth moment 3. Plain
    # (uncorrected) QR of a Gaussian gives a trace biased by several units at
    # n = 64. 400 draws: the variance is checked to Z * sqrt(2 / 400) = 0.35.
    n, draws = 64, 400
    traces = np.array(
        [
            np.trace(to_numpy(ScaledOrthogonal(seed=s)(shape=(n, n))))
            for s in range(draws)
        ]
    )
    assert_mean(traces, 0.0, 1.0)
    assert_variance(traces, 1.0, fourth_central_moment=3.0)


@pytest.mark.parametrize("gain", [1.0, 0.5, 2.0])
def test_scaled_identity(gain):
    np.testing.assert_array_equal(
        to_numpy(ScaledIdentity(gain=gain)(shape=(5, 5))), gain * np.eye(5)
    )
    np.testing.assert_array_equal(
        to_numpy(ScaledIdentity(gain=gain)(shape=(3, 5))), gain * np.eye(3, 5)
    )


@pytest.mark.parametrize("gates", [3, 4])
@pytest.mark.parametrize("rows, block_cols", [(16, 16), (5, 16), (16, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_scaled_orthogonal_each_gate_block_is_orthogonal(gates, rows, block_cols, gain):
    w = to_numpy(
        ScaledOrthogonal(gain=gain, gates=gates, seed=1)((rows, gates * block_cols))
    )
    for b in blocks(w, gates):
        gram = b @ b.T if rows <= block_cols else b.T @ b
        np.testing.assert_allclose(gram / gain**2, np.eye(min(b.shape)), atol=1e-5)


def test_scaled_orthogonal_gates_1_leaves_lstm_blocks_non_orthogonal():
    # The starting point: the whole (H, 4H) is semi-orthogonal, its
    # (H, H) blocks are not; per-gate is what makes each block orthogonal.
    w = to_numpy(ScaledOrthogonal(seed=1)((16, 64)))
    np.testing.assert_allclose(w @ w.T, np.eye(16), atol=1e-5)
    assert all(np.abs(b.T @ b - np.eye(16)).max() > 0.1 for b in blocks(w, 4))


def test_scaled_orthogonal_gate_blocks_are_independent_haar():
    # Every block of every draw is Haar on O(n): trace mean 0, variance 1.
    # 16 draws x 4 blocks = 64 traces; identical blocks (one seed reused per
    # block) or plain QR signs would fail.
    n, draws = 32, 16
    traces = []
    for s in range(draws):
        w = to_numpy(ScaledOrthogonal(gates=4, seed=s)((n, 4 * n)))
        bs = blocks(w, 4)
        assert not any(np.allclose(bs[0], b) for b in bs[1:])
        traces += [np.trace(b) for b in bs]
    assert abs(np.mean(traces)) < Z / math.sqrt(len(traces))
    # Var of the sample variance of 64 traces (Haar trace ~ N(0, 1) for large n):
    # SE = sqrt(2 / 64) = 0.18.
    assert abs(np.var(traces) - 1.0) < Z * math.sqrt(2 / len(traces))


@pytest.mark.parametrize("gates", [3, 4])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_scaled_identity_each_gate_block_is_identity(gates, gain):
    h = 4
    w = to_numpy(ScaledIdentity(gain=gain, gates=gates)((h, gates * h)))
    np.testing.assert_array_equal(w, np.tile(gain * np.eye(h), (1, gates)))
    assert [np.trace(b) for b in blocks(w, gates)] == [gain * h] * gates
    kernel = to_numpy(ScaledIdentity(gates=gates)((2, gates * h)))
    np.testing.assert_array_equal(kernel, np.tile(np.eye(2, h), (1, gates)))
