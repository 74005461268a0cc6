"""A diagonal recurrent kernel with uniformly drawn self-loops."""

import math
import numbers

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    Seed,
    SeededInitializer,
    check_matrix_shape,
    compute_dtype,
    float_dtype,
)

__all__ = ["UniformDiagonal"]


@keras.saving.register_keras_serializable(package="keras_rnninit")
class UniformDiagonal(SeededInitializer):
    """Whh = diag(λ), λ_i ~ U[low, high]: one self-loop per unit, nothing else.

    Each unit starts as its own leaky memory: with a ReLU recurrence and the
    other units silent, h_i,t = relu(λ_i h_i,t-1 + input) forgets at rate λ_i,
    so it remembers for about 1 / (1 - λ_i) steps. Drawing λ uniformly in
    [0, 1] (the default) starts the layer with every memory length at once:
    units with λ near 0 respond to the current input only (detectors), units
    with λ near 1 integrate over the whole sequence, and the gradient through
    a unit's own loop is λ_i^k after k steps, never above 1 for high <= 1.
    The off-diagonal entries start at zero and train like any other weight.

    This is the start of the independently recurrent network (IndRNN) of
    Li et al. (2018), whose recurrence stays diagonal and whose recurrent
    weights are drawn uniformly; here only the start is diagonal, the whole
    Whh trains. The `uniform_diag` scheme pairs it with a ReLU recurrence and
    XavierRNN input weights.

    Example:

    >>> import keras, numpy as np
    >>> from keras_rnninit import UniformDiagonal
    >>> w = keras.ops.convert_to_numpy(UniformDiagonal(seed=0)(shape=(4, 4)))
    >>> bool(np.array_equal(w, np.diag(np.diag(w))))
    True
    >>> bool(((np.diag(w) >= 0) & (np.diag(w) <= 1)).all())
    True

    Args:
        low: Lower end of the self-loop range, a float >= 0.
        high: Upper end, a float > `low` (1.0: the longest memory keeps the
            state exactly, as the identity of IRNN does).
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [Li, Li, Cook, Zhu & Gao, 2018, Independently recurrent neural
          network (IndRNN)](https://arxiv.org/abs/1803.04831)
        - [Le, Jaitly & Hinton, 2015](https://arxiv.org/abs/1504.00941)
    """

    def __init__(self, low: float = 0.0, high: float = 1.0, seed: Seed = None) -> None:
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(
                    f"`{name}` must be a finite float. "
                    f"Received: {name}={value!r} of type {type(value).__name__}"
                )
        if not (math.isfinite(high) and 0 <= low < high):
            raise ValueError(
                "`low` and `high` must be finite floats with 0 <= low < high. "
                f"Received: low={low!r}, high={high!r}"
            )
        self.low, self.high = float(low), float(high)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        n, _ = check_matrix_shape(shape, type(self).__name__, square=True)
        dtype = float_dtype(dtype)
        loops = keras.random.uniform(
            (n,),
            minval=self.low,
            maxval=self.high,
            dtype=compute_dtype(dtype),
            seed=self.seed,
        )
        return ops.cast(ops.diag(loops), dtype)

    def get_config(self):
        return {"low": self.low, "high": self.high, **super().get_config()}
