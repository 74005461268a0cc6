"""Random square kernels rescaled to an exact spectral radius."""

import math

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    Seed,
    SeededInitializer,
    check_gates,
    check_positive,
    compute_dtype,
    float_dtype,
    gate_block_shape,
    gates_config,
    per_gate,
)

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
    independently and rescaled to its own spectral radius `radius`.

    Example:

    >>> import keras, numpy as np
    >>> from keras_rnninit import SpectralRadius
    >>> w = keras.ops.convert_to_numpy(SpectralRadius(0.9, seed=0)(shape=(16, 16)))
    >>> round(float(np.abs(np.linalg.eigvals(w)).max()), 4)
    0.9
    >>> w = keras.ops.convert_to_numpy(SpectralRadius(0.9, gates=4, seed=0)((8, 32)))
    >>> [round(float(np.abs(np.linalg.eigvals(b)).max()), 4) for b in np.split(w, 4, 1)]
    [0.9, 0.9, 0.9, 0.9]

    Args:
        radius: Positive target value of max|eig(W)| (of each gate block).
        gates: Positive int, the number of square gate blocks along the last
            axis (4 for an LSTM recurrent kernel, 3 for a GRU one).
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [Pascanu, Mikolov & Bengio, 2013](https://arxiv.org/abs/1211.5063)
        - [Jaeger, 2001, echo state networks](
          https://www.ai.rug.nl/minds/uploads/EchoStatesTechRep.pdf)
    """

    def __init__(self, radius: float = 1.0, seed: Seed = None, gates: int = 1) -> None:
        self.radius = check_positive("radius", radius)
        self.gates = check_gates(gates)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        block = gate_block_shape(shape, self.gates, type(self).__name__, square=True)
        dtype = float_dtype(dtype)

        def draw(draw_shape):
            return keras.random.normal(
                draw_shape,
                stddev=1.0 / math.sqrt(block[0]),
                dtype=compute_dtype(dtype),
                seed=self.seed,
            )

        def rescale(a):
            eigenvalues, _ = ops.eig(a)
            rho = ops.max(ops.abs(eigenvalues))
            return a * (self.radius / ops.cast(rho, a.dtype))

        return ops.cast(per_gate(draw, block, self.gates, rescale), dtype)

    def get_config(self):
        return {"radius": self.radius, **super().get_config(), **gates_config(self)}
