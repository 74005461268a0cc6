"""Hidden states and gradients through time of a SimpleRNN-style layer.

The replay follows Keras' loop exactly. In processing order (reversed inputs
when `go_backwards`), from the initial state s_0 (zeros, the `initial_state`
passed to the layer, or a stateful layer's current state):

    a_t = x_t Wxh + b + s_{t-1} Whh,   h_t = act(a_t),
    s_t = m_t h_t + (1 - m_t) s_{t-1}              (masked steps carry s),
    o_t = m_t h_t + (1 - m_t) o_{t-1}  (o_0 = 0; 0 with zero_output_for_mask),

with m_t = 1 where the step is not masked. Backwards, with g_t = dL/ds_t the
total gradient and d_t the direct one (from the model around the RNN, routed
through the outputs o and, with `return_state`, the final state):

    g_{t-1} = d_{t-1} + (1 - m_t) g_t + (m_t g_t * act'(a_t)) Whhᵀ,   g_T = d_T.

g_t is the gradient w.r.t. the carried state. At a real step s_t = h_t, so
g_t is dL/dh_t (a change of h_t moves s_t and o_t alike). At a masked step
h_t is dropped and g_t is what a change of the carried state does: 0 after a
sequence's end (unless `return_state` returns it), before its start the
gradient reaching s_0. So the vanishing ratio compares each sequence's first
and last real steps (`profiles._sequence_ratio_log10`).

The layer's inputs x_t, mask and initial state are what the real model hands
the layer on the probe input (`fit_loss.layer_arguments`), and d comes from a
tape on the loss `fit` minimises, with the layer's output replaced by the
replay's (`fit_loss.loss_gradients`): masks, sample weights, the compiled
loss and its reduction, any layers before, after or beside the RNN.

Everything else runs in float64 numpy from the layer's weights. The gradients
are kept as a mantissa per step times 2**exponent (one exponent per step), so
they never underflow: ||g_t|| is right far below 1e-308, and it is 0 only
when every entry is exactly 0 (e.g. tanh'(a) = 1 - h² is exactly 0 where tanh
is saturated to float precision).
"""

import dataclasses

import keras
import numpy as np

from keras_rnninit.diagnostics.fit_loss import (
    _owner,
    layer_arguments,
    loss_gradients,
    weights_beside,
)
from keras_rnninit.utils.activations import DERIVATIVES

__all__ = [
    "Gradients",
    "RecurrentParts",
    "Trace",
    "backprop_through_time",
    "capture",
    "cell_kind",
    "direct_gradient",
    "find_recurrent_layer",
    "forward",
    "head_gradients",
    "layer_inputs",
    "recurrent_layers",
    "recurrent_parts",
    "recurrent_weight_gradients",
    "unroll",
]

# Elementwise activations in float64; their derivatives are the shared table's.
_ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "linear": lambda a: a,
}


def _slope(name, h):
    """act'(a) given h = act(a), float64 (`keras_rnninit/utils/activations.py`)."""
    derivative = DERIVATIVES[name]
    return np.ones_like(h) if derivative is None else np.asarray(derivative(h), h.dtype)


_CELLS = {"lstm": keras.layers.LSTMCell, "gru": keras.layers.GRUCell}


def cell_kind(layer):
    """The kind, "simple", "lstm" or "gru", of a SimpleRNN / LSTM / GRU layer or an RNN
    of such a cell (subclasses included), else None."""
    cell = getattr(layer, "cell", None) if isinstance(layer, keras.layers.RNN) else None
    if isinstance(cell, keras.layers.SimpleRNNCell):
        return "simple"
    for kind, cls in _CELLS.items():
        if isinstance(cell, cls):
            return kind
    return None


def recurrent_layers(model):
    """The model's recurrent layers (any `keras.layers.RNN` or `Bidirectional`)."""
    kinds = (keras.layers.RNN, keras.layers.Bidirectional)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def _wanted(gated):
    if gated:
        return "a keras.layers.SimpleRNN, LSTM or GRU (or an RNN of their cells)"
    return "a keras.layers.SimpleRNN or an RNN of a SimpleRNNCell"


def _refuse_bidirectional(found, gated):
    raise ValueError(
        f"`layer` must be {_wanted(gated)}; a Bidirectional runs two of them, "
        "diagnosed one at a time: pass its `forward_layer` or `backward_layer` "
        f"(or their names {found.forward_layer.name!r}, "
        f"{found.backward_layer.name!r}). Received: layer={found.name!r} "
        "(Bidirectional)"
    )


def _named(model, name):
    """The model's layer `name`, or the direction of a Bidirectional so named."""
    for wrapper in model.layers:
        if isinstance(wrapper, keras.layers.Bidirectional):
            for direction in (wrapper.forward_layer, wrapper.backward_layer):
                if direction.name == name:
                    return direction
    return model.get_layer(name)


