"""States, gates and gradients through time of an LSTM or GRU layer.

TensorFlow only: the layer's own cell is rebuilt in float64 with the layer's
weights and stepped like Keras' loop, in processing order (reversed inputs
when `go_backwards`), from the initial states s_0 (zeros, the `initial_state`
tensors or a stateful layer's states), s = (h, c) for LSTM, (h,) for GRU:

    s_t = m_t cell(x_t, s_{t-1}) + (1 - m_t) s_{t-1}   (masked steps carry s).

Backwards, g_t = dL/ds_t goes from step to step by the vector-Jacobian
product of that step under `tf.GradientTape` (the cell's own derivative, the
mask included), plus the direct gradient from the model around the RNN
(`head_gradients`: a tape on the loss `fit` minimises). Like the SimpleRNN
replay, g_t is kept as a mantissa times 2**exponent per step, so
||dL/dh_t|| never underflows; the same
products give dL/dW of the cell's kernel, recurrent kernel and bias.

float64 and not float32: the states and the per-step products then carry the
precision of the SimpleRNN replay, so a tiny ratio of gradient norms is not
rounding noise of the forward pass.

The gates are recomputed from the Keras equations (vectorized over the stored
states, float64) for their statistics and must reproduce the cell's states;
a cell whose step does not follow them is refused, not misreported.
"""

import dataclasses

import keras
import numpy as np

from keras_rnninit.diagnostics.recurrent import (
    Gradients,
    _add,
    _float64,
    _normalize,
    capture,
    cell_kind,
    find_recurrent_layer,
    layer_inputs,
)

__all__ = [
    "CANDIDATE",
    "GATES",
    "KEEP_GATE",
    "GatedParts",
    "GatedTrace",
    "gated_backprop",
    "gated_forward",
    "gated_parts",
]

