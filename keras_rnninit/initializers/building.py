"""The Keras LSTM or GRU cell whose weight an initializer is building.

Keras calls an initializer with a shape only: `initializer(shape, dtype)`.
A shape cannot tell the layouts of gated cells apart: a (192,) bias is an
LSTM's four (48,) gate blocks or a GRU's three (64,) ones. The cell is
known one level up: Keras' `Layer.add_weight`, which calls the
initializer, runs as a method of the layer that builds the weight, so its
`self` is that layer. `gated_cell()` walks up the Python call stack to the
innermost `add_weight` and returns its layer when it is a
`keras.layers.LSTMCell` or `keras.layers.GRUCell`, subclasses included.
`keras.layers.LSTM`, `GRU`, `RNN(cell)` and `Bidirectional` all build their
weights in their cell, so all are found.

A weight whose initialization Keras defers (a layer built inside a
`keras.StatelessScope`) is initialized later, outside `add_weight`; there,
as for a direct call `initializer(shape)`, no cell is found.
"""

import sys

import keras

__all__ = ["GATES", "gated_cell"]

# The number of gate blocks concatenated along the last axis of each weight:
# Keras' LSTM i, f, c, o; GRU z, r, h.
GATES = {"gru": 3, "lstm": 4}


def _building_layer():
    """The layer whose `add_weight` is on the call stack (innermost), or None."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "add_weight":
            layer = frame.f_locals.get("self")
            if isinstance(layer, keras.layers.Layer):
                return layer
        frame = frame.f_back
    return None


def gated_cell():
    """`(kind, cell)` of the LSTM or GRU cell building a weight, else None.

    `kind` is `"lstm"` for a `keras.layers.LSTMCell`, `"gru"` for a
    `keras.layers.GRUCell` (subclasses included); `cell` is the cell object,
    whose `units` (and `reset_after`, `unit_forget_bias`, ...) describe the
    layout of every weight it builds. None when the innermost
    `Layer.add_weight` on the stack belongs to another layer, or when there
    is none (a direct call).
    """
    layer = _building_layer()
    if isinstance(layer, keras.layers.LSTMCell):
        return "lstm", layer
    if isinstance(layer, keras.layers.GRUCell):
        return "gru", layer
    return None
