"""diagnose() on LSTM and GRU layers, checked against the real Keras layer:

- dL/dh_t (and dL/dc_t) of every step t: the real layer is run on the first
  t processing steps (return_state=True) and, from those states as
  `initial_state`, on the rest under tf.GradientTape, which gives the
  gradient of the loss w.r.t. the state after step t; at t = T it is the
  gradient w.r.t. the layer's output (return_sequences=False);
- per-weight gradient norms (also per gate): tf.GradientTape on the real model;
- state and cell-state profiles: the real layer's states;
- forget/keep-gate fractions: the Keras gate formula on the real layer's states;
- per-gate spectral radii: recurrent blocks set to known multiples of I;
- no underflow: dL/dc_t decays exactly by the forget gate per step.
"""

import math

import keras
import numpy as np
import pytest

from keras_rnninit.diagnostics import diagnose
from tests.diagnostics.helpers import (
    LENGTHS,
    first_to_last_ratio,
    masked_model,
    padded,
    perturbation_grads,
)

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="LSTM/GRU diagnostics step the cell under tf.GradientTape (TensorFlow only)",
)

BATCH, STEPS, UNITS = 4, 7, 5
RNG = np.random.default_rng(5)
X = RNG.normal(size=(BATCH, STEPS, 3)).astype("float32")
# Masked steps (all-zero rows under Masking): a trailing run and a hole.
X_MASKED = X.copy()
X_MASKED[0, 5:] = 0.0
X_MASKED[1, 2:4] = 0.0
Y = RNG.normal(size=(BATCH, 2)).astype("float32")
Y_SEQ = RNG.normal(size=(BATCH, STEPS, 2)).astype("float32")

LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def build(kind, masked=False, **kwargs):
    inputs = keras.Input((None, 3))
    h = keras.layers.Masking(name="mask")(inputs) if masked else inputs
    h = LAYERS[kind](
        UNITS,
        kernel_initializer=keras.initializers.GlorotUniform(seed=1),
        recurrent_initializer=keras.initializers.Orthogonal(gain=1.2, seed=2),
        bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=3),
        name="rnn",
        **kwargs,
    )(h)
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(h))


def twin(layer):
    """The real Keras layer class, same weights, returning its states."""
    config = {**layer.get_config(), "return_state": True, "name": "twin"}
    copy = type(layer).from_config(config)
    copy.build((None, None, 3))
    copy.set_weights(layer.get_weights())
    return copy


def reference_state_grads(model, x, y):
    """(dL/dh_t, dL/dc_t or None) for t = 1..T in processing order, (N, T, H)."""
    import tensorflow as tf

    layer, head = model.get_layer("rnn"), model.get_layer("head")
    real = twin(layer)
    masked = "mask" in [x.name for x in model.layers]
    mask = np.any(x != 0, axis=-1) if masked else np.ones(x.shape[:2], bool)
    steps = x.shape[1]
    dh = np.zeros((x.shape[0], steps, UNITS))
    dc = np.zeros_like(dh) if isinstance(layer, keras.layers.LSTM) else None

    def mse(prediction):
        return keras.ops.mean(keras.losses.mean_squared_error(y, prediction))

    for t in range(1, steps):
        # processing steps 1..t are inputs [:t] (go_backwards: the last t inputs)
        cut = steps - t if layer.go_backwards else t
        first = slice(cut, None) if layer.go_backwards else slice(None, cut)
        rest = slice(None, cut) if layer.go_backwards else slice(cut, None)
        out_first, *states = real(x[:, first], mask=mask[:, first])
        states = [tf.constant(s) for s in states]
        with tf.GradientTape() as tape:
            tape.watch(states)
            out_rest, *_ = real(x[:, rest], mask=mask[:, rest], initial_state=states)
            if layer.return_sequences:  # (no mask here) output t is h_t itself
                seen = [out_first[:, :-1], states[0][:, None], out_rest]
                out_rest = keras.ops.concatenate(seen, axis=1)
            else:  # the rest all masked: the output is o_t, which is h_t
                # when step t is not masked (else an earlier h, a constant)
                live = np.any(mask[:, rest], axis=1, keepdims=True)
                at_t = mask[:, first][:, 0 if layer.go_backwards else -1, None]
                carried = tf.where(at_t, states[0], out_first)
                out_rest = tf.where(live, out_rest, carried)
            value = mse(head(out_rest))
        grads = tape.gradient(value, states)
        dh[:, t - 1] = grads[0].numpy()
        if dc is not None:
            dc[:, t - 1] = grads[1].numpy()
    # t = T: the gradient w.r.t. the layer's output (the last one), where the
    # last processing step is not masked (a masked one only carries the output).
    last = mask[:, 0] if layer.go_backwards else mask[:, -1]
    out = tf.constant(real(x, mask=mask)[0])
    with tf.GradientTape() as tape:
        tape.watch(out)
        value = mse(head(out))
    grad = tape.gradient(value, out).numpy()
    dh[:, -1] = (grad[:, -1] if layer.return_sequences else grad) * last[:, None]
    return dh, dc  # dc at t = T is left out (it needs the output gate)