def find_recurrent_layer(model, layer=None, gated=False):
    """The layer to diagnose: `layer` (a layer of the model, a direction
    `forward_layer` / `backward_layer` of one of its Bidirectional layers, or
    the name of either) or the model's first recurrent layer, which must be
    SimpleRNN-style (or, with `gated`, also an LSTM or GRU)."""
    kinds = ("gru", "lstm", "simple") if gated else ("simple",)
    if layer is not None:
        found = _named(model, layer) if isinstance(layer, str) else layer
        if isinstance(found, keras.layers.Bidirectional):
            _refuse_bidirectional(found, gated)
        if cell_kind(found) not in kinds:
            hint = "" if gated else " (LSTM and GRU: `diagnose` only)"
            raise ValueError(
                f"`layer` must be {_wanted(gated)}{hint}. Received: "
                f"layer={found.name!r} ({type(found).__name__})"
            )
        _owner(model, found)  # refuses a layer of another model
        return found
    for candidate in recurrent_layers(model):
        if isinstance(candidate, keras.layers.Bidirectional):
            _refuse_bidirectional(candidate, gated)
        if cell_kind(candidate) in kinds:
            return candidate
    names = ", ".join(f"{x.name} ({type(x).__name__})" for x in model.layers)
    wanted = "SimpleRNN, LSTM or GRU" if gated else "SimpleRNN-style"
    raise ValueError(
        f"`model` must contain a {wanted} layer (keras.layers.SimpleRNN or "
        f"keras.layers.RNN(SimpleRNNCell){', LSTM, GRU' if gated else ''}). "
        f"Received: model with layers [{names}]"
    )


@dataclasses.dataclass
class RecurrentParts:
    """A model's SimpleRNN-style layer, with the layer's weights."""

    model: keras.Model
    layer: keras.layers.Layer
    kernel: np.ndarray  # Wxh (D, H), float64
    recurrent_kernel: np.ndarray  # Whh (H, H), float64
    bias: np.ndarray  # b (H,), zeros when the cell has none
    activation: str
    return_sequences: bool
    return_state: bool = False
    go_backwards: bool = False
    zero_output_for_mask: bool = False

    @property
    def units(self):
        return self.recurrent_kernel.shape[0]

    n_states = 1  # s = (h,)


def _float64(value):
    return np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")


def recurrent_parts(model, layer=None):
    """The SimpleRNN-style layer of `model` (see `find_recurrent_layer`)."""
    layer = find_recurrent_layer(model, layer)
    cell = layer.cell
    name = getattr(cell.activation, "__name__", str(cell.activation))
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"`activation` of {layer.name!r} must be one of "
            f"{', '.join(sorted(_ACTIVATIONS))} for the diagnostics. "
            f"Received: activation={name!r}"
        )
    kernel = _float64(cell.kernel)
    bias = getattr(cell, "bias", None)
    return RecurrentParts(
        model=model,
        layer=layer,
        kernel=kernel,
        recurrent_kernel=_float64(cell.recurrent_kernel),
        bias=_float64(bias) if bias is not None else np.zeros(kernel.shape[1]),
        activation=name,
        return_sequences=bool(layer.return_sequences),
        return_state=bool(layer.return_state),
        go_backwards=bool(layer.go_backwards),
        zero_output_for_mask=bool(layer.zero_output_for_mask),
    )


@dataclasses.dataclass
class Trace:
    """One replay, float64, time axis in processing order (reversed inputs
    when `go_backwards`): inputs x (N, T, D); mask m (N, T, 1) of 0/1; initial
    state s_0 (N, H); pre-activations a, activations h, states s and layer
    outputs o, each (N, T, H); `model_input`, the model input replayed."""

    inputs: np.ndarray
    mask: np.ndarray
    initial: np.ndarray
    pre: np.ndarray
    activations: np.ndarray
    states: np.ndarray
    outputs: np.ndarray
    model_input: object = None


def _initial_state(layer, index, found, batch, units):
    if found is not None:
        value = _float64(found)
    elif layer.stateful:
        value = _float64(layer.states[index])
        if value.shape[0] != batch:
            raise ValueError(
                f"`x` must have the batch size of the stateful layer "
                f"{layer.name!r} ({value.shape[0]}). Received: batch {batch}"
            )
    else:
        value = np.zeros((batch, units))
    return np.broadcast_to(value, (batch, units)).copy()


