"""The loss `fit` minimises, differentiated around one recurrent layer.

`fit` differentiates L = model.compute_loss(x, y, model(x), sample_weight):
the compiled loss with its reduction, the output mask Keras applies to it
(from `Embedding(mask_zero=True)` or `Masking`, carried through the layers
after the RNN), the sample weights and the model's added losses
(regularizers). The diagnostics take the direct gradient d = dL/d(outputs of
the recurrent layer) from that very loss on the real model: `substituted`
swaps the layer's `call` for one that returns given tensors (Keras still
attaches the output mask to them), the model runs forward in inference mode,
and the backend's autodiff differentiates L w.r.t. those tensors. Every layer
before, after or beside the RNN (pooling that uses the mask, skip connections,
several model inputs, the other direction of a Bidirectional) is the real one.

The loss is the model's own `compute_loss` when the model is compiled and no
`loss` is given; otherwise `loss` (default MSE) wrapped as `compile` wraps it,
plus the model's added losses: what `fit` would minimise after
`model.compile(loss=loss)`.
"""

import contextlib
import inspect

import keras
import numpy as np

__all__ = [
    "differentiated_loss",
    "kept_states",
    "layer_arguments",
    "loss_gradients",
    "resolve_loss",
    "substituted",
    "weights_beside",
]


def _compiled(model):
    """True when `model.compute_loss` has a loss to compute (compiled with a
    `loss`, or a subclass that overrides `compute_loss`)."""
    if not getattr(model, "compiled", False):
        return False
    overridden = type(model).compute_loss is not keras.Model.compute_loss
    return getattr(model, "loss", None) is not None or overridden


class _FunctionLoss(keras.losses.Loss):
    """A loss function as `compile` wraps it (Keras' LossFunctionWrapper):
    y_true and y_pred brought to the same rank (a trailing axis of 1), then
    `keras.losses.Loss` applies the mask, the sample weights and the mean over
    the batch."""

    def __init__(self, fn, name=None):
        super().__init__(name=name)
        self.fn = fn

    def call(self, y_true, y_pred):
        y_true, y_pred = _same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred)


def _same_rank(y_true, y_pred):
    """Keras' `squeeze_or_expand_to_same_rank(y_true, y_pred)`: a rank-1 side
    gains the trailing axis of 1 the other has; otherwise that axis goes."""
    true_rank, pred_rank = len(y_true.shape), len(y_pred.shape)
    if true_rank == pred_rank + 1 and y_true.shape[-1] == 1:
        if pred_rank == 1:
            y_pred = keras.ops.expand_dims(y_pred, -1)
        else:
            y_true = keras.ops.squeeze(y_true, -1)
    elif pred_rank == true_rank + 1 and y_pred.shape[-1] == 1:
        if true_rank == 1:
            y_true = keras.ops.expand_dims(y_true, -1)
        else:
            y_pred = keras.ops.squeeze(y_pred, -1)
    return y_true, y_pred


def resolve_loss(model, loss=None):
    """`loss` (name, function or Loss), else the compiled loss, else MSE, as
    `keras.losses.get` gives it. Kept for callers of 0.1; the diagnostics
    differentiate the model's whole `compute_loss` (see the module docstring)."""
    chosen = loss if loss is not None else getattr(model, "loss", None) or "mse"
    return keras.losses.get(chosen)


def differentiated_loss(model, loss=None):
    """The `keras.losses.Loss` the diagnostics differentiate, or None for the
    model's own `compute_loss` (a compiled model and no `loss`). A name or a
    function is wrapped as `compile` wraps it (mean over the batch); an
    uncompiled model defaults to MSE."""
    if loss is None and _compiled(model):
        return None
    found = keras.losses.get(loss if loss is not None else "mse")
    if isinstance(found, keras.losses.Loss):
        return found
    name = loss if isinstance(loss, str) else getattr(found, "__name__", None)
    return _FunctionLoss(found, name=name)


