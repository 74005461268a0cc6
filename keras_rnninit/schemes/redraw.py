"""Re-draw the weights of an existing model by a scheme: `schemes.reinitialize`.

`Scheme.build_model` builds the scheme's own `Input -> RNN -> Dense` model;
`reinitialize` takes the user's model instead (any Sequential or functional
graph: stacked, bidirectional, nested) and returns a fresh copy whose
recurrent layers are initialized by the scheme.
"""

import contextlib
import dataclasses
import itertools
import random as python_random
from typing import NamedTuple

import keras

from keras_rnninit.schemes import bundles as schemes
from keras_rnninit.utils.seeding import derive_seed

__all__ = ["Change", "Reinitialized", "reinitialize"]

# The scheme cell (`Scheme.cells`) of each Keras cell class, subclasses
# included (XavierLSTMCell is an LSTMCell), and how messages name it.
_KINDS = (
    (keras.layers.LSTMCell, "lstm"),
    (keras.layers.GRUCell, "gru"),
    (keras.layers.SimpleRNNCell, "simple"),
)
_LABELS = {"gru": "GRU", "lstm": "LSTM", "simple": "SimpleRNN"}
# The seed index of Python's `random` while the copy is built (see
# `_python_random`); the layers' own indices count up from 0.
_HIDDEN_SEEDS = 2**32


class Change(NamedTuple):
    """One setting of a recurrent layer that the scheme switched.

    `layer` is the path of the cell's layer in the model (nested models and
    Bidirectional directions joined by "/", e.g.
    "encoder/bidirectional/forward_lstm"; the cells of a stacked `RNN` get
    "/cells[i]"), `change` e.g. "activation: tanh -> relu".
    """

    layer: str
    change: str


@dataclasses.dataclass(frozen=True)
class Reinitialized:
    """The result of `reinitialize`.

    Attributes:
        model: The new model: same classes, layer names and compile settings.
        changes: The settings the scheme switched beyond the initializers
            (activation, LSTM `unit_forget_bias`), one `Change` per layer and
            setting, in model order; empty when the scheme fits the model.
        scheme: The scheme's name.
        seed: The seed every weight was derived from.
    """

    model: keras.Model
    changes: tuple[Change, ...]
    scheme: str
    seed: int


def reinitialize(model: keras.Model, scheme, seed: int = 0) -> Reinitialized:
    """A new `model` whose recurrent layers are initialized by `scheme`.

    The copy has the architecture, layer classes (custom registered ones and
    `FastSimpleRNN` included), layer names and compile settings of `model`;
    `model` itself (weights and config) is left as it was. Each recurrent
    cell (SimpleRNN, FastSimpleRNN, LSTM, GRU, `RNN(cell)` with Keras' cells
    or ours, each cell of a stacked `RNN`, each direction of a
    `Bidirectional`, inside nested models too) gets the scheme's Wxh, Whh
    and bias initializers from `Scheme.initializers(units, seed_k, cell)`,
    per gate for LSTM and GRU exactly as `build_model(cell=...)`, the
    scheme's activation and, for an LSTM, its `unit_forget_bias`. Every
    other weight (Dense, Embedding, a cell's extra weights, ...) is drawn
    from its layer's own configured initializer, re-seeded.

    Seeds: the k-th layer or cell of the copy (in Keras' cloning order) gets
    seed_k = derive_seed(seed, k) and each of its initializers its own seed
    derived from seed_k, so the same `seed` gives the same weights and two
    seeds two independent networks, Bidirectional directions and stacked
    cells included. An initializer's seed in the model's config (e.g.
    `GlorotUniform(seed=42)`) is replaced; the copy's config records the
    seeds used. Initializers with no seed (zeros, constants) repeat.

    Compile settings: a compiled model gives a copy compiled from
    `model.get_compile_config()` (as loading a `.keras` file does): same
    loss, metrics and loss weights, and a fresh optimizer of the same class
    and config (no slots, `iterations` 0). An uncompiled model gives an
    uncompiled copy.

    Example:

        >>> import keras, numpy as np
        >>> from keras_rnninit import schemes
        >>> model = keras.Sequential([keras.Input((None, 3)),
        ...     keras.layers.SimpleRNN(8, name="rnn"), keras.layers.Dense(1)])
        >>> result = schemes.reinitialize(model, "irnn", seed=0)
        >>> result.changes
        (Change(layer='rnn', change='activation: tanh -> relu'),)
        >>> whh = result.model.get_layer("rnn").get_weights()[1]
        >>> bool(np.array_equal(whh, np.eye(8)))
        True

    Args:
        model: A Sequential or functional `keras.Model` with at least one
            recurrent layer (anywhere inside it).
        scheme: A scheme name (`schemes.names(None)`) or a `Scheme`; it must
            support the cell of every recurrent layer (`Scheme.cells`).
        seed: Int; every weight's seed is derived from it.

    Returns:
        `Reinitialized(model, changes, scheme, seed)`; `changes` lists the
        activations and LSTM forget biases switched, layer by layer.
    """
    scheme = _check_scheme(scheme)
    _check_args(model, seed)
    cells = [(path, layer) for path, layer, cell in _descendants(model) if cell]
    _check_cells(model, scheme, cells)
    paths = {id(layer): path for path, layer, _ in _descendants(model)}
    counter = itertools.count()
    changes, done = [], set()

    def clone(layer):
        if id(layer) not in paths:
            # An operation of the graph that is no layer (e.g. the not_equal
            # of Embedding(mask_zero=True)'s mask): no weights, kept as is.
            return layer
        new = type(layer).from_config(_unbuilt(layer.get_config()))
        for path, inner, cell in _nodes(new, paths[id(layer)]):
            layer_seed = derive_seed(seed, next(counter))
            _reseed(inner, layer_seed)
            if cell and not inner.built:
                changes.extend(_apply(scheme, inner, path, layer_seed))
                done.add(id(inner))
        return new

    with _python_random(derive_seed(seed, _HIDDEN_SEEDS)):
        new = keras.models.clone_model(model, clone_function=clone, recursive=True)
    missed = [p for p, x, cell in _descendants(new) if cell and id(x) not in done]
    if missed or (model.compiled and not new.compiled):
        what = (
            f"the cells of {', '.join(map(repr, missed))} are built by their "
            "layer's constructor or made in build()"
            if missed
            else "its compile() is overridden (no compile_from_config)"
        )
        raise ValueError(
            f"`model` must be rebuildable from its layers' configs; {what}. "
            f"Received: model={model.name!r} of type {type(model).__name__}"
        )
    return Reinitialized(new, tuple(changes), scheme.name, seed)


