import math

from keras_rnninit import (
    Uniform01,
)
from tests.helpers import (
    assert_mean,
    assert_variance,
    to_numpy,
)
from tests.initializers.helpers import N


def test_uniform01_bounds_mean_variance():
    w = to_numpy(Uniform01(seed=3)(shape=(N, N)))
    assert w.min() >= 0.0 and w.max() <= 1.0
    # U[0,1]: mean 1/2, variance 1/12, fourth central moment 1/80.
    assert_mean(w, 0.5, math.sqrt(1 / 12))
    assert_variance(w, 1 / 12, 1 / 80)


def test_uniform01_accepts_any_shape():
    assert tuple(Uniform01(seed=0)(shape=(2, 3, 4)).shape) == (2, 3, 4)
