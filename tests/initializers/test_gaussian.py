import math

import keras
import numpy as np
import pytest

from keras_rnninit import (
    HeRNN,
    XavierRNN,
)
from tests.helpers import (
    Z,
    assert_fraction,
    assert_mean,
    assert_normal_ks,
    assert_variance,
    to_numpy,
)
from tests.initializers.helpers import N, blocks

TAIL_2SIGMA = math.erfc(2 / math.sqrt(2))  # 0.0455 for an untruncated Gaussian


@pytest.mark.parametrize("gain", [1.0, 0.5, 3.0])
@pytest.mark.parametrize("fan_in", [N, 2 * N])
def test_xavier_rnn_is_exact_untruncated_gaussian(gain, fan_in):
    std = gain / math.sqrt(fan_in)
    w = to_numpy(XavierRNN(gain=gain, seed=1)(shape=(fan_in, N)))
    assert w.shape == (fan_in, N)
    assert_mean(w, 0.0, std)
    assert_variance(w, std**2, 3 * std**4)
    assert_fraction(np.abs(w) > 2 * std, TAIL_2SIGMA)
    assert_normal_ks(w, std)


def test_tail_check_rejects_keras_truncated_lecun_normal():
    # The same variance target, truncated at 2 sigma: the tail check must see it.
    w = to_numpy(keras.initializers.LecunNormal(seed=1)(shape=(N, N)))
    std = 1 / math.sqrt(N)
    tail = float(np.mean(np.abs(w) > 2 * std))
    assert tail < TAIL_2SIGMA - Z * math.sqrt(TAIL_2SIGMA * (1 - TAIL_2SIGMA) / w.size)


def test_he_rnn_variance_is_two_over_fan_in():
    std = math.sqrt(2 / N)
    w = to_numpy(HeRNN(seed=2)(shape=(N, N)))
    assert_mean(w, 0.0, std)
    assert_variance(w, std**2, 3 * std**4)
    assert_normal_ks(w, std)


def test_xavier_rnn_each_gate_block_is_n_0_1_over_fan_in():
    fan_in = 256
    std = 1 / math.sqrt(fan_in)
    w = to_numpy(XavierRNN(gates=4, seed=3)((fan_in, 4 * fan_in)))
    for b in blocks(w, 4):
        assert_mean(b, 0.0, std)
        assert_variance(b, std**2, 3 * std**4)
        assert_normal_ks(b, std)