def _unbuilt(config):
    """`config` without the `build_config` of the layers serialized in it.

    A layer's config holds its sublayers serialized (an RNN's cell, a
    Bidirectional's layer), with their build config when they were built;
    `from_config` would then build them at once, drawing their weights from
    the old initializers before the scheme's are set.
    """
    if isinstance(config, dict):
        serialized = "class_name" in config
        return {
            key: _unbuilt(value)
            for key, value in config.items()
            if not (serialized and key == "build_config")
        }
    if isinstance(config, (list, tuple)):
        return type(config)(_unbuilt(value) for value in config)
    return config


def _check_scheme(scheme):
    """The `Scheme` named `scheme` (any registered cell), else raise. A
    length-aware scheme is refused: a model has no task length to set it."""
    if not isinstance(scheme, schemes.Scheme):
        known = schemes.names(None)
        if not isinstance(scheme, str):
            raise TypeError(
                f"`scheme` must be a scheme name (str) or a `Scheme`. "
                f"Received: scheme={scheme!r} of type {type(scheme).__name__}"
            )
        if scheme not in known:
            raise ValueError(
                f"`scheme` must be one of {', '.join(known)}. "
                f"Received: scheme={scheme!r}"
            )
        scheme = schemes.get(scheme)
    if scheme.needs_length:
        raise ValueError(
            f"`scheme` must not be length-aware ({scheme.name!r} takes T from a "
            f"task's length); pass `schemes.get({scheme.name!r}).for_length(T)` "
            f"or `schemes.chrono(T_max)`. Received: scheme={scheme.name!r}"
        )
    return scheme


def _check_args(model, seed):
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"`model` must be a `keras.Model`. Received: model={model!r} "
            f"of type {type(model).__name__}"
        )
    if not _graph(model):
        raise ValueError(
            "`model` must be a Sequential or functional `keras.Model` (Keras "
            "rebuilds no subclassed model layer by layer; nest it in one). "
            f"Received: model={model.name!r} of type {type(model).__name__}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"`seed` must be an int. Received: seed={seed!r} "
            f"of type {type(seed).__name__}"
        )