CASES = [
    ("lstm", False, {}),
    ("gru", False, {}),
    ("gru", False, {"reset_after": False, "go_backwards": True}),
    ("lstm", True, {"go_backwards": True}),
    ("gru", True, {}),
    ("lstm", False, {"return_sequences": True}),
]


def step_norms(grads):
    """||g_t|| over batch and units, (T,)."""
    return np.linalg.norm(grads.swapaxes(0, 1).reshape(grads.shape[1], -1), axis=1)


def rel_close(got, want, rtol=2e-4):
    """float64 diagnostics vs the float32 real layer: relative to the scale."""
    scale = max(np.max(np.abs(want)), 1e-30)
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale)


@pytest.mark.slow
@pytest.mark.parametrize("kind, masked, kwargs", CASES)
def test_state_gradients_match_the_real_layer(kind, masked, kwargs):
    model = build(kind, masked, **kwargs)
    x = X_MASKED if masked else X
    y = Y_SEQ if kwargs.get("return_sequences") else Y
    report = diagnose(model, x, y, loss="mse")
    dh, dc = reference_state_grads(model, x, y)
    want = step_norms(dh)
    rel_close(report["grad_norms"], want)
    assert report["layer"] == "rnn" and report["cell"] == kind
    # each row's first over its last real step (processing order)
    real = np.any(x != 0, axis=-1) if masked else np.ones(x.shape[:2], bool)
    real = real[:, ::-1] if kwargs.get("go_backwards") else real
    np.testing.assert_allclose(
        report["log10_ratio"], first_to_last_ratio(dh, real), atol=1e-3
    )
    if not masked:
        assert first_to_last_ratio(dh, real) == pytest.approx(
            math.log10(want[0] / want[-1]), rel=1e-12
        )
    if kind == "lstm":
        rel_close(report["cell_grad_norms"][:-1], step_norms(dc)[:-1])


@pytest.mark.slow
@pytest.mark.parametrize("kind, masked, kwargs", CASES)
def test_weight_gradients_match_the_tape_on_the_real_model(kind, masked, kwargs):
    import tensorflow as tf

    model = build(kind, masked, **kwargs)
    x = X_MASKED if masked else X
    y = Y_SEQ if kwargs.get("return_sequences") else Y
    report = diagnose(model, x, y, loss="mse")
    cell = model.get_layer("rnn").cell
    head = model.get_layer("head")
    variables = [cell.kernel, cell.recurrent_kernel, cell.bias, head.kernel]
    with tf.GradientTape() as tape:
        value = keras.ops.mean(keras.losses.mean_squared_error(y, model(x)))
    grads = [g.numpy() for g in tape.gradient(value, variables)]
    for name, g in zip(["Wxh", "Whh", "b", "Why"], grads, strict=True):
        np.testing.assert_allclose(
            report["weight_grad_norms"][name], np.linalg.norm(g), rtol=2e-4
        )
    gates = "ifco" if kind == "lstm" else "zrh"
    for name, g in zip(["Wxh", "Whh", "b"], grads[:3], strict=True):
        for gate, block in zip(gates, np.split(g, len(gates), axis=-1), strict=True):
            np.testing.assert_allclose(
                report["gate_grad_norms"][gate][name],
                np.linalg.norm(block),
                rtol=1e-3,
                atol=1e-6 * np.linalg.norm(g),
            )


