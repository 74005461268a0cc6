"""Schemes on Keras' LSTM and GRU: per-gate weights, chrono, errors, save/load."""

import math

import keras
import numpy as np
import pytest

from keras_rnninit import XavierRNN, schemes
from keras_rnninit.tasks import adding_problem
from tests.helpers import assert_mean, assert_variance, run_python

GATES = {"lstm": 4, "gru": 3}
GATED = ["chrono", "keras_default", "orthogonal", "pytorch_default", "xavier_rnn"]


def rnn_weights(model):
    return [
        np.asarray(w, dtype="float64") for w in model.get_layer("rnn").get_weights()
    ]


def per_gate(w, cell):
    return np.split(w, GATES[cell], axis=-1)


def test_names_per_cell():
    assert schemes.names("lstm") == GATED
    assert schemes.names("gru") == GATED
    assert "chrono" not in schemes.names()  # the CLI's SimpleRNN list
    assert set(schemes.names(None)) == set(schemes.names()) | {"chrono"}
    for name in schemes.names(None):
        assert schemes.get(name).cells == tuple(sorted(schemes.get(name).cells))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("name", GATED)
def test_every_gated_scheme_fits(name, cell):
    x, y = adding_problem(64, length=8, seed=0)
    model = schemes.get(name).build_model(input_dim=2, units=8, seed=0, cell=cell)
    assert isinstance(
        model.get_layer("rnn"),
        {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell],
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_orthogonal_is_per_gate(cell):
    units = 128
    model = schemes.get("orthogonal").build_model(
        input_dim=units, units=units, cell=cell
    )
    wxh, whh, bias = rnn_weights(model)
    for block in per_gate(whh, cell):
        np.testing.assert_allclose(block @ block.T, np.eye(units), atol=1e-5)
    for block in per_gate(wxh, cell):
        assert_variance(block, 1 / units, 3 / units**2)
    assert not np.any(bias)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_xavier_rnn_gated_variance_and_zero_bias(cell):
    units = 128
    model = schemes.get("xavier_rnn").build_model(input_dim=64, units=units, cell=cell)
    wxh, whh, bias = rnn_weights(model)
    for w, fan_in in ((wxh, 64), (whh, units)):
        for block in per_gate(w, cell):
            assert_mean(block, 0.0, 1 / math.sqrt(fan_in))
            assert_variance(block, 1 / fan_in, 3 / fan_in**2)
    assert not np.any(bias)  # no unit forget bias: the scheme sets the bias


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_keras_default_matches_keras_layer_defaults(cell):
    units = 16
    model = schemes.get("keras_default").build_model(
        input_dim=3, units=units, cell=cell
    )
    _, whh, bias = rnn_weights(model)
    # Keras' Orthogonal on the whole (H, k H) kernel, and its LSTM forget bias 1.
    np.testing.assert_allclose(whh @ whh.T, np.eye(units), atol=1e-5)
    expected = (
        np.repeat([0, 1, 0, 0], units) if cell == "lstm" else np.zeros((2, 3 * units))
    )
    np.testing.assert_array_equal(bias, expected)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_pytorch_default_uniform_everywhere(cell):
    units = 64
    bound = 1 / math.sqrt(units)
    model = schemes.get("pytorch_default").build_model(
        input_dim=units, units=units, cell=cell
    )
    wxh, whh, bias = rnn_weights(model)
    # GRU reset_after=True: bias rows are PyTorch's b_ih and b_hh.
    assert bias.shape == ((4 * units,) if cell == "lstm" else (2, 3 * units))
    for w in (wxh, whh, bias):
        assert np.abs(w).max() <= bound
        # U(-b, b): variance b^2/3, fourth central moment b^4/5.
        assert_variance(w, bound**2 / 3, bound**4 / 5)


def test_chrono_lstm_and_gru_biases():
    units, max_length = 256, 100
    lstm = schemes.get("chrono").build_model(input_dim=2, units=units, cell="lstm")
    assert lstm.get_layer("rnn").unit_forget_bias is False
    wxh, whh, bias = rnn_weights(lstm)
    b_i, b_f, b_c, b_o = per_gate(bias, "lstm")
    u = np.exp(b_f)  # ~ U[1, T - 1]
    width = max_length - 2
    assert_mean(u, max_length / 2, width / math.sqrt(12))
    assert u.min() >= 1 - 1e-4 and u.max() <= max_length - 1 + 1e-3
    np.testing.assert_array_equal(b_i, -b_f)
    assert not np.any(b_c) and not np.any(b_o)
    for block in per_gate(whh, "lstm"):
        np.testing.assert_allclose(block @ block.T, np.eye(units), atol=1e-5)
    gru = schemes.get("chrono").build_model(input_dim=2, units=units, cell="gru")
    _, _, bias = rnn_weights(gru)
    b_z, b_r, b_h = per_gate(bias[0], "gru")
    assert_mean(np.exp(b_z), max_length / 2, width / math.sqrt(12))
    assert not np.any(b_r) and not np.any(b_h) and not np.any(bias[1])


def test_custom_chrono_max_length():
    scheme = schemes.chrono(10, name="chrono10")
    model = schemes.get(scheme).build_model(input_dim=2, units=512, cell="lstm")
    b_f = per_gate(rnn_weights(model)[2], "lstm")[1]
    assert np.exp(b_f).max() <= 9 + 1e-4 and np.exp(b_f).min() >= 1 - 1e-4
    with pytest.raises(
        ValueError, match=r"^`max_length` must be a finite number > 2\."
    ):
        schemes.chrono(1)


def test_gated_seeds_reproducible_and_distinct():
    scheme = schemes.get("orthogonal")
    a = scheme.build_model(input_dim=8, units=8, seed=0, cell="lstm").get_weights()
    b = scheme.build_model(input_dim=8, units=8, seed=0, cell="lstm").get_weights()
    c = scheme.build_model(input_dim=8, units=8, seed=1, cell="lstm").get_weights()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(
    "name, cell, supported",
    [
        ("irnn", "lstm", "simple"),
        ("he", "gru", "simple"),
        ("uniform01", "lstm", "simple"),
        ("chrono", "simple", "gru, lstm"),
        ("xavier_rnn", "rnn", "gru, lstm, simple"),
    ],
)
def test_unsupported_cell_is_refused(name, cell, supported):
    with pytest.raises(
        ValueError,
        match=rf"^`cell` must be one of {supported} for scheme '{name}'\. "
        rf"Received: cell='{cell}'$",
    ):
        schemes.get(name).build_model(input_dim=2, units=4, cell=cell)


def test_bad_cell_type_and_rnn_layer_for_gated_cell():
    with pytest.raises(TypeError, match=r"^`cell` must be one of gru, lstm, simple\. "):
        schemes.get("xavier_rnn").build_model(input_dim=2, units=4, cell=None)
    with pytest.raises(ValueError, match=r"^`rnn_layer` must be None for a gated cell"):
        schemes.get("xavier_rnn").build_model(
            input_dim=2, units=4, cell="lstm", rnn_layer=keras.layers.SimpleRNN
        )
    with pytest.raises(
        ValueError, match=r"^`cell` must be one of gru, lstm, simple or None"
    ):
        schemes.names("rnn")


def test_simple_cell_is_unchanged_by_per_gate_factories():
    # cell="simple" builds gates=1 initializers, i.e. the plain XavierRNN.
    model = schemes.get("xavier_rnn").build_model(input_dim=4, units=4, seed=3)
    inits = schemes.get("xavier_rnn").initializers(4, seed=3)
    assert (
        inits.recurrent.get_config()
        == XavierRNN(seed=inits.recurrent.seed).get_config()
    )
    np.testing.assert_array_equal(
        rnn_weights(model)[1], np.asarray(XavierRNN(seed=inits.recurrent.seed)((4, 4)))
    )


# Loads each .keras file (argv[2:], pairs of model and output path) in one
# fresh process, where only `import keras_rnninit` registers our classes.
LOAD = """
import sys, numpy as np, keras
import keras_rnninit
x = np.load(sys.argv[1])
for path, out in zip(sys.argv[2::2], sys.argv[3::2]):
    np.save(out, np.asarray(keras.saving.load_model(path)(x)))
"""


def test_fit_save_load_in_fresh_process(tmp_path):
    from keras_rnninit import XavierGRUCell, XavierLSTMCell

    x, y = adding_problem(32, length=6, seed=0)
    np.save(tmp_path / "x.npy", x)
    models = {
        "chrono_lstm": schemes.get("chrono").build_model(
            input_dim=2, units=4, cell="lstm"
        ),
        "orthogonal_gru": schemes.get("orthogonal").build_model(
            input_dim=2, units=4, cell="gru"
        ),
        "cells": keras.Sequential(
            [
                keras.Input((None, 2)),
                keras.layers.RNN([XavierLSTMCell(4, seed=0), XavierGRUCell(4, seed=1)]),
                keras.layers.Dense(1),
            ]
        ),
    }
    files = []
    for name, model in models.items():
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        model.save(tmp_path / f"{name}.keras")
        files += [tmp_path / f"{name}.keras", tmp_path / f"{name}.npy"]
    done = run_python("-c", LOAD, tmp_path / "x.npy", *files, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for name, model in models.items():
        out = np.load(tmp_path / f"{name}.npy")
        np.testing.assert_allclose(out, np.asarray(model(x)), atol=1e-6, err_msg=name)