def _placeholder(parts, arguments):
    """Zeros shaped like the layer's outputs, for the layers after it while
    the arguments are captured."""
    sequence = next(iter(arguments.values()))
    n, steps = keras.ops.shape(sequence)[:2]
    shape = (n, steps, parts.units) if parts.return_sequences else (n, parts.units)
    outputs = [keras.ops.zeros(shape, parts.layer.compute_dtype)]
    if parts.return_state:
        state = keras.ops.zeros((n, parts.units), parts.layer.compute_dtype)
        outputs += [state] * parts.n_states
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def capture(parts, x):
    """{parameter: value} of the recurrent layer's call when the model runs
    on `x` (inference mode; the layer's own loop does not run)."""
    return layer_arguments(
        parts.model, parts.layer, x, lambda arguments: _placeholder(parts, arguments)
    )


def layer_inputs(parts, arguments):
    """What the recurrent layer sees (`capture`), float64 and in processing
    order: inputs (N, T, D), mask (N, T, 1) of 0/1 and the `parts.n_states`
    initial states, each (N, units)."""
    values = list(arguments.values())
    inputs = _float64(values[0])
    n, steps, _ = inputs.shape
    mask = arguments.get("mask")
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    if mask is not None:
        mask = _float64(mask).reshape(n, steps, 1)
    else:
        mask = np.ones((n, steps, 1))
    given = arguments.get("initial_state")
    if given is None:
        given = [None] * parts.n_states
    elif not isinstance(given, (list, tuple)):
        given = [given]
    initial = [
        _initial_state(parts.layer, i, value, n, parts.units)
        for i, value in enumerate(given)
    ]
    if parts.go_backwards:
        inputs, mask = inputs[:, ::-1], mask[:, ::-1]
    return inputs, mask, initial


def forward(parts, x):
    """Replay the layer on the model input `x` (the model runs in the backend
    with the layer's loop left out, the recurrence in float64 numpy): a
    `Trace`."""
    inputs, mask, (initial,) = layer_inputs(parts, capture(parts, x))
    n, steps, _ = inputs.shape
    activation = _ACTIVATIONS[parts.activation]
    projected = inputs @ parts.kernel + parts.bias  # all x_t Wxh + b at once
    pre = np.empty((n, steps, parts.kernel.shape[1]))
    act, states, outputs = (np.empty_like(pre) for _ in range(3))
    s, o = initial, np.zeros_like(initial)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            pre[:, t] = projected[:, t] + s @ parts.recurrent_kernel
            h = act[:, t] = activation(pre[:, t])
            m = mask[:, t]
            s = states[:, t] = np.where(m > 0, h, s)
            carried = 0.0 if parts.zero_output_for_mask else o
            o = outputs[:, t] = np.where(m > 0, h, carried)
    return Trace(inputs, mask, initial, pre, act, states, outputs, x)


def unroll(parts, x):
    """Pre-activations a and states s, float64 arrays of shape (N, T, H)."""
    trace = forward(parts, x)
    return trace.pre, trace.states


def _final_states(trace):
    """s_T: [h_T] (and c_T for LSTM), each (N, H)."""
    cells = getattr(trace, "cells", None)
    return [trace.states[:, -1]] + ([cells[:, -1]] if cells is not None else [])


def _layer_outputs(parts, trace):
    """What the layer returns on the replay: its output (N, T, H) or (N, H)
    and, with `return_state`, its final states."""
    output = trace.outputs if parts.return_sequences else trace.outputs[:, -1]
    return [output, *(_final_states(trace) if parts.return_state else [])]


def head_gradients(parts, trace, y, loss=None, sample_weight=None):
    """Gradients of the loss `fit` minimises (`fit_loss`) with the layer's
    outputs fixed at the replay's: the direct dL/ds_t as (N, T, n_states * H)
    (through the outputs o and the final states), and {variable path: dL/dW}
    for the weights beside the RNN (`fit_loss.weights_beside`: the layers
    after it and the other branches) and the layer's own (their direct part,
    e.g. a regularizer's)."""
    variables = [*parts.layer.trainable_variables]
    variables += weights_beside(parts.model, parts.layer)
    on_outputs, on_weights = loss_gradients(
        parts.model,
        trace.model_input,
        y,
        sample_weight,
        loss,
        layer=parts.layer,
        outputs=_layer_outputs(parts, trace),
        variables=variables,
    )
    per_step = np.zeros_like(trace.states)
    if parts.return_sequences:
        per_step[:] = on_outputs[0]
    else:
        per_step[:, -1] = on_outputs[0]
    units = parts.units
    direct = np.zeros((*trace.states.shape[:2], parts.n_states * units))
    direct[..., :units] = _through_outputs(parts, trace.mask, per_step)
    for i, on_state in enumerate(on_outputs[1:]):  # return_state: s_T
        direct[:, -1, i * units : (i + 1) * units] += on_state
    weights = {v.path: g for v, g in zip(variables, on_weights, strict=True)}
    return direct, weights


