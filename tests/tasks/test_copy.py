import math

import numpy as np

from keras_rnninit.tasks import (  # noqa: E402
    copy_baseline,
    copy_task,
)


def test_copy_task_structure():
    x, y = copy_task(50, length=7, seed=2)
    assert x.shape == (50, 27, 10) and y.shape == (50, 27) and y.dtype == np.int32
    ids = x.argmax(-1)
    assert ((ids[:, :10] >= 1) & (ids[:, :10] <= 8)).all()
    assert (ids[:, 10:16] == 0).all() and (ids[:, 16] == 9).all()
    assert (ids[:, 17:] == 0).all()
    np.testing.assert_array_equal(y[:, -10:], ids[:, :10])
    assert (y[:, :-10] == 0).all()
    np.testing.assert_array_equal(x.sum(-1), 1)


def test_copy_baseline_formula():
    assert math.isclose(copy_baseline(100), 10 * math.log(8) / 120)