# Gate names in the column order of Keras' kernels.
GATES = {"lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}
# The gate that keeps the previous state: LSTM's forget gate f (c_t = f c_{t-1}
# + ...), and GRU's update gate z, since Keras' GRU is h_t = z h_{t-1} +
# (1 - z) h~_t (z near 1 keeps the state, as f near 1 does).
KEEP_GATE = {"lstm": "f", "gru": "z"}
# The tanh block that plays SimpleRNN's Whh (its spectrum is `spectral_radius`).
CANDIDATE = {"lstm": "c", "gru": "h"}


@dataclasses.dataclass
class GatedParts:
    """A model's LSTM/GRU layer, with a float64 copy of the cell."""

    model: keras.Model
    layer: keras.layers.Layer
    kind: str  # "lstm" or "gru"
    cell: keras.layers.Layer  # float64 copy of layer.cell, same weights
    kernel: np.ndarray  # (D, kH) float64
    recurrent_kernel: np.ndarray  # (H, kH)
    bias: np.ndarray | None  # (kH,) or, GRU reset_after, (2, kH)
    return_sequences: bool
    return_state: bool
    go_backwards: bool
    zero_output_for_mask: bool

    @property
    def units(self):
        return self.recurrent_kernel.shape[0]

    @property
    def n_states(self):
        return 2 if self.kind == "lstm" else 1  # s = (h, c) or (h,)

    def blocks(self, matrix):
        """{gate: column block} of a kernel, recurrent kernel or bias."""
        pieces = np.split(matrix, len(GATES[self.kind]), axis=-1)
        return dict(zip(GATES[self.kind], pieces, strict=True))


def _require_tensorflow(layer):
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(
            f"the diagnostics of LSTM and GRU layers need the tensorflow backend "
            f"(they step the cell under tf.GradientTape). Received: "
            f"backend={backend!r} for layer={layer.name!r}"
        )


def gated_parts(model, layer=None):
    """The LSTM or GRU layer of `model` and its float64 cell (TensorFlow only)."""
    layer = find_recurrent_layer(model, layer, gated=True)
    kind = cell_kind(layer)
    if kind not in GATES:
        raise ValueError(
            f"`layer` must be an LSTM or GRU layer. Received: layer={layer.name!r} "
            f"({type(layer).__name__})"
        )
    _require_tensorflow(layer)
    cell = layer.cell
    copy = type(cell).from_config({**cell.get_config(), "dtype": "float64"})
    copy.build((None, cell.kernel.shape[0]))
    copy.set_weights([_float64(w) for w in cell.get_weights()])
    bias = getattr(cell, "bias", None)
    return GatedParts(
        model=model,
        layer=layer,
        kind=kind,
        cell=copy,
        kernel=_float64(cell.kernel),
        recurrent_kernel=_float64(cell.recurrent_kernel),
        bias=_float64(bias) if bias is not None else None,
        return_sequences=bool(layer.return_sequences),
        return_state=bool(layer.return_state),
        go_backwards=bool(layer.go_backwards),
        zero_output_for_mask=bool(layer.zero_output_for_mask),
    )


@dataclasses.dataclass
class GatedTrace:
    """One run, float64, time axis in processing order: inputs x (N, T, D),
    mask m (N, T, 1); initial states (list of (N, H)); hidden states h and
    layer outputs o, (N, T, H); `cells` c (N, T, H) for LSTM, else None;
    `gates` {name: (N, T, H)} as computed at every step; `model_input`, the
    model input run."""

    inputs: np.ndarray
    mask: np.ndarray
    initial: list
    states: np.ndarray
    outputs: np.ndarray
    cells: np.ndarray | None
    gates: dict
    model_input: object = None


def _step(parts, x_t, m_t, previous):
    """One masked step of the float64 cell: the new states (tensors)."""
    import tensorflow as tf

    _, new = parts.cell(x_t, list(previous), training=False)
    new = list(new) if isinstance(new, (list, tuple)) else [new]
    keep = tf.constant(m_t > 0)
    return [tf.where(keep, a, b) for a, b in zip(new, previous, strict=True)]


def gated_forward(parts, x):
    """Run the float64 cell on the model input `x`: a `GatedTrace`."""
    import tensorflow as tf

    n_states = parts.n_states
    inputs, mask, initial = layer_inputs(parts, capture(parts, x))
    n, steps, _ = inputs.shape
    history = np.empty((n_states, n, steps, parts.units))
    outputs = np.empty((n, steps, parts.units))
    s = [tf.constant(v) for v in initial]
    o = np.zeros((n, parts.units))
    for t in range(steps):
        s = _step(parts, tf.constant(inputs[:, t]), mask[:, t], s)
        history[:, :, t] = [v.numpy() for v in s]
        carried = 0.0 if parts.zero_output_for_mask else o
        o = outputs[:, t] = np.where(mask[:, t] > 0, history[0, :, t], carried)
    gates = _gates(parts, inputs, mask, initial, history)
    cells = history[1] if parts.kind == "lstm" else None
    return GatedTrace(inputs, mask, initial, history[0], outputs, cells, gates, x)


def _previous(initial, history):
    """s_{t-1} for every t: (n_states, N, T, H)."""
    first = np.stack(initial)[:, :, None]
    return np.concatenate([first, history[:, :, :-1]], axis=2)


def _activation(function, values):
    return _float64(function(keras.ops.convert_to_tensor(values)))


def _gates(parts, inputs, mask, initial, history):
    """The gate values of every step by the Keras equations, checked against
    the states the cell produced."""
    previous = _previous(initial, history)
    h_prev = previous[0]
    cell, k = parts.cell, parts.blocks(parts.kernel)
    u = parts.blocks(parts.recurrent_kernel)
    bias = parts.bias
    if parts.kind == "lstm":
        b = parts.blocks(bias) if bias is not None else dict.fromkeys("ifco", 0.0)
        pre = {g: inputs @ k[g] + h_prev @ u[g] + b[g] for g in "ifco"}
        gates = {g: _activation(cell.recurrent_activation, pre[g]) for g in "ifo"}
        gates["c"] = _activation(cell.activation, pre["c"])
        c = gates["f"] * previous[1] + gates["i"] * gates["c"]
        h = gates["o"] * _activation(cell.activation, c)
        made = [h, c]
    else:
        if bias is None:
            b_in = b_rec = dict.fromkeys("zrh", 0.0)
        elif cell.reset_after:
            b_in, b_rec = parts.blocks(bias[0]), parts.blocks(bias[1])
        else:
            b_in, b_rec = parts.blocks(bias), dict.fromkeys("zrh", 0.0)
        rec = {g: h_prev @ u[g] + b_rec[g] for g in "zr"}
        gates = {
            g: _activation(cell.recurrent_activation, inputs @ k[g] + b_in[g] + rec[g])
            for g in "zr"
        }
        if cell.reset_after:
            recurrent_h = gates["r"] * (h_prev @ u["h"] + b_rec["h"])
        else:
            recurrent_h = (gates["r"] * h_prev) @ u["h"]
        gates["h"] = _activation(
            cell.activation, inputs @ k["h"] + b_in["h"] + recurrent_h
        )
        made = [gates["z"] * h_prev + (1 - gates["z"]) * gates["h"]]
    for ran, rebuilt in zip(history, made, strict=True):
        scale = 1.0 + np.max(np.abs(ran), initial=0.0)
        gap = np.max(np.abs(np.where(mask > 0, ran - rebuilt, 0.0)), initial=0.0)
        if not gap <= 1e-9 * scale:
            raise ValueError(
                f"`layer` must step by the Keras {parts.kind.upper()} equations for "
                f"the gate statistics. Received: layer={parts.layer.name!r} "
                f"({type(parts.layer.cell).__name__}), whose states differ from "
                f"them by {gap:.3g}"
            )
    return {gate: gates[gate] for gate in GATES[parts.kind]}


def gated_backprop(parts, trace, direct):
    """Total gradients dL/dh_t (and dL/dc_t for LSTM) as `Gradients`, and
    {"kernel", "recurrent_kernel", "bias"?: dL/dW} of the cell (float64), from
    the direct gradients (N, T, n_states * H) of `head_gradients`."""
    import tensorflow as tf

    units = parts.units
    history = [trace.states] + ([trace.cells] if trace.cells is not None else [])
    previous = _previous(trace.initial, np.stack(history))
    n, steps, _ = trace.states.shape
    width = len(history) * units
    mantissa = np.empty((n, steps, width))
    exponents = np.zeros(steps, dtype=np.int64)
    cell = parts.cell
    names = ["kernel", "recurrent_kernel"] + (["bias"] if cell.use_bias else [])
    variables = [getattr(cell, name) for name in names]
    per_step = []  # (dL/dW mantissas, exponent)
    g, exponent = np.zeros((n, width)), 0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for t in range(steps - 1, -1, -1):
            g, exponent = _add(g, exponent, direct[:, t])
            mantissa[:, t], exponents[t] = g, exponent
            before = [tf.constant(p[:, t]) for p in previous]
            with tf.GradientTape() as tape:
                tape.watch(before)
                after = _step(
                    parts, tf.constant(trace.inputs[:, t]), trace.mask[:, t], before
                )
            seeds = [tf.constant(part) for part in np.split(g, len(history), axis=1)]
            found = tape.gradient(after, [*before, *variables], output_gradients=seeds)
            back, weights = found[: len(before)], found[len(before) :]
            per_step.append((_dense(weights, variables), exponent))
            g = np.concatenate(_dense(back, before), axis=1)
            g, exponent = _normalize(g, exponent)
    weight_grads = dict(zip(names, _sum_scaled(per_step, variables), strict=True))
    h = Gradients(mantissa[..., :units], exponents)
    c = Gradients(mantissa[..., units:], exponents) if trace.cells is not None else None
    return h, c, weight_grads


def _dense(gradients, sources):
    """Tape gradients as float64 arrays, zeros where a source is unconnected."""
    return [
        np.zeros(tuple(x.shape)) if g is None else np.asarray(g, dtype="float64")
        for g, x in zip(gradients, sources, strict=True)
    ]


def _sum_scaled(per_step, variables):
    """sum_t mantissa_t * 2**exponent_t per weight, at the largest step's scale."""
    if not per_step:
        return [np.zeros(tuple(v.shape)) for v in variables]
    top = max(exponent for _, exponent in per_step)
    total = [np.zeros(tuple(v.shape)) for v in variables]
    for grads, exponent in per_step:
        for i, value in enumerate(grads):
            total[i] += np.ldexp(value, exponent - top)
    return [np.ldexp(value, top) for value in total]