def _through_outputs(parts, mask, on_outputs):
    """dL/do_t -> the direct gradient on s_t (o_t = h_t = s_t where m_t = 1;
    a masked o_t repeats o_{t-1}, or is 0 with zero_output_for_mask)."""
    direct = np.empty_like(on_outputs)
    carried = np.zeros_like(on_outputs[:, 0])
    for t in range(on_outputs.shape[1] - 1, -1, -1):
        total = on_outputs[:, t] + carried
        direct[:, t] = mask[:, t] * total
        carried = 0.0 if parts.zero_output_for_mask else (1 - mask[:, t]) * total
    return direct


def direct_gradient(parts, trace, y, loss=None, sample_weight=None):
    """dL/ds from the model around the RNN, (N, T, H); see `head_gradients`."""
    return head_gradients(parts, trace, y, loss, sample_weight)[0]


@dataclasses.dataclass
class Gradients:
    """Total gradients g_t = dL/ds_t = mantissa[:, t] * 2**exponent[t]."""

    mantissa: np.ndarray  # (N, T, H), float64, max |entry| in [0.5, 1) or 0
    exponent: np.ndarray  # (T,), int

    def values(self):
        """The gradients as float64 (N, T, H); entries below 1e-308 flush."""
        with np.errstate(under="ignore"):
            return np.ldexp(self.mantissa, self.exponent[None, :, None])

    def _mantissa_norms(self):
        return np.array([np.linalg.norm(m) for m in self.mantissa.swapaxes(0, 1)])

    def norms(self):
        """||g_t|| over batch and units, float64 (T,); 0.0 below 5e-324."""
        with np.errstate(under="ignore"):
            return np.ldexp(self._mantissa_norms(), self.exponent)

    def log10_norms(self):
        """log10 ||g_t|| over batch and units, (T,): -inf only when every entry
        of g_t is exactly 0; no underflow."""
        with np.errstate(divide="ignore"):
            return np.log10(self._mantissa_norms()) + self.exponent * np.log10(2.0)


def _normalize(mantissa, exponent):
    peak = np.max(np.abs(mantissa)) if mantissa.size else 0.0
    if peak == 0.0 or not np.isfinite(peak):
        return mantissa, exponent
    shift = int(np.frexp(peak)[1])
    return np.ldexp(mantissa, -shift), exponent + shift


def _add(mantissa, exponent, direct):
    """(mantissa * 2**exponent + direct) as a normalized (mantissa, exponent)."""
    if not np.any(direct):
        return mantissa, exponent
    if not np.any(mantissa):
        return _normalize(direct, 0)
    top = max(exponent, int(np.frexp(np.max(np.abs(direct)))[1]))
    total = np.ldexp(mantissa, exponent - top) + np.ldexp(direct, -top)
    return _normalize(total, top)


def backprop_through_time(parts, trace, direct):
    """Total gradients g_t = dL/ds_t by the recursion above, as `Gradients`."""
    n, steps, units = trace.states.shape
    mantissa = np.empty((n, steps, units))
    exponents = np.zeros(steps, dtype=np.int64)
    g, exponent = np.zeros((n, units)), 0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for t in range(steps - 1, -1, -1):
            g, exponent = _add(g, exponent, direct[:, t])
            mantissa[:, t], exponents[t] = g, exponent
            if t > 0:
                m = trace.mask[:, t]
                delta = m * g * _slope(parts.activation, trace.activations[:, t])
                g = (1 - m) * g + delta @ parts.recurrent_kernel.T
                g, exponent = _normalize(g, exponent)
    return Gradients(mantissa, exponents)


def recurrent_weight_gradients(parts, trace, grads):
    """dL/dWxh, dL/dWhh, dL/db from the total gradients g_t (float64):

    with delta_t = m_t g_t * act'(a_t), dL/dWxh = sum_t x_tᵀ delta_t,
    dL/dWhh = sum_t s_{t-1}ᵀ delta_t, dL/db = sum_t delta_t. The steps are
    summed at the largest step's scale (smaller ones are negligible next to it).
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        delta = (
            trace.mask * grads.mantissa * _slope(parts.activation, trace.activations)
        )
        live = delta.any(axis=(0, 2))
        top = int(grads.exponent[live].max()) if live.any() else 0
        delta = np.ldexp(delta, (grads.exponent - top)[None, :, None])
        previous = np.concatenate([trace.initial[:, None], trace.states[:, :-1]], 1)
        sums = {
            "kernel": np.einsum("ntd,nth->dh", trace.inputs, delta),
            "recurrent_kernel": np.einsum("ntk,nth->kh", previous, delta),
            "bias": delta.sum(axis=(0, 1)),
        }
        return {key: np.ldexp(value, top) for key, value in sums.items()}
