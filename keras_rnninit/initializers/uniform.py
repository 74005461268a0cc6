"""The naive U[0, 1] baseline, kept on purpose to show why it fails."""

import keras

from keras_rnninit.initializers.base import SeededInitializer, _float_dtype

__all__ = ["Uniform01"]


@keras.saving.register_keras_serializable(package="keras_rnninit")
class Uniform01(SeededInitializer):
    """The naive baseline W[i, j] ~ U[0, 1]: mean 1/2, variance 1/12.

    Every weight is positive, so a pre-activation a_j = sum_i h_i W[i, j]
    sums fan_in terms of the same sign: its mean grows like fan_in / 2 and
    tanh saturates (|h| -> 1) within a step or two. There tanh'(a) = 0 to
    float precision, so the gradient through time becomes exactly zero and the
    network cannot learn long-range structure. Spectral radius of an n x n
    U[0, 1] matrix is about n / 2. Use it only as the "what goes wrong"
    baseline in comparisons.

    Any shape is accepted (the distribution does not depend on fan-in).

    Example:

        >>> import keras
        >>> from keras_rnninit import Uniform01
        >>> w = keras.ops.convert_to_numpy(Uniform01(seed=0)(shape=(4, 4)))
        >>> bool((w >= 0).all() and (w < 1).all())
        True

    Args:
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [Glorot & Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html)
          (saturation of sigmoid/tanh units under poor initialization)
    """

    def __call__(self, shape, dtype=None):
        return keras.random.uniform(
            shape, minval=0.0, maxval=1.0, dtype=_float_dtype(dtype), seed=self.seed
        )
