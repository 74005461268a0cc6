"""Diagnostics of a recurrent model on a probe batch: arrays in, numpy out."""

import math

import keras
import numpy as np

from keras_rnninit.diagnostics.fit_loss import _owner, kept_states, loss_gradients
from keras_rnninit.diagnostics.gated import (
    CANDIDATE,
    KEEP_GATE,
    gated_backprop,
    gated_forward,
    gated_parts,
)
from keras_rnninit.diagnostics.recurrent import (
    backprop_through_time,
    cell_kind,
    find_recurrent_layer,
    forward,
    head_gradients,
    recurrent_parts,
    recurrent_weight_gradients,
)
from keras_rnninit.diagnostics.reports import DiagnoseReport

__all__ = [
    "SATURATION",
    "diagnose",
    "first_nonfinite",
    "gradient_norms_through_time",
    "norm",
    "spectrum",
    "state_profile",
    "vanishing_ratio_log10",
    "weight_gradient_norms",
]

SATURATION = 0.99  # |h| above this counts as a saturated tanh unit


def state_profile(states, saturation=SATURATION):
    """Per-step statistics of states (N, T, H) over batch and units.

    Returns a dict of (T,) float64 arrays: `variance`, `mean`, `saturated`
    (fraction of |h| > `saturation`).
    """
    states = np.asarray(states, dtype="float64")
    return {
        "variance": states.var(axis=(0, 2)),
        "mean": states.mean(axis=(0, 2)),
        "saturated": (np.abs(states) > saturation).mean(axis=(0, 2)),
    }


def norm(values):
    """Euclidean norm of all entries, scaled like `numpy.linalg.norm` (no
    underflow of the squares): 0 only when every entry is exactly 0."""
    return float(np.linalg.norm(np.asarray(values, dtype="float64").ravel()))


def gradient_norms_through_time(grads):
    """||dL/dh_t|| over batch and units for t = 1..T, float64 (T,) (scaled)."""
    grads = np.asarray(grads, dtype="float64")
    return np.array([norm(grads[:, t]) for t in range(grads.shape[1])])


