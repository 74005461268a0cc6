"""The float64 replay describes the network that trains: go_backwards, masks,
initial_state and stateful state, on SimpleRNN, FastSimpleRNN and
RNN(XavierRNNCell), checked against the backend's autodiff on the real model
(per-weight gradient norms of the loss `fit` minimises) and against the real
layer (final state)."""

import math

import keras
import numpy as np
import pytest

from keras_rnninit import XavierRNN, XavierRNNCell
from keras_rnninit.diagnostics import diagnose, forward, recurrent_parts
from keras_rnninit.layers import FastSimpleRNN
from tests.helpers import fit_gradient_norms

BATCH, STEPS, UNITS = 4, 7, 5
RNG = np.random.default_rng(3)
X = RNG.normal(size=(BATCH, STEPS, 3)).astype("float32")
# Masked steps: a trailing run, a hole in the middle, a leading run.
KEEP = np.ones((BATCH, STEPS), bool)
KEEP[0, 5:] = False
KEEP[1, 2:4] = False
KEEP[2, :3] = False
TOKENS = RNG.integers(1, 10, size=(BATCH, STEPS)) * KEEP
STATE = RNG.normal(scale=0.5, size=(BATCH, UNITS)).astype("float32")


def rnn_layer(kind, **kwargs):
    init = {
        "kernel_initializer": XavierRNN(seed=1),
        "recurrent_initializer": XavierRNN(gain=1.3, seed=2),
        "bias_initializer": keras.initializers.RandomNormal(seed=4),
    }
    if kind == "SimpleRNN":
        return keras.layers.SimpleRNN(UNITS, name="rnn", **init, **kwargs)
    if kind == "FastSimpleRNN":
        return FastSimpleRNN(UNITS, name="rnn", **init, **kwargs)
    return keras.layers.RNN(XavierRNNCell(UNITS, **init), name="rnn", **kwargs)


def build(kind, setting, **kwargs):
    """(model, model input) for one configuration."""
    if setting == "embedding":
        inputs = keras.Input((None,), dtype="int32")
        seq = keras.layers.Embedding(10, 3, mask_zero=True, name="emb")(inputs)
        h, x = rnn_layer(kind, **kwargs)(seq), TOKENS
    elif setting == "masking":
        inputs = keras.Input((None, 3))
        seq = keras.layers.Masking(0.0)(inputs)
        h, x = rnn_layer(kind, **kwargs)(seq), X * KEEP[..., None]
    elif setting == "initial_state":
        inputs = [keras.Input((None, 3)), keras.Input((UNITS,))]
        h = rnn_layer(kind, **kwargs)(inputs[0], initial_state=[inputs[1]])
        x = [X, STATE]
    elif setting == "stateful":
        inputs = keras.Input((None, 3), batch_size=BATCH)
        h, x = rnn_layer(kind, stateful=True, **kwargs)(inputs), X
    else:
        inputs = keras.Input((None, 3))
        h, x = rnn_layer(kind, **kwargs)(inputs), X
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(h))
    if setting == "stateful":
        model.get_layer("rnn").states[0].assign(STATE)
    return model, x


def reference_final_state(model, setting, x):
    """The final state of a plain keras.layers.SimpleRNN with the same
    weights and settings, run by Keras on the same sequence/mask/state."""
    layer = model.get_layer("rnn")
    ref = keras.layers.SimpleRNN(
        UNITS,
        go_backwards=layer.go_backwards,
        return_state=True,
        activation=layer.cell.activation,
    )
    seq, mask, initial = x, None, None
    if setting == "embedding":
        seq, mask = model.get_layer("emb")(x), x != 0
    elif setting == "masking":
        mask = np.any(x != 0, axis=-1)
    elif setting == "initial_state":
        seq, initial = x
    elif setting == "stateful":
        initial = [keras.ops.convert_to_numpy(layer.states[0])]
    ref(seq)  # build
    ref.set_weights(layer.get_weights())
    _, state = ref(seq, mask=mask, initial_state=initial)
    return np.asarray(state)


def tape_norms(model, x, y):
    """Per-weight gradient norms of the real model by the backend's autodiff
    on the loss `fit` minimises with MSE (`compute_loss`: the output mask
    applies)."""
    layer, head = model.get_layer("rnn"), model.get_layer("head")
    model.compile(loss="mse")
    found = fit_gradient_norms(model, x, y)
    watched = {
        "Wxh": layer.cell.kernel,
        "Whh": layer.cell.recurrent_kernel,
        "b": layer.cell.bias,
        "Why": head.kernel,
    }
    return {key: found[variable.path] for key, variable in watched.items()}


CASES = [
    ("go_backwards", {"go_backwards": True}),
    ("embedding", {}),
    ("masking", {}),
    ("masking", {"go_backwards": True}),
    ("masking", {"return_sequences": True}),
    ("masking", {"return_sequences": True, "zero_output_for_mask": True}),
    ("initial_state", {}),
    ("initial_state", {"go_backwards": True}),
    ("stateful", {}),
]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["SimpleRNN", "FastSimpleRNN", "RNN"])
@pytest.mark.parametrize("setting, kwargs", CASES)
def test_replay_matches_the_real_model(kind, setting, kwargs):
    if setting == "embedding" and kwargs.get("return_sequences"):
        pytest.skip("not a case")
    model, x = build(kind, setting, **kwargs)
    shape = (BATCH, STEPS, 2) if kwargs.get("return_sequences") else (BATCH, 2)
    y = np.random.default_rng(5).normal(size=shape).astype("float32")
    final = reference_final_state(model, setting, x)
    parts = recurrent_parts(model)
    np.testing.assert_allclose(forward(parts, x).states[:, -1], final, atol=1e-5)
    report = diagnose(model, x, y, loss="mse")
    assert report["layer"] == "rnn"
    if setting == "stateful":  # the diagnosis leaves the state alone
        np.testing.assert_array_equal(model.get_layer("rnn").states[0], STATE)
    expected = tape_norms(model, x, y)
    for name, value in expected.items():
        assert math.isclose(report["weight_grad_norms"][name], value, rel_tol=1e-4), (
            name,
            report["weight_grad_norms"][name],
            value,
        )
    if setting == "stateful" and keras.backend.backend() == "tensorflow":
        # the tape ran the real layer (JAX's is stateless): it holds s_T now
        np.testing.assert_allclose(model.get_layer("rnn").states[0], final, atol=1e-5)
