import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rnninit import XavierRNN, XavierRNNCell
from keras_rnninit.diagnostics import (
    diagnose,
    first_nonfinite,
    recurrent_parts,
    spectrum,
    state_profile,
    unroll,
    vanishing_ratio_log10,
    weight_gradient_norms,
)
from tests.diagnostics.helpers import (
    LENGTHS,
    first_to_last_ratio,
    masked_model,
    padded,
    perturbation_grads,
)

RNG = np.random.default_rng(0)


X = RNG.normal(size=(6, 12, 3)).astype("float32")


Y1 = RNG.normal(size=(6, 1)).astype("float32")


def head_model(return_sequences=False, before=False, activation="tanh"):
    inputs = keras.Input((None, 3))
    h = (
        keras.layers.Dense(4, activation="tanh", name="pre")(inputs)
        if before
        else inputs
    )
    h = keras.layers.SimpleRNN(
        5,
        activation=activation,
        return_sequences=return_sequences,
        kernel_initializer=XavierRNN(seed=1),
        recurrent_initializer=XavierRNN(gain=1.5, seed=2),
        bias_initializer="random_normal",
        name="rnn",
    )(h)
    outputs = keras.layers.Dense(2, name="head")(h)
    return keras.Model(inputs, outputs)


def autodiff_grad_norms(model, x, y):
    """Independent float64 TF unroll; total dL/dh_t of every step by the tape."""
    rnn = model.get_layer("rnn")
    w, u, b = (tf.constant(v, tf.float64) for v in rnn.get_weights())
    head_w, head_b = (
        tf.constant(v, tf.float64) for v in model.get_layer("head").get_weights()
    )
    act = {"tanh": tf.tanh, "relu": tf.nn.relu}[rnn.cell.activation.__name__]
    seq = x
    if "pre" in [layer.name for layer in model.layers]:
        seq = model.get_layer("pre")(x)
    seq = tf.constant(np.asarray(seq), tf.float64)
    y = tf.constant(y, tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        h = tf.zeros((x.shape[0], 5), tf.float64)
        states = []
        for t in range(x.shape[1]):
            h = act(seq[:, t] @ w + h @ u + b)
            tape.watch(h)
            states.append(h)
        if rnn.return_sequences:
            pred = tf.stack(states, axis=1) @ head_w + head_b
        else:
            pred = states[-1] @ head_w + head_b
        loss = tf.reduce_mean(tf.reduce_mean((pred - y) ** 2, axis=-1))
    grads = tape.gradient(loss, states)
    return np.array([np.linalg.norm(g.numpy()) for g in grads])


def report_bias_path(model):
    return model.layers[-1].bias.path


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"return_sequences": True},
        {"before": True},
        {"activation": "relu"},
    ],
)
def test_gradient_through_time_matches_autodiff(kwargs):
    model = head_model(**kwargs)
    y = RNG.normal(size=(6, 12, 2) if kwargs.get("return_sequences") else (6, 2))
    y = y.astype("float32")
    report = diagnose(model, X, y, loss="mse")
    expected = autodiff_grad_norms(model, X, y)
    np.testing.assert_allclose(report["grad_norms"], expected, rtol=1e-5)
    assert math.isclose(
        report["log10_ratio"], math.log10(expected[0] / expected[-1]), rel_tol=1e-5
    )


def test_states_match_keras():
    model = head_model(return_sequences=True)
    parts = recurrent_parts(model)
    _, states = unroll(parts, X)
    seq_model = keras.Model(model.inputs[0], model.get_layer("rnn").output)
    np.testing.assert_allclose(states, seq_model(X), atol=1e-5)
    profile = state_profile(states)
    np.testing.assert_allclose(profile["variance"], states.var(axis=(0, 2)))
    assert profile["saturated"].shape == (12,)


def test_works_with_cell_and_sequential():
    model = keras.Sequential(
        [
            keras.Input((None, 3)),
            keras.layers.RNN(XavierRNNCell(4, seed=0)),
            keras.layers.Dense(1),
        ]
    )
    report = diagnose(model, X, Y1)
    assert report["grad_norms"].shape == (12,) and report["log10_ratio"] < 0
    assert set(report["weight_grad_norms"]) == {
        "Wxh",
        "Whh",
        "b",
        "Why",
        report_bias_path(model),
    }