def _check_cells(model, scheme, cells):
    """Raise unless `model` has a recurrent cell and `scheme` defines each."""
    if not cells:
        found = ", ".join(
            f"{path} ({type(layer).__name__})" for path, layer, _ in _descendants(model)
        )
        raise ValueError(
            "`model` must contain a recurrent layer (SimpleRNN, LSTM, GRU, "
            f"RNN(cell), Bidirectional); its layers are {found or 'none'}. "
            f"Received: model={model.name!r}"
        )
    for path, cell in cells:
        kind = _kind(cell)
        if kind not in scheme.cells:
            what = _LABELS.get(kind, "unknown")
            raise ValueError(
                f"`scheme` must support the cell of every recurrent layer; "
                f"{scheme.name!r} supports {', '.join(sorted(scheme.cells))} but "
                f"layer {path!r} has cell type {what} ({type(cell).__name__}). "
                f"Received: scheme={scheme.name!r}"
            )


def _kind(cell):
    """`"lstm"`, `"gru"`, `"simple"` for a Keras cell (subclasses too), else None."""
    for cls, kind in _KINDS:
        if isinstance(cell, cls):
            return kind
    return None


def _graph(model):
    """Whether Keras' `clone_model` rebuilds `model` layer by layer: a
    Sequential or a functional model (Keras has no public Functional class)."""
    return isinstance(model, keras.Sequential) or any(
        cls.__name__ == "Functional" for cls in type(model).__mro__
    )


def _nodes(layer, path):
    """`(path, layer, is_cell)` for `layer` and every layer inside it, depth first.

    `is_cell` marks the cells of a `keras.layers.RNN` (each cell of a stacked
    RNN apart); sublayers are what Keras itself tracks (a Model's layers, a
    Bidirectional's two directions, a custom layer's attributes).
    """
    yield path, layer, False
    if isinstance(layer, keras.layers.RNN):
        cell = layer.cell
        if isinstance(cell, keras.layers.StackedRNNCells):
            for i, inner in enumerate(cell.cells):
                yield from _cell_nodes(inner, f"{path}/cells[{i}]")
        else:
            yield from _cell_nodes(cell, path)
        return
    # Layer has no public list of its sublayers; this is what Model.layers and
    # Layer.weights read.
    for inner in layer._flatten_layers(include_self=False, recursive=False):
        if not isinstance(inner, keras.layers.InputLayer):
            yield from _nodes(inner, f"{path}/{inner.name}" if path else inner.name)


def _cell_nodes(cell, path):
    nodes = _nodes(cell, path)
    next(nodes)
    yield path, cell, True
    yield from nodes


def _descendants(model):
    """`_nodes` of everything inside `model` (paths from its layer names)."""
    return itertools.islice(_nodes(model, ""), 1, None)


def _reseed(layer, layer_seed):
    """Give each seeded initializer attribute of `layer` a seed derived from
    `layer_seed` (index 0 is the scheme's, see `_apply`)."""
    found = sorted(
        (name, value)
        for name, value in vars(layer).items()
        if isinstance(value, keras.initializers.Initializer)
    )
    for index, (name, initializer) in enumerate(found, start=1):
        config = initializer.get_config()
        if "seed" in config:
            config["seed"] = derive_seed(layer_seed, index)
            setattr(layer, name, type(initializer).from_config(config))


def _apply(scheme, cell, path, layer_seed):
    """Set `scheme`'s initializers and settings on an unbuilt `cell`; return
    the `Change`s of its settings."""
    kind = _kind(cell)
    inits = scheme.initializers(cell.units, derive_seed(layer_seed, 0), kind)
    cell.kernel_initializer = inits.kernel
    cell.recurrent_initializer = inits.recurrent
    cell.bias_initializer = inits.bias
    changes = []
    before = keras.activations.serialize(cell.activation)
    if before != scheme.activation:
        cell.activation = keras.activations.get(scheme.activation)
        changes.append(Change(path, f"activation: {before} -> {scheme.activation}"))
    forget = scheme.unit_forget_bias
    if kind == "lstm" and cell.unit_forget_bias != forget:
        changes.append(
            Change(path, f"unit_forget_bias: {cell.unit_forget_bias} -> {forget}")
        )
        cell.unit_forget_bias = forget
    return changes


@contextlib.contextmanager
def _python_random(seed):
    """Seed Python's `random` for the block, then restore its state.

    An initializer or dropout seed left at None is drawn from Python's
    `random` when the object is made (Keras' `make_default_seed`), including
    those a custom layer creates in `build()` where no config reaches them;
    seeding it makes those repeat for the same `seed` too.
    """
    state = python_random.getstate()
    python_random.seed(seed)
    try:
        yield
    finally:
        python_random.setstate(state)
