"""A diagonal recurrent kernel with uniformly drawn self-loops."""

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    Seed,
    SeededInitializer,
    _check_matrix_shape,
    _compute_dtype,
    _float_dtype,
)
from keras_rnninit.utils.validation import check_number

__all__ = ["UniformDiagonal"]


@keras.saving.register_keras_serializable(package="keras_rnninit")
class UniformDiagonal(SeededInitializer):
    """Whh = diag(λ), λ_i ~ U[low, high]: one self-loop per unit, nothing else.

    Each unit starts as its own leaky memory: with a ReLU recurrence and the
    other units silent, h_i,t = relu(λ_i h_i,t-1 + input) keeps a fraction
    λ_i of its state per step, so it remembers for about 1 / (1 - λ_i)
    steps. Drawing λ uniformly in [0, 1] (the default) starts the layer with
    every memory length at once, from units that see only the current input
    (λ near 0) to units that add up the whole sequence (λ near 1); the
    gradient through a unit's own loop is λ_i^k after k steps, below 1 for
    high <= 1. The off-diagonal entries start at zero and train like any
    other weight.

    IndRNN (Li et al., 2018) keeps its recurrence diagonal for good, draws
    its per-unit recurrent weights uniformly and clips them during training
    (its reference code draws them up to 2^(1/T), just above 1); here only
    the start is diagonal and the whole Whh trains, and U[0, 1] is this
    package's choice. The `uniform_diag` scheme pairs it with a ReLU
    recurrence and XavierRNN input weights.

    With the whole Whh training, Adam's first few hundred steps raise its
    spectral radius by about 0.1 to 0.55 on the adding problem (measured by
    benchmarks/drift_probe.py, docs/long_range.md); from U[0, 1] that
    crosses 1, and at T=400 a radius of 1.1 grows a gradient by 1.1^400.
    The `uniform_diag_half` scheme draws U[0, 0.5] to leave that headroom:
    memories of 1 to 2 steps at the start, the longer ones left to training.

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
        high: Upper end (excluded), a float > `low`; with 1.0 the longest
            memories come close to the identity of IRNN.
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [Li, Li, Cook, Zhu & Gao, 2018, Independently recurrent neural
          network (IndRNN)](https://arxiv.org/abs/1803.04831)
        - [Le, Jaitly & Hinton, 2015](https://arxiv.org/abs/1504.00941)
    """

    def __init__(self, low: float = 0.0, high: float = 1.0, seed: Seed = None) -> None:
        self.low = check_number("low", low, minimum=0)
        self.high = check_number("high", high)
        if not self.high > self.low:
            raise ValueError(
                "`high` must be greater than `low`. "
                f"Received: low={low!r}, high={high!r}"
            )
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        n, _ = _check_matrix_shape(shape, type(self).__name__, square=True)
        dtype = _float_dtype(dtype)
        loops = keras.random.uniform(
            (n,),
            minval=self.low,
            maxval=self.high,
            dtype=_compute_dtype(dtype),
            seed=self.seed,
        )
        return ops.cast(ops.diag(loops), dtype)

    def get_config(self):
        return {"low": self.low, "high": self.high, **super().get_config()}