@contextlib.contextmanager
def substituted(layer, replace):
    """Within the block, a call of `layer` runs `replace(arguments)` instead of
    the layer's loop, `arguments` being {parameter name: value} of the call
    (sequence first, then `initial_state`, `mask`, `training`); the rest of
    `Layer.__call__` (the output mask, activity regularizers) runs as usual.
    Yields the list of the calls' arguments; the layer must be called exactly
    once (checked on leaving the block)."""
    signature = inspect.signature(layer.call)
    calls = []

    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        calls.append(dict(bound.arguments))
        return replace(calls[-1])

    # An instance attribute shadows the class's `call`; `Layer.__call__`
    # looks it up on every call.
    object.__setattr__(layer, "call", call)
    try:
        yield calls
    finally:
        object.__delattr__(layer, "call")
    if len(calls) != 1:
        raise ValueError(
            f"`layer` must be called once by the model's forward pass for the "
            f"diagnostics (a shared layer is not taken apart; a fused "
            f"Bidirectional kernel skips it). Received: layer={layer.name!r} "
            f"called {len(calls)} times"
        )


def _stateful_layers(model):
    """The stateful recurrent layers of `model`: in nested models too, and
    each direction of a Bidirectional."""
    found, stack = [], list(model.layers)
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.Bidirectional):
            stack += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, keras.Model):
            stack += layer.layers
        elif getattr(layer, "stateful", False) and getattr(layer, "states", None):
            found.append(layer)
    return found


@contextlib.contextmanager
def kept_states(model):
    """Restore the state variables of the model's stateful RNN layers on
    exit. Every forward pass of the diagnostics runs inside it: each starts
    from the state training left, and none advances the state training sees."""
    saved = [
        (v, keras.ops.convert_to_numpy(v))
        for layer in _stateful_layers(model)
        for v in layer.states
    ]
    try:
        yield
    finally:
        for variable, value in saved:
            variable.assign(value)


def _training_kwargs(model):
    parameters = inspect.signature(model.call).parameters
    return {"training": False} if "training" in parameters else {}


def layer_arguments(model, layer, x, placeholder):
    """The arguments `layer` receives when `model(x)` runs (inference mode):
    {parameter name: value}. The layer's loop does not run: its call returns
    `placeholder(arguments)` to the layers after it."""
    with kept_states(model), substituted(layer, placeholder) as calls:
        model(x, **_training_kwargs(model))
    return calls[0]


def _refuse_replicas():
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    if tf.distribute.has_strategy():
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            # Keras scales a mean loss by 1 / replicas in a strategy's scope.
            raise ValueError(
                "the diagnostics must run outside a tf.distribute strategy's "
                "scope (Keras scales the loss by 1 / replicas inside it). "
                f"Received: a strategy with {replicas} replicas"
            )


def _added(losses):
    """The model's added losses as `compute_loss` sums them."""
    total = 0.0
    for value in losses:
        if not keras.backend.is_float_dtype(value.dtype):
            value = keras.ops.cast(value, keras.backend.floatx())
        total = total + keras.ops.sum(value)
    return total


def _explicit(loss, y, y_pred, sample_weight, losses):
    if isinstance(y_pred, (list, tuple, dict)):
        raise ValueError(
            "`loss` must be None (the compiled loss) for a model with several "
            f"outputs. Received: loss={loss.name!r}"
        )
    return loss(y, y_pred, sample_weight) + _added(losses)


@contextlib.contextmanager
def _kept_metrics(model):
    """Restore the compiled metrics' variables (a multi-output compiled loss
    updates its per-output trackers when called)."""
    saved = [(v, keras.ops.convert_to_numpy(v)) for v in model.metrics_variables]
    try:
        yield
    finally:
        for variable, value in saved:
            if not np.array_equal(keras.ops.convert_to_numpy(variable), value):
                variable.assign(value)


