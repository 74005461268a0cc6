"""Random square kernels rescaled to an exact spectral radius."""

import math

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    SeededInitializer,
    check_matrix_shape,
    check_positive,
    compute_dtype,
    float_dtype,
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

    Example:

    >>> import keras, numpy as np
    >>> from keras_rnninit import SpectralRadius
    >>> w = keras.ops.convert_to_numpy(SpectralRadius(0.9, seed=0)(shape=(16, 16)))
    >>> round(float(np.abs(np.linalg.eigvals(w)).max()), 4)
    0.9

    Args:
        radius: Positive target value of max|eig(W)|.
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [Pascanu, Mikolov & Bengio, 2013](https://arxiv.org/abs/1211.5063)
        - [Jaeger, 2001, echo state networks](
          https://www.ai.rug.nl/minds/uploads/EchoStatesTechRep.pdf)
    """

    def __init__(self, radius=1.0, seed=None):
        self.radius = check_positive("radius", radius)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        n, _ = check_matrix_shape(shape, type(self).__name__, square=True)
        dtype = float_dtype(dtype)
        a = keras.random.normal(
            (n, n),
            stddev=1.0 / math.sqrt(n),
            dtype=compute_dtype(dtype),
            seed=self.seed,
        )
        eigenvalues, _ = ops.eig(a)
        rho = ops.max(ops.abs(eigenvalues))
        return ops.cast(a * (self.radius / ops.cast(rho, a.dtype)), dtype)

    def get_config(self):
        return {"radius": self.radius, **super().get_config()}
