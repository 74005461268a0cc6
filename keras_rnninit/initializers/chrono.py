"""Chrono initialization of LSTM and GRU gate biases."""

import sys
import warnings

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    Seed,
    SeededInitializer,
    _compute_dtype,
    _float_dtype,
)
from keras_rnninit.initializers.building import GATES, gated_cell
from keras_rnninit.utils.validation import check_number

__all__ = ["ChronoBias"]

CELLS = tuple(sorted(GATES))


def _check_max_length(max_length):
    """Return `max_length` as a float if it is a finite number > 2, else raise."""
    return check_number("max_length", max_length, minimum=2, exclusive=True)


def _check_cell(cell):
    """Return `cell` if it is None or one of `CELLS`, else raise."""
    if cell is not None and not isinstance(cell, str):
        raise TypeError(
            f"`cell` must be one of {', '.join(CELLS)} or None. "
            f"Received: cell={cell!r} of type {type(cell).__name__}"
        )
    if cell is not None and cell not in CELLS:
        raise ValueError(
            f"`cell` must be one of {', '.join(CELLS)} or None. Received: cell={cell!r}"
        )
    return cell


def _dims(shape):
    """`shape` as a tuple of ints, or () when it is not one."""
    try:
        return tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        return ()


def _layout(cell, dims):
    """(units, rows) when `dims` is a bias shape of `cell`, else None.

    LSTM: (4H,). GRU: (3H,), or (2, 3H) with `reset_after=True`.
    """
    gates = GATES[cell]
    rows = 2 if cell == "gru" and len(dims) == 2 and dims[0] == 2 else 1
    if len(dims) != rows or dims[-1] < gates or dims[-1] % gates:
        return None
    return dims[-1] // gates, rows


