"""The np-RNN recurrent kernel of Talathi & Vartak (2015)."""

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    SeededInitializer,
    _check_matrix_shape,
    _compute_dtype,
    _float_dtype,
)

__all__ = ["NpRNN"]


@keras.saving.register_keras_serializable(package="keras_rnninit")
class NpRNN(SeededInitializer):
    """Symmetric positive definite Whh with largest eigenvalue exactly 1.

    Draw A ~ N(0, 1) of shape (n, n), form R = AᵀA / n + I and return
    W = R / λmax(R). R is symmetric with every eigenvalue >= 1, so W is
    symmetric positive definite with eigenvalues in [1 / λmax(R), 1] and
    its largest eigenvalue is exactly 1. By the Marchenko-Pastur law the
    eigenvalues of AᵀA / n fill [0, 4] for large n, so λmax(R) -> 5 and the
    spectrum of W fills about [0.2, 1]: one direction keeps the state
    (like the identity of IRNN) while the others decay, which Talathi &
    Vartak found makes a ReLU RNN ("np-RNN") train more stably than IRNN.

    The np-RNN scheme (`schemes.get("np_rnn")`) pairs it with a ReLU
    recurrence and input weights N(0, 0.001²).

    Example:

        >>> import keras, numpy as np
        >>> from keras_rnninit import NpRNN
        >>> w = keras.ops.convert_to_numpy(NpRNN(seed=0)(shape=(16, 16)))
        >>> bool(np.allclose(w, w.T))
        True
        >>> eigenvalues = np.linalg.eigvalsh(w)
        >>> round(float(eigenvalues.max()), 4), bool(eigenvalues.min() > 0)
        (1.0, True)

    Args:
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [Talathi & Vartak, 2015, Improving performance of recurrent neural
          network with relu nonlinearity](https://arxiv.org/abs/1511.03771)
    """

    def __call__(self, shape, dtype=None):
        n, _ = _check_matrix_shape(shape, type(self).__name__, square=True)
        dtype = _float_dtype(dtype)
        work = _compute_dtype(dtype)
        a = keras.random.normal((n, n), dtype=work, seed=self.seed)
        r = ops.matmul(ops.transpose(a), a) / n + ops.eye(n, dtype=work)
        r = (r + ops.transpose(r)) / 2  # exactly symmetric for eigh
        eigenvalues, vectors = ops.eigh(r)
        # eigh's float32 eigenvalue is off by ~1e-5 relative; the Rayleigh
        # quotient of its eigenvector is exact to second order (~1e-7).
        top = ops.take(vectors, ops.argmax(eigenvalues), axis=1)
        lambda_max = ops.sum(top * ops.matmul(r, top)) / ops.sum(top * top)
        return ops.cast(r / lambda_max, dtype)
