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

A weight whose initialization Keras defers is initialized later, outside
`add_weight`: a subclassed model builds its layers while tracing its `call`
in a `keras.StatelessScope`, and its variables are initialized when the
scope exits (or read, symbolically, inside it). There the innermost Keras
`Variable` whose `_deferred_initialize` or `value` is on the stack is the
weight, and its owner is found among the sublayers of the outermost layer
on the stack (the model being built). A direct call `initializer(shape)`
finds no cell.
"""

import sys

import keras

__all__ = ["GATES", "gate_blocks_hint", "gated_cell", "gated_square_blocks"]

# The number of gate blocks concatenated along the last axis of each weight:
# Keras' LSTM i, f, c, o; GRU z, r, h.
GATES = {"gru": 3, "lstm": 4}


def _building_layer():
    """The layer whose weight is being initialized (innermost), or None.

    The `self` of the innermost `Layer.add_weight` on the stack; for a
    deferred initialization, the layer that owns the `Variable` being
    initialized (see the module docstring).
    """
    frame = sys._getframe(1)
    variable = outermost = None
    while frame is not None:
        name = frame.f_code.co_name
        owner = frame.f_locals.get("self")
        if variable is None:
            if name == "add_weight" and isinstance(owner, keras.layers.Layer):
                return owner
            if name in _DEFERRED and isinstance(owner, keras.Variable):
                variable = owner
        elif isinstance(owner, keras.layers.Layer):
            outermost = owner
        frame = frame.f_back
    if outermost is None:
        return None
    return _owner(outermost, variable)


# The Keras `Variable` methods that call the initializer of a deferred weight.
_DEFERRED = ("_deferred_initialize", "value")


def _owner(root, variable):
    """The layer under `root` (included) that holds `variable` itself, or None."""
    # `_flatten_layers` is Keras' own walk of a layer's tracked sublayers.
    flatten = getattr(root, "_flatten_layers", None)
    layers = [root] if flatten is None else flatten(include_self=True, recursive=True)
    for layer in layers:
        held = getattr(layer, "_trainable_variables", []) + getattr(
            layer, "_non_trainable_variables", []
        )
        if any(weight is variable for weight in held):
            return layer
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


def gated_square_blocks(shape):
    """`(gates, cell)` when `shape` is square gate blocks of the building cell.

    An LSTM or GRU cell of `units` H builds its recurrent kernel as `gates`
    square (H, H) blocks side by side, shape (H, gates * H) (and its input
    kernel too when input_dim == H). Returns None for any other shape or
    when no such cell is building the weight.
    """
    found = gated_cell()
    if found is None:
        return None
    kind, cell = found
    gates = GATES[kind]
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        return None
    if dims != (cell.units, gates * cell.units):
        return None
    return gates, cell


def gate_blocks_hint(shape, initializer, per_gate):
    """The clause a square-only `initializer` adds to its shape error, or "".

    Non-empty when `shape` is the (units, k * units) weight of a building
    LSTM or GRU cell: it says how to initialize it (`per_gate`: the
    initializer takes `gates`; otherwise it has no per-gate form).
    """
    blocks = gated_square_blocks(shape)
    if blocks is None:
        return ""
    gates, cell = blocks
    where = f"{type(cell).__name__} {cell.name!r} builds it as {gates} gate blocks"
    if per_gate:
        return f"; {where}: pass {initializer}(gates={gates}) or gates=None"
    return (
        f"; {where} and {initializer} has no per-gate form: use it on a "
        f"SimpleRNN, or SpectralRadius(gates={gates}) here"
    )
