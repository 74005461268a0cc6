import math

import numpy as np
import pytest

from keras_rnninit.tasks import (  # noqa: E402
    ADDING_BASELINE_MSE,
    adding_problem,
)
from tests.helpers import Z


def test_shapes_dtypes_and_structure():
    x, y = adding_problem(500, length=20, seed=3)
    assert x.shape == (500, 20, 2) and y.shape == (500, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers = x[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers[:, :10].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, 10:].sum(axis=1), 1)
    np.testing.assert_allclose((x[..., 0] * markers).sum(axis=1), y[:, 0], rtol=1e-6)
    assert x[..., 0].min() >= 0 and x[..., 0].max() <= 1


def test_deterministic_per_seed():
    a = adding_problem(10, 7, seed=1)
    b = adding_problem(10, 7, seed=1)
    c = adding_problem(10, 7, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_constant_prediction_baseline_is_one_sixth():
    _, y = adding_problem(20000, length=10, seed=0)
    n = y.size
    # (y - 1) is triangular on [-1, 1]: E[(y-1)^2] = 1/6, E[(y-1)^4] = 1/15.
    se = math.sqrt((1 / 15 - ADDING_BASELINE_MSE**2) / n)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < Z * se


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"num_samples": 0, "length": 5},
            ValueError,
            "`num_samples` must be an int >= 1",
        ),
        ({"num_samples": 2, "length": 1}, ValueError, "`length` must be an int >= 2"),
        ({"num_samples": 2, "length": 5.0}, TypeError, "`length` must be an int >= 2"),
        ({"num_samples": 2, "length": 5, "seed": -1}, ValueError, "`seed` must be"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        adding_problem(**kwargs)
