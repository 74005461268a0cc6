"""Chrono initialization of LSTM and GRU gate biases."""

import sys

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    Seed,
    SeededInitializer,
    compute_dtype,
    float_dtype,
)
from keras_rnninit.validation import check_number

__all__ = ["ChronoBias"]

CELLS = ("gru", "lstm")


def check_max_length(max_length):
    """Return `max_length` as a float if it is a finite number > 2, else raise."""
    return check_number("max_length", max_length, minimum=2, exclusive=True)


def check_cell(cell):
    """Return `cell` if it is one of `CELLS`, else raise."""
    if not isinstance(cell, str):
        raise TypeError(
            f"`cell` must be one of {', '.join(CELLS)}. "
            f"Received: cell={cell!r} of type {type(cell).__name__}"
        )
    if cell not in CELLS:
        raise ValueError(
            f"`cell` must be one of {', '.join(CELLS)}. Received: cell={cell!r}"
        )
    return cell


def _called_by_unit_forget_bias():
    """True when the caller is Keras' `unit_forget_bias=True` bias closure.

    With `unit_forget_bias=True`, Keras 3's `LSTMCell.build` does not call the
    bias initializer on the (4H,) bias: a local function `bias_initializer`
    concatenates `initializer((H,))`, ones (H,) and `initializer((2H,))`. A
    1-D shape alone cannot tell an (H,) piece from a (4H',) bias, so the
    caller is checked: that closure, on an `LSTMCell` (`self` is its free
    variable).
    """
    caller = sys._getframe(2)
    return caller.f_code.co_name == "bias_initializer" and isinstance(
        caller.f_locals.get("self"), keras.layers.LSTMCell
    )


@keras.saving.register_keras_serializable(package="keras_rnninit")
class ChronoBias(SeededInitializer):
    """Chrono biases: gate time constants spread over [2, max_length].

    A gate value g = sigmoid(b) that keeps a fraction g of the state per step
    forgets on a time scale of 1 / (1 - g) = 1 + e^b steps. Chrono
    initialization draws b = log(u), u ~ U[1, max_length - 1], so the time
    scales 1 + u are spread over [2, max_length], the range of dependencies
    the network should capture.

    LSTM, bias shape (4H,), Keras' gate order i, f, c, o:
    b_f = log(u), b_i = -b_f, b_c = b_o = 0. Requires `unit_forget_bias=False`
    on the layer: with Keras' default `True`, the layer calls the initializer
    on (H,) pieces and sets b_f = 1, which would silently replace chrono, so
    `ChronoBias` raises there.

    GRU (`cell="gru"`), Keras' gate order z, r, h and new state
    h_t = z * h_{t-1} + (1 - z) * hh: z is the fraction kept, the role of
    the paper's forget gate (the paper's GRU writes (1 - z) h_{t-1} + z hh and
    so takes b_z = -log(u)). Here b_z = +log(u), so sigmoid(b_z) >= 1/2 and
    the state is kept for 1 + u steps; b_r = b_h = 0. No input-gate bias is
    set: (1 - z) is already tied to z. Shape (3H,) for `reset_after=False`;
    shape (2, 3H) for `reset_after=True` (Keras' default), where row 0 is the
    input bias and row 1 the recurrent bias, both added to the z
    pre-activation: b_z goes in row 0, row 1 is all zeros.

    Example:

    >>> import keras, numpy as np
    >>> from keras_rnninit import ChronoBias
    >>> b = keras.ops.convert_to_numpy(ChronoBias(100, seed=0)(shape=(4 * 8,)))
    >>> b_i, b_f, b_c, b_o = np.split(b, 4)
    >>> bool(np.all(b_i == -b_f) and np.all(b_c == 0) and np.all(b_o == 0))
    True
    >>> bool(np.all((b_f >= 0) & (b_f <= np.log(99))))
    True
    >>> lstm = keras.layers.LSTM(
    ...     8, bias_initializer=ChronoBias(100), unit_forget_bias=False)
    >>> gru = keras.layers.GRU(8, bias_initializer=ChronoBias(100, cell="gru"))

    Args:
        max_length: Finite number > 2, the longest dependency (in steps)
            the gates should span at initialization (T_max of the paper).
        seed: None, an int, or a `keras.random.SeedGenerator`.
        cell: `"lstm"` (bias (4H,)) or `"gru"` (bias (3H,) or (2, 3H)).

    Reference:
        - [Tallec & Ollivier, 2018, Can recurrent neural networks warp time?](
          https://arxiv.org/abs/1804.11188) (ICLR 2018)
    """

    def __init__(
        self, max_length: float, seed: Seed = None, cell: str = "lstm"
    ) -> None:
        self.max_length = check_max_length(max_length)
        self.cell = check_cell(cell)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        if self.cell == "lstm" and _called_by_unit_forget_bias():
            raise ValueError(
                "`unit_forget_bias` must be False on an LSTM whose "
                "`bias_initializer` is ChronoBias (with True, Keras initializes "
                "the bias in (units,) pieces and sets the forget bias to 1, "
                "replacing chrono). Received: unit_forget_bias=True"
            )
        dtype = float_dtype(dtype)
        units, rows = self._units(shape)
        u = keras.random.uniform(
            (units,),
            minval=1.0,
            maxval=self.max_length - 1.0,
            dtype=compute_dtype(dtype),
            seed=self.seed,
        )
        slow = ops.log(u)
        rest = ops.zeros((2 * units,), dtype=slow.dtype)
        if self.cell == "lstm":
            bias = ops.concatenate([-slow, slow, rest])
        else:
            bias = ops.concatenate([slow, rest])
            if rows == 2:
                bias = ops.stack([bias, ops.zeros_like(bias)])
        return ops.cast(bias, dtype)

    def _units(self, shape):
        """(units, rows) of a bias `shape` of this cell, else raise."""
        gates = 4 if self.cell == "lstm" else 3
        layouts = (
            "(4 * units,)"
            if self.cell == "lstm"
            else "(3 * units,) or, for reset_after=True, (2, 3 * units)"
        )
        try:
            dims = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            dims = ()
        rows = 2 if len(dims) == 2 and dims[0] == 2 and self.cell == "gru" else 1
        if len(dims) != rows or dims[-1] < gates or dims[-1] % gates:
            raise ValueError(
                f"`shape` must be the {self.cell.upper()} bias shape {layouts} "
                f"for ChronoBias(cell={self.cell!r}). Received: shape={shape}"
            )
        return dims[-1] // gates, rows

    def get_config(self):
        return {
            "max_length": self.max_length,
            **super().get_config(),
            "cell": self.cell,
        }