def test_weight_gradient_norms_match_finite_differences():
    model = head_model()
    y = Y1[:, [0, 0]]
    norms = weight_gradient_norms(model, X, y, loss="mse")
    rnn, head = model.get_layer("rnn"), model.get_layer("head")
    w, u, b = (v.astype("float64") for v in rnn.get_weights())
    wy, by = (v.astype("float64") for v in head.get_weights())
    x, target = X.astype("float64"), y.astype("float64")

    def loss(u):
        h = np.zeros((x.shape[0], u.shape[0]))
        for t in range(x.shape[1]):
            h = np.tanh(x[:, t] @ w + h @ u + b)
        return np.mean((h @ wy + by - target) ** 2)

    grad, eps = np.zeros_like(u), 1e-6
    for index in np.ndindex(u.shape):
        step = np.zeros_like(u)
        step[index] = eps
        grad[index] = (loss(u + step) - loss(u - step)) / (2 * eps)
    assert math.isclose(norms["Whh"], np.linalg.norm(grad), rel_tol=1e-4)
    assert {"Wxh", "Whh", "b", "Why"} <= set(norms)


def test_spectrum():
    assert spectrum(0.5 * np.eye(4)) == {
        "spectral_radius": 0.5,
        "max_singular_value": 0.5,
    }
    rotation = np.array([[0.0, -2.0], [2.0, 0.0]])
    assert math.isclose(spectrum(rotation)["spectral_radius"], 2.0)
    assert math.isnan(spectrum([[np.nan]])["spectral_radius"])


def test_vanishing_ratio_edge_cases():
    assert vanishing_ratio_log10(np.array([1e-3, 1.0])) == pytest.approx(-3)
    assert vanishing_ratio_log10(np.array([0.0, 1.0])) == float("-inf")
    assert math.isnan(vanishing_ratio_log10(np.array([np.inf, 1.0])))


def test_first_nonfinite_names_weight_then_step():
    model = head_model(activation="relu")
    assert first_nonfinite(model, X) is None
    rnn = model.get_layer("rnn")
    u = rnn.cell.recurrent_kernel
    u.assign(np.full(u.shape, np.inf, "float32"))
    assert first_nonfinite(model, X) == {"where": "weight", "name": "Whh", "step": None}
    u.assign(np.full(u.shape, 1e30, "float32"))
    rnn.cell.kernel.assign(np.abs(rnn.cell.kernel.numpy()) + 1.0)
    found = first_nonfinite(model, np.abs(X))
    assert (
        found["where"] == "state" and found["name"] == "h" and 2 <= found["step"] <= 12
    )


def test_errors():
    no_rnn = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="must contain a SimpleRNN, LSTM or GRU"):
        diagnose(no_rnn, X[:, 0], Y1)
    with pytest.raises(ValueError, match="`model` must contain a SimpleRNN-style"):
        recurrent_parts(no_rnn)
    lstm = keras.Sequential(
        [
            keras.Input((None, 3)),
            keras.layers.LSTM(2, name="lstm"),
            keras.layers.Dense(1),
        ]
    )
    # The float64 SimpleRNN replay takes no LSTM (diagnose() does, by the tape).
    with pytest.raises(ValueError, match="`layer` must be a keras.layers.SimpleRNN"):
        recurrent_parts(lstm, layer="lstm")
    elu = head_model(activation="elu")
    with pytest.raises(ValueError, match="`activation` of 'rnn' must be one of"):
        diagnose(elu, X, Y1)