def _loading_a_file():
    """True while Keras' `load_model` is on the call stack (a `.keras` file
    being read)."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "load_model" and "keras" in code.co_filename:
            return True
        frame = frame.f_back
    return False


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

    GRU, Keras' gate order z, r, h and new state
    h_t = z * h_{t-1} + (1 - z) * hh: z is the fraction kept, the role of
    the paper's forget gate (the paper's GRU writes (1 - z) h_{t-1} + z hh and
    so takes b_z = -log(u)). Here b_z = +log(u), so sigmoid(b_z) >= 1/2 and
    the state is kept for 1 + u steps; b_r = b_h = 0. No input-gate bias is
    set: (1 - z) is already tied to z. Shape (3H,) for `reset_after=False`;
    shape (2, 3H) for `reset_after=True` (Keras' default), where row 0 is the
    input bias and row 1 the recurrent bias, both added to the z
    pre-activation: b_z goes in row 0, row 1 is all zeros.

    Which layout: a (192,) bias is 4 LSTM blocks of 48 or 3 GRU blocks of 64,
    so the shape alone cannot tell. Inside a Keras `LSTMCell` or `GRUCell`
    (subclasses included; `LSTM`, `GRU`, `RNN(cell)` and `Bidirectional`
    build their bias there) the layout is the cell's: its kind, `units` and
    `reset_after`. A `cell` that disagrees with the layer, or a shape that
    is not the layer's bias shape, raises. Called outside such a cell, the
    layout is `cell`'s; with `cell=None` it is the one layout the shape
    fits, and a shape that fits both (4H = 3H') raises and asks for `cell`.
    A `.keras` file saved by keras_rnninit 0.1 (whose default was
    `cell="lstm"`) loads with a warning: the layer's layout is used, and the
    file's saved weights replace it anyway.

    Example:

        >>> import keras, numpy as np
        >>> from keras_rnninit import ChronoBias
        >>> chrono = ChronoBias(100, seed=0, cell="lstm")
        >>> b = keras.ops.convert_to_numpy(chrono((4 * 8,)))
        >>> b_i, b_f, b_c, b_o = np.split(b, 4)
        >>> bool(np.all(b_i == -b_f) and np.all(b_c == 0) and np.all(b_o == 0))
        True
        >>> bool(np.all((b_f >= 0) & (b_f <= np.log(99))))
        True
        >>> lstm = keras.layers.LSTM(
        ...     8, bias_initializer=ChronoBias(100), unit_forget_bias=False)
        >>> gru = keras.layers.GRU(8, bias_initializer=ChronoBias(100))

    Args:
        max_length: Finite number > 2, the longest dependency (in steps)
            the gates should span at initialization (T_max of the paper).
        seed: None, an int, or a `keras.random.SeedGenerator`.
        cell: None (default: the kind of the LSTM or GRU cell whose bias is
            built), `"lstm"` (bias (4H,)) or `"gru"` (bias (3H,) or
            (2, 3H)); inside a cell it must match the cell.

    Reference:
        - [Tallec & Ollivier, 2018, Can recurrent neural networks warp time?](
          https://arxiv.org/abs/1804.11188) (ICLR 2018)
    """

    def __init__(
        self, max_length: float, seed: Seed = None, cell: str | None = None
    ) -> None:
        self.max_length = _check_max_length(max_length)
        self.cell = _check_cell(cell)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        cell, units, rows = self._layout(shape)
        dtype = _float_dtype(dtype)
        u = keras.random.uniform(
            (units,),
            minval=1.0,
            maxval=self.max_length - 1.0,
            dtype=_compute_dtype(dtype),
            seed=self.seed,
        )
        slow = ops.log(u)
        rest = ops.zeros((2 * units,), dtype=slow.dtype)
        if cell == "lstm":
            bias = ops.concatenate([-slow, slow, rest])
        else:
            bias = ops.concatenate([slow, rest])
            if rows == 2:
                bias = ops.stack([bias, ops.zeros_like(bias)])
        return ops.cast(bias, dtype)

    def _layout(self, shape):
        """(cell, units, rows) of the bias `shape` being built, else raise."""
        dims = _dims(shape)
        found = gated_cell()
        if found is not None:
            return self._layout_in(*found, shape, dims)
        if self.cell is not None:
            layout = _layout(self.cell, dims)
            if layout is None:
                layouts = (
                    "(4 * units,)"
                    if self.cell == "lstm"
                    else "(3 * units,) or, for reset_after=True, (2, 3 * units)"
                )
                raise ValueError(
                    f"`shape` must be the {self.cell.upper()} bias shape {layouts} "
                    f"for ChronoBias(cell={self.cell!r}). Received: shape={shape}"
                )
            return (self.cell, *layout)
        fits = [cell for cell in CELLS if _layout(cell, dims) is not None]
        if not fits:
            raise ValueError(
                "`shape` must be an LSTM bias shape (4 * units,) or a GRU one, "
                "(3 * units,) or (2, 3 * units), for ChronoBias. "
                f"Received: shape={shape}"
            )
        if len(fits) > 1:
            raise ValueError(
                "`cell` must be 'gru' or 'lstm' for ChronoBias called outside "
                f"an LSTM or GRU cell on a shape that fits both, {dims} = "
                f"4 x {dims[0] // 4} (LSTM) = 3 x {dims[0] // 3} (GRU): pass "
                "cell=. Received: cell=None"
            )
        return (fits[0], *_layout(fits[0], dims))

    def _layout_in(self, kind, cell, shape, dims):
        """(kind, units, rows) of the bias of the Keras `cell` building it."""
        name = f"{type(cell).__name__} {cell.name!r}"
        if self.cell is not None and self.cell != kind and self._saved:
            # keras_rnninit 0.1 saved cell='lstm' (its default) for every
            # layer: the file must still load, and its saved weights replace
            # whatever is drawn here.
            warnings.warn(
                f"ChronoBias(cell={self.cell!r}) from a saved config initializes "
                f"the bias of {name}: the cell's {kind!r} layout is used (files "
                "saved by keras_rnninit 0.1 store cell='lstm' for a GRU too)",
                stacklevel=2,
            )
        elif self.cell is not None and self.cell != kind:
            raise ValueError(
                f"`cell` must be {kind!r} or None for ChronoBias initializing "
                f"the bias of {name}. Received: cell={self.cell!r}"
            )
        units = cell.units
        if (
            kind == "lstm"
            and cell.unit_forget_bias
            and dims in ((units,), (2 * units,))
        ):
            # Keras' `unit_forget_bias=True` closure: (H,) and (2H,) pieces.
            raise ValueError(
                "`unit_forget_bias` must be False on an LSTM whose "
                "`bias_initializer` is ChronoBias (with True, Keras initializes "
                "the bias in (units,) pieces and sets the forget bias to 1, "
                "replacing chrono). Received: unit_forget_bias=True"
            )
        rows = 2 if kind == "gru" and cell.reset_after else 1
        expected = (GATES[kind] * units,)
        expected = (2, *expected) if rows == 2 else expected
        if dims != expected:
            raise ValueError(
                f"`shape` must be the bias shape {expected} of {name} "
                f"(units={units}) that ChronoBias initializes. Received: shape={shape}"
            )
        return kind, units, rows

    _saved = False  # True for an instance read from a saved model file

    @classmethod
    def from_config(cls, config):
        instance = super().from_config(config)
        instance._saved = _loading_a_file()
        return instance

    def get_config(self):
        return {
            "max_length": self.max_length,
            **super().get_config(),
            "cell": self.cell,
        }
