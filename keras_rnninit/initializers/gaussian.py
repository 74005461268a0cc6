"""Untruncated fan-in Gaussians: XavierRNN and He."""

import math

import keras

from keras_rnninit.initializers.base import (
    Seed,
    SeededInitializer,
    _check_gates,
    _float_dtype,
    _gate_block_shape,
    _gates_config,
)
from keras_rnninit.initializers.gain import check_gain

__all__ = ["HeRNN", "XavierRNN"]


@keras.saving.register_keras_serializable(package="keras_rnninit")
class XavierRNN(SeededInitializer):
    """The exact Gaussian N(0, gain² / fan_in) for RNN weight matrices.

    W[i, j] ~ N(0, gain² / fan_in), fan_in = shape[0]: the input size for
    Wxh, the number of units for Whh and for the output weights Why.
    With gain 1 (std = sqrt(1 / fan_in)) a pre-activation
    a_j = sum_i x_i W[i, j] of unit-variance inputs has unit variance, so the
    hidden state neither saturates tanh nor fades away, step after step.

    Why it exists: an RNN unrolled over T steps is a T-layer deep net that
    multiplies its state by Whh at every step. Keeping the variance of that
    product constant is what keeps gradients through time from vanishing or
    exploding geometrically. The samples are **not truncated**: Keras'
    `LecunNormal` has the same variance but cuts the tails at 2 sigma, so it
    is a different distribution (no mass beyond 2 sigma, where a Gaussian
    has 4.55%).

    About the name: this is LeCun-normal without truncation, N(0, gain² /
    fan_in). Glorot & Bengio's own Xavier initialization uses the average
    fan_avg = (fan_in + fan_out) / 2 (Keras' `GlorotNormal`), not fan_in.
    The package follows the naming of its seed description, where "Xavier
    for RNNs" means std = sqrt(1 / fan_in); for the square Whh the two agree
    (fan_in = fan_out), and only Wxh and Why differ.

    Gated cells: `gates=k` declares the last axis as k gate blocks (Keras'
    LSTM: k=4, GRU: k=3) and checks that it splits evenly. fan_in is
    shape[0] for every block, and all entries are independent, so each gate
    block is N(0, gain² / fan_in) on its own; the draw is the same as for
    `gates=1`.

    Example:

        >>> import keras
        >>> from keras_rnninit import XavierRNN
        >>> w = XavierRNN(seed=0)(shape=(128, 128))
        >>> tuple(w.shape)
        (128, 128)
        >>> layer = keras.layers.SimpleRNN(
        ...     32, kernel_initializer=XavierRNN(), recurrent_initializer=XavierRNN())
        >>> lstm = keras.layers.LSTM(8, recurrent_initializer=XavierRNN(gates=4))

    Args:
        gain: Positive multiplier of the standard deviation, or an activation name
            (`"tanh"`) for its `calculate_gain` value.
        gates: Positive int, the number of gate blocks along the last axis
            (4 for an LSTM kernel, 3 for a GRU kernel).
        seed: None, an int, or a `keras.random.SeedGenerator` (Keras seed
            semantics: an int or None gives the same values on every call,
            a `SeedGenerator` gives fresh values).

    Reference:
        - [Glorot & Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html)
        - [LeCun et al., 1998, Efficient BackProp](
          https://doi.org/10.1007/3-540-49430-8_2)
    """

    def __init__(
        self, gain: float | str = 1.0, seed: Seed = None, gates: int = 1
    ) -> None:
        self.gain = check_gain(gain)
        self.gates = _check_gates(gates)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        fan_in, _ = _gate_block_shape(shape, self.gates, type(self).__name__)
        stddev = self.gain / math.sqrt(fan_in)
        return keras.random.normal(
            shape, mean=0.0, stddev=stddev, dtype=_float_dtype(dtype), seed=self.seed
        )

    def get_config(self):
        return {"gain": self.gain, **super().get_config(), **_gates_config(self)}


@keras.saving.register_keras_serializable(package="keras_rnninit")
class HeRNN(XavierRNN):
    """He initialization for RNN matrices: untruncated N(0, 2 / fan_in).

    It is `XavierRNN(gain=sqrt(2))`: the factor 2 makes up for ReLU zeroing
    half of its inputs, so with a ReLU recurrence the state keeps its second
    moment; with tanh it is twice the variance XavierRNN uses.

    Example:

        >>> from keras_rnninit import HeRNN
        >>> tuple(HeRNN(seed=0)(shape=(64, 32)).shape)
        (64, 32)

    Args:
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    def __init__(self, seed: Seed = None) -> None:
        super().__init__(gain=math.sqrt(2.0), seed=seed)

    def get_config(self):
        return SeededInitializer.get_config(self)