@pytest.mark.slow
def test_gradient_norms_do_not_underflow():
    # Linear units, Whh = c I: dL/dh_t = c^(T - t) dL/dh_T exactly, so the
    # norms fall by a factor c per step: down to 1e-236 at t = 1 with T = 120,
    # c = 1e-2, and to 1e-396 (below float64) with T = 200.
    c = float(np.float32(1e-2))  # the float32 weight Whh actually holds
    for steps in (120, 200):
        inputs = keras.Input((None, 3))
        h = keras.layers.SimpleRNN(
            4,
            activation="linear",
            kernel_initializer=XavierRNN(seed=1),
            recurrent_initializer=keras.initializers.Identity(gain=c),
            name="rnn",
        )(inputs)
        model = keras.Model(inputs, keras.layers.Dense(2, name="head")(h))
        x = RNG.normal(size=(3, steps, 3)).astype("float32")
        y = RNG.normal(size=(3, 2)).astype("float32")
        report = diagnose(model, x, y, loss="mse")
        # dL/dh_T by hand (any backend): L = mean over batch and outputs of
        # (pred - y)^2 with pred = h_T W + b, so dL/dh_T = 2 (pred - y) W^T / size.
        out = np.asarray(keras.Model(inputs, h)(x), "float64")
        head = model.get_layer("head")
        kernel, bias = (np.asarray(w, "float64") for w in head.weights)
        residual = out @ kernel + bias - y
        last = float(np.linalg.norm(2.0 * residual @ kernel.T / residual.size))
        assert math.isclose(report["grad_norms"][-1], last, rel_tol=1e-5)
        expected_log = math.log10(last) + np.arange(steps - 1, -1, -1) * math.log10(c)
        # dL/dh_T is float32 (both sides): 1e-6 in log10 is 2e-6 relative.
        np.testing.assert_allclose(
            report["log10_grad_norms"], expected_log, rtol=0, atol=1e-6
        )
        assert math.isclose(
            report["log10_ratio"], (steps - 1) * math.log10(c), rel_tol=1e-7
        )
        representable = expected_log > -307
        np.testing.assert_allclose(
            report["grad_norms"][representable],
            10.0 ** expected_log[representable],
            rtol=1e-6,
        )
    assert report["grad_norms"][0] == 0.0  # 1e-396 is below float64's range


@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True}, {"before": True}])
def test_diagnose_weight_gradients_match_autodiff(kwargs):
    # diagnose() gets Wxh, Whh, b from the float64 BPTT pass and the head's
    # weights from its small tape; weight_gradient_norms() differentiates the
    # whole model with the backend's autodiff.
    model = head_model(**kwargs)
    shape = (6, 12, 2) if kwargs.get("return_sequences") else (6, 2)
    y = RNG.normal(size=shape).astype("float32")
    fast = diagnose(model, X, y, loss="mse")["weight_grad_norms"]
    slow = weight_gradient_norms(model, X, y, loss="mse")
    for name in ("Wxh", "Whh", "b", "Why"):
        assert math.isclose(fast[name], slow[name], rel_tol=1e-4), name


@pytest.mark.slow
def test_names_layer_refuses_bidirectional_and_adds_no_graph_nodes():
    inputs = keras.Input((None, 3))
    h = keras.layers.SimpleRNN(5, return_sequences=True, name="low")(inputs)
    h = keras.layers.SimpleRNN(4, name="high")(h)
    head = keras.layers.Dense(1, name="head")
    model = keras.Model(inputs, head(h))
    assert diagnose(model, X, Y1)["layer"] == "low"
    assert diagnose(model, X, Y1, layer="high")["layer"] == "high"
    nodes = len(head._inbound_nodes)
    for _ in range(3):  # a callback diagnoses every epoch: no new graph nodes
        diagnose(model, X, Y1, layer="high")
    assert len(head._inbound_nodes) == nodes
    bi = keras.Model(
        inputs,
        keras.layers.Dense(1)(
            keras.layers.Bidirectional(keras.layers.SimpleRNN(3), name="bi")(inputs)
        ),
    )
    # The wrapper runs two layers: one line naming them (each is diagnosed).
    with pytest.raises(ValueError, match="pass its `forward_layer` or.*layer='bi'"):
        diagnose(bi, X, Y1)
    direction = bi.get_layer("bi").forward_layer
    assert diagnose(bi, X, Y1, layer=direction.name)["layer"] == direction.name


