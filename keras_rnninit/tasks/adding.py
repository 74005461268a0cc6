"""The adding problem (Hochreiter & Schmidhuber, 1997)."""

import numpy as np

from keras_rnninit.utils.validation import check_int

__all__ = ["ADDING_BASELINE_MSE", "adding_problem"]

# Predicting the constant 1.0 = E[u1 + u2] scores Var(u1 + u2) = 2 * (1/12).
ADDING_BASELINE_MSE = 1.0 / 6.0


def adding_problem(num_samples, length, seed=0):
    """Sequences of (value, marker) pairs whose target is the sum of two marked values.

    Channel 0 holds values u_t ~ U[0, 1]; channel 1 is 1 at exactly one step
    in the first half [0, length // 2) and one in the second half, 0 elsewhere.
    The target is the sum of the two marked values. Predicting the mean 1.0
    gives MSE = 1/6 (`ADDING_BASELINE_MSE`); solving it needs memory across
    up to `length` steps, which is what makes it a test of gradients through
    time.

    Example:

        >>> x, y = adding_problem(4, length=10, seed=0)
        >>> x.shape, y.shape, x.dtype.name
        ((4, 10, 2), (4, 1), 'float32')
        >>> bool(np.allclose((x[..., 0] * x[..., 1]).sum(axis=1, keepdims=True), y))
        True

    Args:
        num_samples: Number of sequences, >= 1.
        length: Sequence length T, >= 2.
        seed: Int seed of numpy's default generator: same seed, same data.

    Returns:
        `(x, y)`: float32 arrays of shapes (num_samples, length, 2) and
        (num_samples, 1).

    Reference:
        - [Hochreiter & Schmidhuber, 1997](https://doi.org/10.1162/neco.1997.9.8.1735)
        - [Le, Jaitly & Hinton, 2015](https://arxiv.org/abs/1504.00941)
    """
    n = check_int("num_samples", num_samples, 1)
    length = check_int("length", length, 2)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype("float32")
    y = (values[rows, first] + values[rows, second])[:, None].astype("float32")
    return x, y