def real_states(model, x):
    """The real layer's h_t (and c_t) after each step t = 1..T (no mask,
    forward order): arrays (N, T, H)."""
    real = twin(model.get_layer("rnn"))
    runs = [real(x[:, :t])[1:] for t in range(1, x.shape[1] + 1)]
    return [
        np.stack([np.asarray(run[i]) for run in runs], 1) for i in range(len(runs[0]))
    ]


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_state_and_keep_gate_profiles_match_the_real_layer(kind):
    model = build(kind, reset_after=False) if kind == "gru" else build(kind)
    layer = model.get_layer("rnn")
    kernel, recurrent, bias = layer.get_weights()
    keep = 1 if kind == "lstm" else 0  # f is LSTM's 2nd block, z GRU's 1st
    block = slice(keep * UNITS, (keep + 1) * UNITS)
    bias[block] = [6.0, -6.0, 0.0, 4.6, -4.6]  # open, closed, neither, near both
    layer.set_weights([kernel, recurrent, bias])
    report = diagnose(model, X, Y, loss="mse")
    states = real_states(model, X)
    h = states[0]
    np.testing.assert_allclose(report["variance"], h.var(axis=(0, 2)), atol=1e-6)
    np.testing.assert_allclose(report["mean"], h.mean(axis=(0, 2)), atol=1e-6)
    if kind == "lstm":
        c = states[1]
        np.testing.assert_allclose(
            report["cell_variance"], c.var(axis=(0, 2)), atol=1e-5
        )
        np.testing.assert_allclose(report["cell_mean"], c.mean(axis=(0, 2)), atol=1e-5)
    # The keep gate by the Keras formula on the real layer's h_{t-1}.
    h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
    gate = sigmoid(X @ kernel[:, block] + h_prev @ recurrent[:, block] + bias[block])
    # float32 (real layer) vs float64: one unit per step may sit at a threshold
    one = 1.0 / (BATCH * UNITS) + 1e-12
    assert report["forget_gate"] == ("f" if kind == "lstm" else "z")
    np.testing.assert_allclose(
        report["forget_open"], (gate > 0.99).mean(axis=(0, 2)), atol=one
    )
    np.testing.assert_allclose(
        report["forget_closed"], (gate < 0.01).mean(axis=(0, 2)), atol=one
    )
    assert report["forget_open"].min() >= 0.2 - one  # unit 0 at least
    assert report["forget_closed"].min() >= 0.2 - one  # unit 1 at least


@pytest.mark.parametrize("kind, gates", [("lstm", "ifco"), ("gru", "zrh")])
def test_per_gate_spectral_radius_by_gate_name(kind, gates):
    model = build(kind)
    layer = model.get_layer("rnn")
    kernel, _, bias = layer.get_weights()
    scales = {gate: 0.1 * (i + 1) for i, gate in enumerate(gates)}
    eye = np.eye(UNITS, dtype="float32")
    layer.set_weights([kernel, np.hstack([scales[g] * eye for g in gates]), bias])
    report = diagnose(model, X, Y, loss="mse")
    assert report["gate_spectral_radius"] == pytest.approx(scales, rel=1e-6)
    assert report["gate_max_singular_value"] == pytest.approx(scales, rel=1e-6)
    candidate = scales["c" if kind == "lstm" else "h"]
    assert report["spectral_radius"] == pytest.approx(candidate, rel=1e-6)


@pytest.mark.slow
def test_cell_gradient_does_not_underflow():
    """With no input or recurrent weights, dL/dc_{t-1} = f * dL/dc_t exactly
    (f = sigmoid(-30) constant): over 39 steps 1e-507, below float64."""
    steps = 40
    model = build("lstm")
    layer = model.get_layer("rnn")
    kernel, recurrent, bias = layer.get_weights()
    bias[:] = np.repeat([0.0, -30.0, 1.0, 0.0], UNITS)
    layer.set_weights([0 * kernel, 0 * recurrent, bias])
    x = RNG.normal(size=(BATCH, steps, 3)).astype("float32")
    report = diagnose(model, x, Y, loss="mse")
    log_c = report["log10_cell_grad_norms"]
    assert report["cell_grad_norms"][0] == 0.0  # below float64's range
    assert math.isfinite(log_c[0]) and log_c[0] < -480
    # steps 1..T-2 (dL/dc_T = 0: c_T is not used by anything after the layer)
    np.testing.assert_allclose(
        np.diff(log_c[:-1]), -math.log10(sigmoid(-30.0)), rtol=1e-9
    )