def vanishing_ratio_log10(norms):
    """log10(||dL/dh_1|| / ||dL/dh_T||): 0 keeps, < 0 vanishes, > 0 explodes.

    From per-step norms (T,) of an unmasked batch; `diagnose` gives the
    ratio of a masked one (each sequence's first and last real steps).
    -inf when the gradient at step 1 is exactly zero, NaN when it is not finite.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _log10_ratio(np.log10(np.asarray(norms, dtype="float64")))


def _log10_ratio(log_norms):
    """`vanishing_ratio_log10` from log10 norms (no underflow)."""
    first, last = float(log_norms[0]), float(log_norms[-1])
    if math.isnan(first) or not math.isfinite(last) or first == math.inf:
        return float("nan")
    return first - last


def _sequence_ends(mask, layer=None):
    """(rows, first, last): the rows of a 0/1 mask (N, T[, 1]) with at least
    one real (unmasked) step, and each such row's first and last real step
    (0-based, processing order). A row with no real step is left out; a mask
    with none at all is refused in one line."""
    real = np.asarray(mask).reshape(np.shape(mask)[:2]) > 0
    rows = np.flatnonzero(real.any(axis=1))
    if rows.size == 0:
        name = "" if layer is None else f" of layer {layer!r}"
        raise ValueError(
            "`x` must have at least one unmasked time step for the diagnostics. "
            f"Received: x whose every step is masked (the mask{name} is all "
            f"zero, shape {real.shape})"
        )
    first = real[rows].argmax(axis=1)
    last = real.shape[1] - 1 - real[rows, ::-1].argmax(axis=1)
    return rows, first, last


def _log10_norm_at(grads, rows, steps):
    """log10 of the norm of the stacked g[rows[i], steps[i]] of `Gradients`
    (no underflow; -inf only when every entry is exactly 0). One common scale
    2**top, that of the largest row, so where all steps are one step t it is
    exactly `grads.log10_norms()[t]`; entries below 2**-1074 of that scale
    flush to 0, a negligible part of the norm."""
    mantissa, exponent = grads.mantissa[rows, steps], grads.exponent[steps]
    with np.errstate(invalid="ignore"):
        peak = np.max(np.abs(mantissa), axis=1, initial=0.0)
    live = (peak > 0) & np.isfinite(peak)
    top = int((exponent + np.frexp(peak)[1])[live].max()) if live.any() else 0
    with np.errstate(under="ignore", divide="ignore", invalid="ignore"):
        scaled = np.ldexp(mantissa, (exponent - top)[:, None])
        return float(np.log10(np.linalg.norm(scaled)) + top * np.log10(2.0))


def _sequence_ratio_log10(grads, ends):
    """The vanishing ratio of `diagnose`, from `Gradients` g (N, T, H) and
    `_sequence_ends` of the layer's mask m (N, T, 1), in processing order:

        log10_ratio = log10(||G_first|| / ||G_last||),
        G_first = [g_{n, f_n}]_n,   G_last = [g_{n, l_n}]_n,

    the rows n that have a real step (m_{n,t} = 1) stacked, f_n and l_n the
    first and last of them: how much of the gradient at the end of each
    sequence reaches its start. At a real step the carried state is the
    cell's output (s_t = h_t), so these are dL/dh_t. Without a mask f_n = 1
    and l_n = T: exactly log10(||dL/dh_1|| / ||dL/dh_T||) over the batch, the
    ends of `log10_grad_norms`. Padded steps are left out (after a sequence's
    end its state reaches the loss only through `return_state`; before its
    start it is the initial state), and so are rows with no real step. -inf
    when G_first is exactly 0; NaN when G_last is 0 (no gradient reaches any
    sequence's end: the ratio is undefined) or a norm is not finite.
    """
    rows, first, last = ends
    return _log10_ratio(
        [_log10_norm_at(grads, rows, first), _log10_norm_at(grads, rows, last)]
    )


def _at_sequence_ends(states, ends, saturation):
    """`variance_last` and `saturated_last`: of the states at each row's last
    real step (step T without a mask), the rows of `_sequence_ends`."""
    rows, _, last = ends
    profile = state_profile(states[rows, last][:, None], saturation)
    return {
        "variance_last": float(profile["variance"][0]),
        "saturated_last": float(profile["saturated"][0]),
    }


def spectrum(matrix):
    """Spectral radius max|eig| and largest singular value of a square matrix."""
    matrix = np.asarray(matrix, dtype="float64")
    if not np.all(np.isfinite(matrix)):
        return {"spectral_radius": float("nan"), "max_singular_value": float("nan")}
    return {
        "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(matrix)))),
        "max_singular_value": float(np.linalg.norm(matrix, 2)),
    }


def _aliases(model, layer):
    """Variable path -> short name: Wxh, Whh, b of the RNN, Why: the first
    kernel of a layer after it (after its Bidirectional wrapper)."""
    cell = layer.cell
    names = {cell.kernel.path: "Wxh", cell.recurrent_kernel.path: "Whh"}
    if getattr(cell, "bias", None) is not None:
        names[cell.bias.path] = "b"
    layers = model.layers
    for later in layers[layers.index(_owner(model, layer)) + 1 :]:
        kernel = getattr(later, "kernel", None)
        if kernel is not None:
            names[kernel.path] = "Why"
            break
    return names


def weight_gradient_norms(model, x, y, loss=None, layer=None, sample_weight=None):
    """||dL/dW|| for every trainable weight on (x, y), float64: the whole
    model differentiated by the backend's autodiff, L the loss `fit`
    minimises (`keras_rnninit/diagnostics/fit_loss.py`; inference mode).

    Keys are Wxh, Whh, b (the recurrent layer: SimpleRNN, LSTM or GRU; for
    gated cells all gates' columns together), Why (the first kernel after it),
    and the variable path for any other weight.
    """
    names = _aliases(model, find_recurrent_layer(model, layer, gated=True))
    variables = model.trainable_variables
    with kept_states(model):
        _, grads = loss_gradients(model, x, y, sample_weight, loss, variables=variables)
    return {
        names.get(v.path, v.path): norm(g)
        for v, g in zip(variables, grads, strict=True)
    }


def first_nonfinite(model, x=None, layer=None):
    """Where NaN/Inf first appears, or None: weights in model order, then the
    states step by step on `x` (LSTM and GRU: TensorFlow only). Returns
    {"where", "name", "step"}."""
    found = find_recurrent_layer(model, layer, gated=True)
    states = None
    if x is not None:
        with kept_states(model):
            if cell_kind(found) == "simple":
                states = forward(recurrent_parts(model, found), x).states
            else:
                states = gated_forward(gated_parts(model, found), x).states
    return _first_nonfinite(model, _aliases(model, found), states)


def _first_nonfinite(model, names, states):
    for variable in model.weights:
        value = keras.ops.convert_to_numpy(variable)
        if not np.all(np.isfinite(value)):
            return {
                "where": "weight",
                "name": names.get(variable.path, variable.path),
                "step": None,
            }
    if states is not None:
        bad = ~np.isfinite(states).all(axis=(0, 2))
        if bad.any():
            return {"where": "state", "name": "h", "step": int(np.argmax(bad)) + 1}
    return None


def diagnose(
    model: keras.Model,
    x,
    y,
    loss=None,
    layer: "keras.layers.Layer | str | None" = None,
    saturation: float = SATURATION,
    sample_weight=None,
) -> DiagnoseReport:
    """Everything about the recurrent layer of `model` on the probe batch (x, y).

    The replay is the network that trains (in inference mode, no dropout):
    the layer gets what the real model hands it on `x` (any layers before
    it, several model inputs, `go_backwards`, a mask from
    `Embedding(mask_zero=True)` or `Masking`, `initial_state` tensors, a
    stateful layer's current state, which is left as it was), and L is the
    loss `fit` minimises: the compiled loss with its reduction (or `loss`,
    wrapped as `compile` wraps it; MSE for an uncompiled model), the output
    mask Keras applies to it, `sample_weight` and the model's added losses,
    through the real layers after and beside the RNN
    (`keras_rnninit/diagnostics/fit_loss.py`). Time steps t = 1..T count in
    processing order (with `go_backwards`, t = 1 is the last input step).

    Returns a `DiagnoseReport` (`keras_rnninit/diagnostics/reports.py`; read
    by key it still answers, deprecated): `layer` (the diagnosed layer's
    name); per-step arrays `grad_norms` (||dL/ds_t|| over the batch, s_t the
    carried state, = h_t at a real step; 0.0 where below float64's range),
    `log10_grad_norms` (exact, no underflow: -inf only when every entry of
    dL/ds_t is exactly 0), `variance`, `mean`, `saturated` (of the states);
    the vanishing ratio `log10_ratio` = log10(||G_first|| / ||G_last||),
    G_first and G_last the gradients dL/dh at each sequence's first and last
    real (unmasked) step, stacked over the rows (`_sequence_ratio_log10`;
    without a mask log10(||dL/dh_1|| / ||dL/dh_T||); padded steps and rows
    with no real step left out, a batch with no real step refused);
    `variance_last` and `saturated_last` (of the states at each sequence's
    last real step); `spectral_radius`, `max_singular_value`;
    `weight_grad_norms` (Wxh, Whh, b from the BPTT pass plus their direct
    part, e.g. a regularizer's; Why and the other weights after or beside the
    RNN from the model's tape; the layers the RNN's input depends on are not
    included); `nonfinite` (None or where NaN/Inf first appears). Two eager
    runs of the model with the recurrent layer's loop left out (the replay
    replaces it): cheap enough to run from a callback.

    `layer` may be a direction of a Bidirectional (`forward_layer`,
    `backward_layer`, or its name): each is the recurrent layer it is.

    LSTM and GRU layers (TensorFlow only; `layer=` or the first recurrent
    layer) give the same fields with the same meaning (`spectral_radius`: the
    candidate block c / h of the recurrent kernel; Wxh, Whh, b: all gates)
    plus `cell`, `gate_spectral_radius`, `gate_max_singular_value`,
    `gate_grad_norms`, `gate_saturated`, `forget_gate` ("f"; GRU "z"),
    `forget_open` / `forget_closed` (fraction above `saturation` / below
    1 - `saturation`), `forget_open_last` / `forget_closed_last` (the same at
    each sequence's last real step) and, for LSTM, `cell_variance`,
    `cell_mean`, `cell_saturated`, `cell_grad_norms`, `log10_cell_grad_norms`;
    see `keras_rnninit/diagnostics/gated.py`.

    Example:

        >>> import numpy as np
        >>> from keras_rnninit import schemes
        >>> from keras_rnninit.diagnostics import diagnose
        >>> model = schemes.get("xavier_rnn").build_model(input_dim=2, units=8, seed=0)
        >>> x = np.random.default_rng(0).normal(size=(4, 10, 2)).astype("float32")
        >>> report = diagnose(model, x, np.zeros((4, 1), "float32"))
        >>> report.grad_norms.shape, report.log10_ratio < 0
        ((10,), True)
    """
    found = find_recurrent_layer(model, layer, gated=True)
    with kept_states(model):
        if cell_kind(found) != "simple":
            return _gated_report(model, found, x, y, loss, saturation, sample_weight)
        parts = recurrent_parts(model, found)
        trace = forward(parts, x)
        ends = _sequence_ends(trace.mask, found.name)
        direct, head = head_gradients(parts, trace, y, loss, sample_weight)
    grads = backprop_through_time(parts, trace, direct)
    report = {
        "layer": parts.layer.name,
        "cell": "simple",
        "grad_norms": grads.norms(),
        "log10_grad_norms": grads.log10_norms(),
        "log10_ratio": _sequence_ratio_log10(grads, ends),
    }
    report.update(state_profile(trace.states, saturation))
    report.update(_at_sequence_ends(trace.states, ends, saturation))
    report.update(spectrum(parts.recurrent_kernel))
    recurrent = recurrent_weight_gradients(parts, trace, grads)
    names = _aliases(model, found)
    report["weight_grad_norms"] = _weight_norms(found, recurrent, head, names)
    report["nonfinite"] = _first_nonfinite(model, names, trace.states)
    return DiagnoseReport(**report)


def _weight_norms(layer, recurrent, head, names):
    """{short name or path: ||dL/dW||}: the cell's weights from BPTT
    (`recurrent`, {"kernel", ...}) plus their direct part from the head's
    tape (added into `recurrent`), then the other weights of the tape."""
    cell, grads = layer.cell, dict(head)
    for key in list(recurrent):
        if getattr(cell, key, None) is None:  # no bias
            del recurrent[key]
        else:
            recurrent[key] = recurrent[key] + grads.pop(getattr(cell, key).path, 0)
    paths = {getattr(cell, key).path: recurrent[key] for key in recurrent}
    return {names.get(p, p): norm(g) for p, g in {**paths, **grads}.items()}


def _gated_report(model, layer, x, y, loss, saturation, sample_weight):
    """`diagnose` for an LSTM or GRU layer (TensorFlow): the SimpleRNN keys
    with the same meaning, plus the gates'."""
    parts = gated_parts(model, layer)
    trace = gated_forward(parts, x)
    ends = _sequence_ends(trace.mask, layer.name)
    direct, head = head_gradients(parts, trace, y, loss, sample_weight)
    grads, cell_grads, recurrent = gated_backprop(parts, trace, direct)
    report = {
        "layer": layer.name,
        "cell": parts.kind,
        "grad_norms": grads.norms(),
        "log10_grad_norms": grads.log10_norms(),
        "log10_ratio": _sequence_ratio_log10(grads, ends),
    }
    report.update(state_profile(trace.states, saturation))
    report.update(_at_sequence_ends(trace.states, ends, saturation))
    rows, _, last = ends
    keep = trace.gates[KEEP_GATE[parts.kind]][rows, last]
    report["forget_open_last"] = float(np.mean(keep > saturation))
    report["forget_closed_last"] = float(np.mean(keep < 1 - saturation))
    radii = {g: spectrum(w) for g, w in parts.blocks(parts.recurrent_kernel).items()}
    report.update(radii[CANDIDATE[parts.kind]])
    report["gate_spectral_radius"] = {g: r["spectral_radius"] for g, r in radii.items()}
    report["gate_max_singular_value"] = {
        g: r["max_singular_value"] for g, r in radii.items()
    }
    report.update(_gate_profile(parts, trace, saturation))
    if trace.cells is not None:
        cell_profile = state_profile(trace.cells, saturation)
        report["cell_variance"] = cell_profile["variance"]
        report["cell_mean"] = cell_profile["mean"]
        report["cell_saturated"] = state_profile(
            _float64_activation(layer.cell.activation, trace.cells), saturation
        )["saturated"]
        report["cell_grad_norms"] = cell_grads.norms()
        report["log10_cell_grad_norms"] = cell_grads.log10_norms()
    names = _aliases(model, layer)
    report["weight_grad_norms"] = _weight_norms(layer, recurrent, head, names)
    report["gate_grad_norms"] = {
        gate: {
            short: norm(parts.blocks(recurrent[key])[gate])
            for short, key in (
                ("Wxh", "kernel"),
                ("Whh", "recurrent_kernel"),
                ("b", "bias"),
            )
            if key in recurrent
        }
        for gate in parts.blocks(parts.kernel)
    }
    report["nonfinite"] = _first_nonfinite(model, names, trace.states)
    return DiagnoseReport(**report)


def _float64_activation(function, values):
    return np.asarray(
        keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(values))),
        dtype="float64",
    )


def _gate_profile(parts, trace, saturation):
    """Per-step fractions over the batch's unmasked steps and the units:
    `gate_saturated` {gate: saturated fraction} (sigmoid-like gates above
    `saturation` or below 1 - `saturation`, the tanh candidate |.| above
    `saturation`), and the keep gate's `forget_open` (> `saturation`) and
    `forget_closed` (< 1 - `saturation`). NaN at a step masked for the whole
    batch."""
    live = np.broadcast_to(trace.mask > 0, trace.states.shape)
    count = live.sum(axis=(0, 2)).astype("float64")

    def fraction(hit):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (hit & live).sum(axis=(0, 2)) / count

    candidate = CANDIDATE[parts.kind]
    saturated = {}
    for gate, value in trace.gates.items():
        if gate == candidate:
            saturated[gate] = fraction(np.abs(value) > saturation)
        else:
            saturated[gate] = fraction((value > saturation) | (value < 1 - saturation))
    keep = trace.gates[KEEP_GATE[parts.kind]]
    return {
        "gate_saturated": saturated,
        "forget_gate": KEEP_GATE[parts.kind],
        "forget_open": fraction(keep > saturation),
        "forget_closed": fraction(keep < 1 - saturation),
    }
