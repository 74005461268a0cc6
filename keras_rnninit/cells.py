"""`XavierRNNCell`: Keras' SimpleRNNCell with XavierRNN as its default."""

import keras

from keras_rnninit.initializers import XavierRNN
from keras_rnninit.initializers.base import derive_seed

__all__ = ["XavierRNNCell", "xavier_defaults"]


def xavier_defaults(kernel_initializer, recurrent_initializer, seed):
    """Fill a missing Wxh / Whh initializer with `XavierRNN`, seeded from an int
    `seed` (one derived seed per kernel) so the weights repeat in every process."""
    int_seed = isinstance(seed, int) and not isinstance(seed, bool)
    if kernel_initializer is None:
        kernel_initializer = XavierRNN(seed=derive_seed(seed, 0) if int_seed else None)
    if recurrent_initializer is None:
        recurrent_initializer = XavierRNN(
            seed=derive_seed(seed, 1) if int_seed else None
        )
    return kernel_initializer, recurrent_initializer


@keras.saving.register_keras_serializable(package="keras_rnninit")
class XavierRNNCell(keras.layers.SimpleRNNCell):
    """A `keras.layers.SimpleRNNCell` whose kernels default to `XavierRNN`.

    h_t = activation(x_t Wxh + h_{t-1} Whh + b) with Wxh, Whh ~ N(0, 1/fan_in)
    unless other initializers are passed. Everything else (dropout,
    recurrent dropout, masking, `stateful`, `get_config`) is the parent's, so
    the cell plugs into `keras.layers.RNN`, stacks, and wraps in
    `Bidirectional` exactly like `SimpleRNNCell`.

    When `seed` is an int, it seeds the default initializers too (one derived
    seed for each kernel), so `XavierRNNCell(n, seed=s)` builds the same
    weights in every process.

    Example:

    >>> import keras
    >>> from keras_rnninit import XavierRNNCell
    >>> layer = keras.layers.RNN(XavierRNNCell(16, seed=0))
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 16)

    Args:
        units: Positive int, size of the state.
        kernel_initializer: Initializer for Wxh (default `XavierRNN`).
        recurrent_initializer: Initializer for Whh (default `XavierRNN`).
        seed: Seed of dropout and, when an int, of the default initializers.
        **kwargs: Any other `keras.layers.SimpleRNNCell` argument.
    """

    def __init__(
        self,
        units,
        kernel_initializer=None,
        recurrent_initializer=None,
        seed=None,
        **kwargs,
    ):
        kernel_initializer, recurrent_initializer = xavier_defaults(
            kernel_initializer, recurrent_initializer, seed
        )
        super().__init__(
            units,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            seed=seed,
            **kwargs,
        )