@pytest.mark.slow
def test_callback_logs_and_records_gated_diagnostics():
    from keras_rnninit.diagnostics.callbacks import RNNDiagnostics

    model = build("lstm")
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    diag = RNNDiagnostics((X, Y))
    history = model.fit(X, Y, epochs=2, batch_size=2, verbose=0, callbacks=[diag])
    for key in ("rnn_log10_grad_ratio", "rnn_forget_open_last", "rnn_spectral_radius"):
        assert len(history.history[key]) == 2
    last = diag.records[-1]
    assert last["cell"] == "lstm" and last["step"] == 4
    dh, _ = reference_state_grads(model, X, Y)  # the trained weights
    want = step_norms(dh)
    assert last["rnn_log10_grad_ratio"] == pytest.approx(
        math.log10(want[0] / want[-1]), abs=1e-3
    )
    rel_close(last["grad_norms"], want)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(LENGTHS))
def test_padded_probe_lstm_ratio_and_keep_gate_at_the_last_real_step(case):
    model = masked_model("lstm")
    layer = model.get_layer("rnn")
    kernel, recurrent, bias = layer.get_weights()
    block = slice(UNITS, 2 * UNITS)  # the forget gate f
    bias[block] = [6.0, -6.0, 0.0, 4.6, -4.6]  # open, closed, neither, near both
    layer.set_weights([kernel, recurrent, bias])
    x, y = padded(LENGTHS[case])
    report = diagnose(model, x, y)
    grads, mask = perturbation_grads(model, x, y)
    assert np.all(grads[:, -1] == 0) == (case == "all_padded_at_T")
    assert math.isfinite(report["log10_ratio"])
    assert report["log10_ratio"] == pytest.approx(
        first_to_last_ratio(grads, mask), abs=1e-4
    )
    # f at each row's last real step l: the Keras formula on the real layer's
    # h_{l-1} (its state after the first l - 1 steps, unmasked).
    real, gates = twin(layer), []
    for row, steps in enumerate(mask):
        if steps.any():
            last = np.flatnonzero(steps)[-1]
            h = real(x[row : row + 1, :last])[1] if last else np.zeros((1, UNITS))
            pre = x[row, last] @ kernel[:, block] + h @ recurrent[:, block]
            gates.append(sigmoid(pre + bias[block]))
    gates = np.concatenate(gates)
    one = 1.0 / gates.size + 1e-12  # float32 vs float64 at a threshold
    assert report["forget_open_last"] == pytest.approx((gates > 0.99).mean(), abs=one)
    assert report["forget_closed_last"] == pytest.approx((gates < 0.01).mean(), abs=one)
    assert 0 < report["forget_open_last"] and 0 < report["forget_closed_last"]


@pytest.mark.slow
def test_callback_logs_no_nan_on_a_padded_probe():
    from keras_rnninit.diagnostics.callbacks import RNNDiagnostics

    model = masked_model("lstm")
    x, y = padded(LENGTHS["all_padded_at_T"])
    diag = RNNDiagnostics((x, y))
    history = model.fit(x, y, epochs=2, batch_size=3, verbose=0, callbacks=[diag])
    logged = {k: v for k, v in history.history.items() if k.startswith("rnn_")}
    assert "rnn_forget_open_last" in logged and "rnn_log10_grad_ratio" in logged
    assert all(math.isfinite(v) for values in logged.values() for v in values)
    grads, mask = perturbation_grads(model, x, y)  # the trained weights
    assert logged["rnn_log10_grad_ratio"][-1] == pytest.approx(
        first_to_last_ratio(grads, mask), abs=1e-4
    )