def loss_gradients(
    model, x, y, sample_weight=None, loss=None, layer=None, outputs=(), variables=()
):
    """dL/d`outputs` and dL/d`variables` (float64 numpy), L the loss `fit`
    minimises on (x, y, sample_weight) (see the module docstring), the model
    in inference mode. With `layer`, its call returns `outputs` (arrays: the
    layer's output and, with `return_state`, its final states) instead of
    running; without it the whole model runs. A variable L does not depend
    on gets zeros."""
    _refuse_replicas()
    loss = differentiated_loss(model, loss)
    tensors = [keras.ops.convert_to_tensor(o, _dtype(layer)) for o in outputs]

    def returned(watched):
        return watched[0] if len(watched) == 1 else tuple(watched)

    def patched(watched):
        if layer is None:
            return contextlib.nullcontext()
        return substituted(layer, lambda arguments: returned(watched))

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with kept_states(model), _kept_metrics(model), tf.GradientTape() as tape:
            tape.watch(tensors)
            with patched(tensors):
                y_pred = model(x, **_training_kwargs(model))
            if loss is None:
                value = model.compute_loss(
                    x=x, y=y, y_pred=y_pred, sample_weight=sample_weight
                )
            else:
                value = _explicit(loss, y, y_pred, sample_weight, model.losses)
        sources = [*tensors, *variables]
        grads = [
            np.zeros(tuple(s.shape)) if g is None else tf.convert_to_tensor(g)
            for s, g in zip(sources, tape.gradient(value, sources), strict=True)
        ]
    elif backend == "jax":
        import jax

        trainable = model.trainable_variables
        fixed = [v.value for v in model.non_trainable_variables]
        metrics = [v.value for v in model.metrics_variables]

        def objective(watched, values):
            with patched(watched):
                if loss is None:
                    value, _ = model.compute_loss_and_updates(
                        values, fixed, metrics, x, y, sample_weight, training=False
                    )
                    return value
                y_pred, _, losses = model.stateless_call(
                    values, fixed, x, return_losses=True, **_training_kwargs(model)
                )
                return _explicit(loss, y, y_pred, sample_weight, losses)

        on_outputs, on_all = jax.grad(objective, argnums=(0, 1))(
            tensors, [v.value for v in trainable]
        )
        by_id = {id(v): g for v, g in zip(trainable, on_all, strict=True)}
        grads = [*on_outputs, *(by_id[id(v)] for v in variables)]
    else:
        raise ValueError(
            "the diagnostics need the tensorflow or jax backend. "
            f"Received: backend={backend!r}"
        )
    grads = [np.asarray(keras.ops.convert_to_numpy(g), "float64") for g in grads]
    return grads[: len(tensors)], grads[len(tensors) :]


def _dtype(layer):
    return "float32" if layer is None else layer.compute_dtype


def _owner(model, layer):
    """The layer of `model.layers` that runs `layer`: itself, or the
    Bidirectional wrapper of which it is a direction."""
    for candidate in model.layers:
        if candidate is layer:
            return layer
        if isinstance(candidate, keras.layers.Bidirectional) and layer in (
            candidate.forward_layer,
            candidate.backward_layer,
        ):
            return candidate
    raise ValueError(
        f"`layer` must be a layer of the model (or a direction of one of its "
        f"Bidirectional layers). Received: layer={layer.name!r}"
    )


def weights_beside(model, layer):
    """The model's trainable variables whose gradient a substituted run
    gives exactly: all but the layer's own and those of every layer its input
    depends on (found in the model's graph; a model without one, e.g. a
    subclassed model, gives none)."""
    nodes = list(getattr(_owner(model, layer), "_inbound_nodes", []))
    if not nodes:
        return []
    upstream, seen = {}, set()
    while nodes:
        for parent in nodes.pop().parent_nodes:
            if id(parent) not in seen:
                seen.add(id(parent))
                upstream[id(parent.operation)] = parent.operation
                nodes.append(parent)
    excluded = {id(v) for v in layer.trainable_variables}
    for operation in upstream.values():
        excluded.update(id(v) for v in getattr(operation, "trainable_variables", []))
    return [v for v in model.trainable_variables if id(v) not in excluded]
