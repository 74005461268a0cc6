"""Random square kernels rescaled to an exact spectral radius."""

import math

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    Seed,
    SeededInitializer,
    _check_positive,
    _compute_dtype,
    _float_dtype,
    _gate_block_shape,
    _per_gate,
)
from keras_rnninit.initializers.building import gated_square_blocks
from keras_rnninit.utils.validation import check_positive_int

__all__ = ["SpectralRadius"]


@keras.saving.register_keras_serializable(package="keras_rnninit")
class SpectralRadius(SeededInitializer):
    """Random square kernel rescaled to an exact spectral radius.

    W = radius * A / max|eig(A)|, A ~ N(0, 1/n) of shape (n, n). The
    spectral radius rho(Whh) = max|eig(Whh)| governs the linearised
    recurrence h_t = Whh^T h_{t-1}: for rho < 1 it is contractive (gradients
    vanish), for rho > 1 expansive (they can explode). Echo-state networks
    pick rho just below 1; comparisons sweep it.

    Gated cells: with `gates=k` a shape (n, k * n) is k square (n, n) gate
    blocks side by side (Keras' LSTM: k=4, GRU: k=3); each block is drawn
    independently and rescaled to its own spectral radius `radius`. With
    `gates=None` (the default, and what a name such as
    `recurrent_initializer="spectral_radius"` gives) k is taken from the
    Keras `LSTMCell` or `GRUCell` building a (units, k * units) weight, and
    is 1 for any other weight.

    Example:

        >>> import keras, numpy as np
        >>> from keras_rnninit import SpectralRadius
        >>> w = keras.ops.convert_to_numpy(SpectralRadius(0.9, seed=0)(shape=(16, 16)))
        >>> round(float(np.abs(np.linalg.eigvals(w)).max()), 4)
        0.9
        >>> gated = SpectralRadius(0.9, gates=4, seed=0)
        >>> w = keras.ops.convert_to_numpy(gated((8, 32)))
        >>> blocks = np.split(w, 4, axis=1)
        >>> [round(float(np.abs(np.linalg.eigvals(b)).max()), 4) for b in blocks]
        [0.9, 0.9, 0.9, 0.9]
        >>> lstm = keras.layers.LSTM(8, recurrent_initializer="spectral_radius")

    Args:
        radius: Positive target value of max|eig(W)| (of each gate block).
        gates: Positive int, the number of square gate blocks along the last
            axis (4 for an LSTM recurrent kernel, 3 for a GRU one), or None
            to take it from the LSTM or GRU cell building the weight.
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [Pascanu, Mikolov & Bengio, 2013](https://arxiv.org/abs/1211.5063)
        - [Jaeger, 2001, echo state networks](
          https://www.ai.rug.nl/minds/uploads/EchoStatesTechRep.pdf)
    """

    def __init__(
        self, radius: float = 1.0, seed: Seed = None, gates: int | None = None
    ) -> None:
        self.radius = _check_positive("radius", radius)
        self.gates = check_positive_int("gates", gates, optional=True)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        gates = self.gates
        if gates is None:
            blocks = gated_square_blocks(shape)
            gates = 1 if blocks is None else blocks[0]
        block = _gate_block_shape(
            shape, gates, type(self).__name__, square=True, per_gate=True
        )
        dtype = _float_dtype(dtype)

        def draw(draw_shape):
            return keras.random.normal(
                draw_shape,
                stddev=1.0 / math.sqrt(block[0]),
                dtype=_compute_dtype(dtype),
                seed=self.seed,
            )

        def rescale(a):
            eigenvalues, _ = ops.eig(a)
            rho = ops.max(ops.abs(eigenvalues))
            return a * (self.radius / ops.cast(rho, a.dtype))

        return ops.cast(_per_gate(draw, block, gates, rescale), dtype)

    def get_config(self):
        gates = {} if self.gates is None else {"gates": self.gates}
        return {"radius": self.radius, **super().get_config(), **gates}