@pytest.mark.skipif(
    keras.backend.backend() == "tensorflow", reason="the refusal under other backends"
)
def test_gated_layers_need_tensorflow():
    lstm = keras.Sequential(
        [
            keras.Input((None, 3)),
            keras.layers.LSTM(2, name="lstm"),
            keras.layers.Dense(1),
        ]
    )
    with pytest.raises(ValueError, match="need the tensorflow backend"):
        diagnose(lstm, X, Y1)
    # weights alone need no tape: the per-weight norms and the NaN check work
    assert set(weight_gradient_norms(lstm, X, Y1)) >= {"Wxh", "Whh", "b", "Why"}
    assert first_nonfinite(lstm) is None


@pytest.mark.parametrize("case", sorted(LENGTHS))
def test_padded_probe_ratio_is_first_to_last_real_step(case):
    model = masked_model()
    x, y = padded(LENGTHS[case])
    report = diagnose(model, x, y)
    grads, mask = perturbation_grads(model, x, y)
    # Every row padded at T: dL/ds_T is exactly 0 (log10 ratio 1 / 0 was NaN).
    assert np.all(grads[:, -1] == 0) == (case == "all_padded_at_T")
    assert math.isfinite(report["log10_ratio"])
    assert math.isclose(
        report["log10_ratio"], first_to_last_ratio(grads, mask), abs_tol=1e-5
    )
    # The per-step norms stay those of dL/ds_t over the whole batch.
    norms = np.linalg.norm(grads.reshape(*grads.shape[:2], -1), axis=(0, 2))
    np.testing.assert_allclose(
        report["grad_norms"], norms, rtol=0, atol=1e-5 * norms.max()
    )
    # The states at each row's last real step: T carries them there.
    real = mask.any(axis=1)
    ends = keras.ops.convert_to_numpy(model.get_layer("rnn")(x, mask=mask))[real]
    assert math.isclose(report["variance_last"], ends.var(), rel_tol=1e-5)


def test_padding_leaves_the_ratio_unchanged():
    # Rows of one length L padded to T: the diagnosis of the first L steps.
    model = masked_model()
    x, y = padded([6] * 4)
    report = diagnose(model, x, y)
    short = diagnose(model, x[:, :6], y)
    assert math.isclose(report["log10_ratio"], short["log10_ratio"], rel_tol=1e-9)
    # Unmasked, the ratio is exactly the ends of the per-step profile.
    profile = short["log10_grad_norms"]
    assert short["log10_ratio"] == profile[0] - profile[-1]
    assert short["variance_last"] == pytest.approx(short["variance"][-1], rel=1e-12)


def test_ratio_edge_cases_and_an_all_masked_probe():
    from keras_rnninit.diagnostics.profiles import _sequence_ends, _sequence_ratio_log10
    from keras_rnninit.diagnostics.recurrent import Gradients

    mask = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 0]])[..., None]
    ends = _sequence_ends(mask)
    assert [a.tolist() for a in ends] == [[0, 1], [0, 1], [1, 2]]
    # g at (row 0: steps 0, 1), (row 1: steps 1, 2); 3-4-5 triangles
    mantissa = np.zeros((3, 3, 2))
    mantissa[0, 0], mantissa[1, 1] = [0.375, 0], [0, 0.5]  # ||G_first|| = 0.625
    mantissa[0, 1], mantissa[1, 2] = [0, 0], [0.5, 0]  # ||G_last|| = 0.5 * 2**-1100
    grads = Gradients(mantissa, np.array([0, 0, -1100]))
    ratio = _sequence_ratio_log10(grads, ends)
    assert ratio == pytest.approx(math.log10(1.25) + 1100 * math.log10(2), rel=1e-12)
    grads.mantissa[[0, 1], [0, 1]] = 0.0
    assert _sequence_ratio_log10(grads, ends) == float("-inf")
    grads.mantissa[1, 2] = 0.0  # no gradient at any sequence's end: undefined
    assert math.isnan(_sequence_ratio_log10(grads, ends))
    model = masked_model()
    x, y = padded([0, 0, 0])
    with pytest.raises(ValueError, match="`x` must have at least one unmasked") as e:
        diagnose(model, x, y)
    assert "\n" not in str(e.value)
