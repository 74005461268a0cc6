"""Keras' SimpleRNN, LSTM and GRU cells with XavierRNN as their kernels' default."""

import keras

from keras_rnninit.initializers import XavierRNN
from keras_rnninit.utils.seeding import derive_seed

__all__ = ["XavierGRUCell", "XavierLSTMCell", "XavierRNNCell", "xavier_defaults"]


def xavier_defaults(kernel_initializer, recurrent_initializer, seed, gates=1):
    """Fill a missing Wxh / Whh initializer with `XavierRNN(gates=gates)`, seeded
    from an int `seed` (one derived seed per kernel) so the weights repeat in
    every process."""
    int_seed = isinstance(seed, int) and not isinstance(seed, bool)
    if kernel_initializer is None:
        kernel_initializer = XavierRNN(
            seed=derive_seed(seed, 0) if int_seed else None, gates=gates
        )
    if recurrent_initializer is None:
        recurrent_initializer = XavierRNN(
            seed=derive_seed(seed, 1) if int_seed else None, gates=gates
        )
    return kernel_initializer, recurrent_initializer


class _XavierDefaults:
    """The constructor shared by the Xavier cells: missing kernel and
    recurrent initializers become `XavierRNN(gates=cls.gates)`, seeded from
    an int `seed`; everything else goes to the Keras cell."""

    gates = 1

    def __init__(
        self,
        units,
        kernel_initializer=None,
        recurrent_initializer=None,
        seed=None,
        **kwargs,
    ):
        kernel_initializer, recurrent_initializer = xavier_defaults(
            kernel_initializer, recurrent_initializer, seed, gates=self.gates
        )
        super().__init__(
            units,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            seed=seed,
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="keras_rnninit")
class XavierRNNCell(_XavierDefaults, keras.layers.SimpleRNNCell):
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

    gates = 1


@keras.saving.register_keras_serializable(package="keras_rnninit")
class XavierLSTMCell(_XavierDefaults, keras.layers.LSTMCell):
    """A `keras.layers.LSTMCell` whose kernels default to `XavierRNN(gates=4)`.

    Every gate pre-activation x_t W_g + h_{t-1} U_g + b_g (g = i, f, c, o)
    starts with W_g ~ N(0, 1/input_dim) and U_g ~ N(0, 1/units), so it has
    unit variance for unit-variance inputs and states, the `XavierRNNCell`
    rule applied to each gate block. The bias is the parent's (zeros, and
    b_f = 1 with `unit_forget_bias=True`); pass
    `bias_initializer=ChronoBias(T), unit_forget_bias=False` for chrono.
    Everything else (dropout, masking, `stateful`, `get_config`) is
    `LSTMCell`'s, so it plugs into `keras.layers.RNN`, stacks and wraps in
    `Bidirectional`. An int `seed` also seeds the default initializers.

    Example:

        >>> import keras
        >>> from keras_rnninit import XavierLSTMCell
        >>> layer = keras.layers.RNN(XavierLSTMCell(16, seed=0))
        >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
        (2, 16)

    Args:
        units: Positive int, size of the state.
        kernel_initializer: Initializer for W, (input_dim, 4 * units)
            (default `XavierRNN(gates=4)`).
        recurrent_initializer: Initializer for U, (units, 4 * units)
            (default `XavierRNN(gates=4)`).
        seed: Seed of dropout and, when an int, of the default initializers.
        **kwargs: Any other `keras.layers.LSTMCell` argument.

    Reference:
        - [Glorot & Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html)
        - [Hochreiter & Schmidhuber, 1997](https://doi.org/10.1162/neco.1997.9.8.1735)
    """

    gates = 4


@keras.saving.register_keras_serializable(package="keras_rnninit")
class XavierGRUCell(_XavierDefaults, keras.layers.GRUCell):
    """A `keras.layers.GRUCell` whose kernels default to `XavierRNN(gates=3)`.

    Every gate block (z, r, h) of W starts N(0, 1/input_dim) and of U
    N(0, 1/units), the `XavierRNNCell` rule applied to each gate. The bias is
    the parent's (zeros); pass `bias_initializer=ChronoBias(T, cell="gru")`
    for chrono. Everything else (`reset_after`, dropout, masking, `stateful`,
    `get_config`) is `GRUCell`'s. An int `seed` also seeds the default
    initializers.

    Example:

        >>> import keras
        >>> from keras_rnninit import XavierGRUCell
        >>> layer = keras.layers.RNN(XavierGRUCell(16, seed=0))
        >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
        (2, 16)

    Args:
        units: Positive int, size of the state.
        kernel_initializer: Initializer for W, (input_dim, 3 * units)
            (default `XavierRNN(gates=3)`).
        recurrent_initializer: Initializer for U, (units, 3 * units)
            (default `XavierRNN(gates=3)`).
        seed: Seed of dropout and, when an int, of the default initializers.
        **kwargs: Any other `keras.layers.GRUCell` argument.

    Reference:
        - [Glorot & Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html)
        - [Cho et al., 2014](https://arxiv.org/abs/1406.1078)
    """

    gates = 3
