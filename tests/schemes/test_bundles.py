import math

import keras
import numpy as np
import pytest

from keras_rnninit import ScaledIdentity, XavierRNN, schemes
from keras_rnninit.tasks import adding_problem
from tests.helpers import (
    assert_mean,
    assert_variance,
    load_in_one_fresh_process,
    save_with_reference,
)

UNITS = 256


def rnn_weights(model):
    rnn = model.get_layer("rnn")
    wxh, whh, b = (np.asarray(w, dtype="float64") for w in rnn.get_weights())
    why, by = (
        np.asarray(w, dtype="float64") for w in model.get_layer("output").get_weights()
    )
    return wxh, whh, b, why, by


N = 256


LONG_RANGE = [
    "critical_tanh",
    "irnn_xavier",
    "np_rnn",
    "orthogonal_linear",
    "spectral_095",
    "uniform_diag",
]


def rnn(model):
    layer = model.get_layer("rnn")
    wxh, whh, _ = (np.asarray(w, dtype="float64") for w in layer.get_weights())
    return layer, wxh, whh


GATES = {"lstm": 4, "gru": 3}


GATED = [
    "chrono",
    "chrono_length",
    "keras_default",
    "orthogonal",
    "pytorch_default",
    "xavier_rnn",
]


def gated_weights(model):
    return [
        np.asarray(w, dtype="float64") for w in model.get_layer("rnn").get_weights()
    ]


def per_gate(w, cell):
    return np.split(w, GATES[cell], axis=-1)


def test_names_sorted_and_complete():
    assert schemes.names() == sorted(schemes.names())
    assert {
        "he",
        "irnn",
        "keras_default",
        "orthogonal",
        "pytorch_default",
        "uniform01",
        "xavier_rnn",
    } <= set(schemes.names())


def test_get_unknown_lists_sorted_names():
    with pytest.raises(ValueError) as info:
        schemes.get("xavier")
    message = str(info.value)
    assert message.startswith(
        "`name` must be one of critical_tanh, he, irnn, irnn_xavier, keras_default,"
    )
    assert message.endswith("Received: name='xavier'")


def test_get_wrong_type():
    with pytest.raises(TypeError, match="`name` must be a scheme name"):
        schemes.get(3)


def test_register_rejects_duplicates_and_non_schemes():
    with pytest.raises(ValueError, match="already registered"):
        schemes.register(schemes.get("he"))
    with pytest.raises(TypeError, match="`scheme` must be a `Scheme`"):
        schemes.register("he")


def test_get_returns_scheme_instances_as_is():
    scheme = schemes.get("he")
    assert schemes.get(scheme) is scheme


def test_xavier_rnn_weights_have_one_over_fan_in_variance():
    model = schemes.get("xavier_rnn").build_model(input_dim=UNITS, units=UNITS, seed=0)
    wxh, whh, b, why, _ = rnn_weights(model)
    for w in (wxh, whh):
        assert_variance(w, 1 / UNITS, 3 / UNITS**2)
    # Why has only UNITS samples: 5 standard errors of sqrt(2/n) relative.
    assert abs(why.var() * UNITS - 1) < 5 * math.sqrt(2 / UNITS)
    assert not np.any(b)


def test_irnn_identity_and_small_input_weights():
    scheme = schemes.get("irnn")
    model = scheme.build_model(input_dim=2, units=32, seed=0)
    wxh, whh, *_ = rnn_weights(model)
    np.testing.assert_array_equal(whh, np.eye(32))
    assert abs(wxh.std() - 0.001) < 0.0005
    assert model.get_layer("rnn").cell.activation is keras.activations.relu


def test_uniform01_all_positive():
    wxh, whh, _, why, _ = rnn_weights(
        schemes.get("uniform01").build_model(input_dim=3, units=16, seed=0)
    )
    assert min(wxh.min(), whh.min(), why.min()) >= 0


def test_pytorch_default_bounds_everywhere():
    units = 64
    bound = 1 / math.sqrt(units)
    weights = rnn_weights(
        schemes.get("pytorch_default").build_model(input_dim=3, units=units, seed=0)
    )
    for w in weights:
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.5 * bound  # biases are drawn, not zero


def test_keras_default_recurrent_is_orthogonal():
    _, whh, *_ = rnn_weights(
        schemes.get("keras_default").build_model(input_dim=3, units=32, seed=0)
    )
    np.testing.assert_allclose(whh @ whh.T, np.eye(32), atol=1e-5)


def test_seeded_models_are_reproducible_and_distinct():
    scheme = schemes.get("xavier_rnn")
    a = scheme.build_model(input_dim=8, units=8, seed=0).get_weights()
    b = scheme.build_model(input_dim=8, units=8, seed=0).get_weights()
    c = scheme.build_model(input_dim=8, units=8, seed=1).get_weights()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    # Square Wxh and Whh get different seeds, and seed 1's Wxh is not seed 0's Whh.
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(c[0], a[1])
    assert not np.array_equal(a[0], c[0])


def test_build_model_options():
    model = schemes.get("orthogonal").build_model(
        input_dim=5,
        units=4,
        output_units=3,
        seq_len=7,
        batch_size=2,
        return_sequences=True,
        output_activation="softmax",
    )
    assert model.input_shape == (2, 7, 5)
    assert model.output_shape == (2, 7, 3)
    assert model.inputs[0].name == "sequence"


@pytest.mark.slow
@pytest.mark.parametrize("name", schemes.names())
def test_every_scheme_fits(name):
    x, y = adding_problem(128, length=10, seed=0)
    model = schemes.get(name).build_model(input_dim=2, units=8, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_custom_scheme_with_scaled_identity_gain():
    scheme = schemes.Scheme(
        "half_identity",
        "test scheme",
        kernel=lambda u, s: keras.initializers.Zeros(),
        recurrent=lambda u, s: ScaledIdentity(gain=0.5),
        output=lambda u, s: keras.initializers.Zeros(),
    )
    _, whh, *_ = rnn_weights(scheme.build_model(input_dim=2, units=4))
    np.testing.assert_array_equal(whh, 0.5 * np.eye(4))


def test_long_range_schemes_registered_for_simple_rnn():
    assert set(LONG_RANGE) <= set(schemes.names())
    for name in LONG_RANGE:
        assert schemes.get(name).cells == ("simple",)


def test_np_rnn_scheme():
    layer, wxh, whh = rnn(schemes.get("np_rnn").build_model(2, N, seed=0))
    assert schemes.get("np_rnn").activation == "relu"
    assert layer.activation is keras.activations.relu
    np.testing.assert_allclose(whh, whh.T)
    assert abs(np.linalg.eigvalsh(whh).max() - 1.0) < 1e-5
    assert_variance(wxh, 0.001**2, 3 * 0.001**4)  # N(0, 0.001²)


def test_critical_tanh_scheme():
    layer, wxh, whh = rnn(schemes.get("critical_tanh").build_model(2, N, seed=0))
    assert layer.activation is keras.activations.tanh
    np.testing.assert_allclose(whh @ whh.T, np.eye(N), atol=1e-5)
    assert_variance(wxh, 0.01**2, 3 * 0.01**4)


def test_orthogonal_linear_scheme():
    """Henaff et al.'s LT-ORNN: the state is exactly x Wxh + h Whh."""
    model = schemes.get("orthogonal_linear").build_model(2, N, seed=0)
    layer, wxh, whh = rnn(model)
    assert layer.activation is keras.activations.linear
    np.testing.assert_allclose(whh @ whh.T, np.eye(N), atol=1e-5)
    assert_variance(wxh, 0.5, 3 * 0.5**2)  # XavierRNN over fan_in 2
    # No squashing anywhere: the recurrence is the linear map, checked by hand.
    x = np.random.default_rng(0).normal(size=(3, 5, 2)).astype("float32")
    h = np.zeros((3, N))
    for t in range(5):
        h = x[:, t] @ wxh + h @ whh
    last = keras.ops.convert_to_numpy(keras.Model(model.inputs, layer.output)([x]))
    np.testing.assert_allclose(last, h, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["irnn_xavier", "uniform_diag", "uniform_diag_half"])
def test_relu_schemes_with_full_size_input_weights(name):
    layer, wxh, whh = rnn(schemes.get(name).build_model(2, N, seed=0))
    assert schemes.get(name).activation == "relu"
    assert layer.activation is keras.activations.relu
    np.testing.assert_array_equal(whh, np.diag(np.diag(whh)))
    if name == "irnn_xavier":
        np.testing.assert_array_equal(whh, np.eye(N))
    else:
        # U[0, h]: variance h²/12, fourth central moment h⁴/80.
        h = 0.5 if name == "uniform_diag_half" else 1.0
        assert 0 <= np.diag(whh).min() and np.diag(whh).max() < h
        assert_variance(np.diag(whh), h**2 / 12, h**4 / 80)
    # XavierRNN over fan_in 2: N(0, 1/2), not irnn's N(0, 0.001²).
    assert_variance(wxh, 0.5, 3 * 0.5**2)


def test_spectral_095_scheme():
    layer, wxh, whh = rnn(schemes.get("spectral_095").build_model(2, 64, seed=0))
    assert layer.activation is keras.activations.tanh
    assert abs(np.abs(np.linalg.eigvals(whh)).max() - 0.95) < 1e-4
    assert_variance(wxh, 0.01**2, 3 * 0.01**4)


@pytest.mark.parametrize("name", LONG_RANGE)
def test_scheme_seeds(name):
    def weights(seed):
        return schemes.get(name).build_model(2, 8, seed=seed).get_weights()

    for a, b in zip(weights(4), weights(4), strict=True):
        np.testing.assert_array_equal(a, b)
    # Wxh is random in every scheme, Whh in all but irnn_xavier's identity.
    random = [0] if name == "irnn_xavier" else [0, 1]
    for i in random:
        assert not np.array_equal(weights(4)[i], weights(5)[i])


def fresh_process_models():
    """The scheme-built models whose `.keras` files a fresh process loads:
    the relu schemes' initializers, and gated cells built by schemes and by
    hand."""
    from keras_rnninit import XavierGRUCell, XavierLSTMCell

    return {
        "np_rnn": schemes.get("np_rnn").build_model(2, 8, seed=0),
        "diag": schemes.get("uniform_diag").build_model(2, 8, seed=0),
        "chrono_lstm": schemes.get("chrono").build_model(
            input_dim=2, units=4, cell="lstm"
        ),
        "orthogonal_gru": schemes.get("orthogonal").build_model(
            input_dim=2, units=4, cell="gru"
        ),
        "cells": keras.Sequential(
            [
                keras.Input((None, 2)),
                # Named: Keras numbers unnamed layers per process (rnn_3, ...).
                keras.layers.RNN(
                    [XavierLSTMCell(4, seed=0), XavierGRUCell(4, seed=1)], name="rnn"
                ),
                keras.layers.Dense(1),
            ]
        ),
    }


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Each model trained a little and saved, then all loaded in one fresh
    process, where only `import keras_rnninit` registers our classes; that
    process checks each one's weights and predictions against this one's and
    returns {name: initializer configs}."""
    folder = tmp_path_factory.mktemp("bundles")
    return load_in_one_fresh_process(
        {
            name: save_with_reference(model, folder, name)
            for name, model in fresh_process_models().items()
        }
    )


# The tests that read `loaded` share one pytest-xdist worker, so the module
# fixture is built once, not once per worker.
READS_LOADED = pytest.mark.xdist_group("test_bundles-loaded")


@pytest.mark.slow
@READS_LOADED
def test_np_rnn_model_keras_round_trip(loaded):
    name, config = loaded["np_rnn"]["rnn.recurrent_initializer"]
    assert name == "keras_rnninit>NpRNN" and set(config) == {"seed"}


@pytest.mark.slow
@READS_LOADED
def test_uniform_diag_model_keras_round_trip(loaded):
    name, config = loaded["diag"]["rnn.recurrent_initializer"]
    assert name == "keras_rnninit>UniformDiagonal"
    assert set(config) == {"low", "high", "seed"}


def test_names_per_cell():
    assert schemes.names("lstm") == GATED
    assert schemes.names("gru") == GATED
    assert "chrono" not in schemes.names()  # the CLI's SimpleRNN list
    assert set(schemes.names(None)) == set(schemes.names()) | {
        "chrono",
        "chrono_length",
    }
    for name in schemes.names(None):
        assert schemes.get(name).cells == tuple(sorted(schemes.get(name).cells))


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("name", GATED)
def test_every_gated_scheme_fits(name, cell):
    x, y = adding_problem(64, length=8, seed=0)
    scheme = schemes.get(name).for_length(8)
    model = scheme.build_model(input_dim=2, units=8, seed=0, cell=cell)
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
    wxh, whh, bias = gated_weights(model)
    for block in per_gate(whh, cell):
        np.testing.assert_allclose(block @ block.T, np.eye(units), atol=1e-5)
    for block in per_gate(wxh, cell):
        assert_variance(block, 1 / units, 3 / units**2)
    assert not np.any(bias)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_xavier_rnn_gated_variance_and_zero_bias(cell):
    units = 128
    model = schemes.get("xavier_rnn").build_model(input_dim=64, units=units, cell=cell)
    wxh, whh, bias = gated_weights(model)
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
    _, whh, bias = gated_weights(model)
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
    wxh, whh, bias = gated_weights(model)
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
    wxh, whh, bias = gated_weights(lstm)
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
    _, _, bias = gated_weights(gru)
    b_z, b_r, b_h = per_gate(bias[0], "gru")
    assert_mean(np.exp(b_z), max_length / 2, width / math.sqrt(12))
    assert not np.any(b_r) and not np.any(b_h) and not np.any(bias[1])


def test_custom_chrono_max_length():
    scheme = schemes.chrono(10, name="chrono10")
    model = schemes.get(scheme).build_model(input_dim=2, units=512, cell="lstm")
    b_f = per_gate(gated_weights(model)[2], "lstm")[1]
    assert np.exp(b_f).max() <= 9 + 1e-4 and np.exp(b_f).min() >= 1 - 1e-4
    with pytest.raises(
        ValueError, match=r"^`max_length` must be a finite number > 2\."
    ):
        schemes.chrono(1)


@pytest.mark.parametrize("length", [40, 400])
def test_chrono_length_sets_max_length_from_the_task_length(length):
    # Tallec & Ollivier's T_max = 3T/2: forget-gate time scales 1 + u,
    # u = exp(b_f) ~ U[1, 3T/2 - 1], checked against that formula.
    units, max_length = 512, 1.5 * length
    scheme = schemes.get("chrono_length").for_length(length)
    assert scheme.name == "chrono_length" and scheme.length == length
    assert scheme.length_aware and not scheme.needs_length
    assert f"T_max = 3T/2 = {max_length:g} for T={length}" in scheme.description
    model = scheme.build_model(input_dim=2, units=units, seed=3, cell="lstm")
    b_i, b_f, b_c, b_o = per_gate(gated_weights(model)[2], "lstm")
    u = np.exp(b_f)
    assert u.min() >= 1 - 1e-4 and u.max() <= max_length - 1 + 1e-3
    width = max_length - 2
    assert_mean(u, max_length / 2, width / math.sqrt(12))
    # The top of the range is reached: 512 draws leave a gap < 2% of it.
    assert u.max() > max_length - 1 - 0.02 * width
    np.testing.assert_array_equal(b_i, -b_f)
    # The same seed, the same weights as chrono(3T/2) itself.
    peer = schemes.chrono(max_length).build_model(
        input_dim=2, units=units, seed=3, cell="lstm"
    )
    for a, b in zip(model.get_weights(), peer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_length_aware_scheme_builds_nothing_without_a_length():
    scheme = schemes.get("chrono_length")
    assert scheme.length_aware and "3T/2" in scheme.description
    with pytest.raises(
        ValueError,
        match=r"^`scheme` must be set for a length first: 'chrono_length' is "
        r"length-aware; .*Received: scheme='chrono_length'$",
    ):
        scheme.build_model(input_dim=2, units=4, cell="lstm")
    assert schemes.get("chrono").for_length(400) is schemes.get("chrono")
    with pytest.raises(ValueError, match=r"^`length` must be an int >= 2\."):
        scheme.for_length(1)
    with pytest.raises(TypeError, match=r"^`length` must be an int >= 1\."):
        schemes.get("chrono").for_length("400")
    # A scheme set for one length is set again for another, not kept.
    again = scheme.for_length(40).for_length(500)
    assert (
        again.length == 500 and again.initializers(4, 0, "lstm").bias.max_length == 750
    )


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
        gated_weights(model)[1],
        np.asarray(XavierRNN(seed=inits.recurrent.seed)((4, 4))),
    )


@pytest.mark.slow
@READS_LOADED
def test_fit_save_load_in_fresh_process(loaded):
    """Gated cells, by scheme and by hand, reload with the same weights and
    predictions (checked in the fresh process) and their initializers."""
    chrono = loaded["chrono_lstm"]
    assert chrono["rnn.bias_initializer"][0] == "keras_rnninit>ChronoBias"
    assert {
        k: v for k, v in chrono["rnn.bias_initializer"][1].items() if k != "seed"
    } == {
        "max_length": 100.0,
        "cell": "lstm",
    }
    assert chrono["rnn.recurrent_initializer"][0] == "keras_rnninit>ScaledOrthogonal"
    gru = loaded["orthogonal_gru"]["rnn.recurrent_initializer"]
    assert gru[0] == "keras_rnninit>ScaledOrthogonal" and gru[1]["gates"] == 3
    cells = loaded["cells"]
    for i, gates in ((0, 4), (1, 3)):  # XavierLSTMCell, XavierGRUCell
        name, config = cells[f"rnn.cells{i}.kernel_initializer"]
        assert name == "keras_rnninit>XavierRNN" and config["gates"] == gates


def test_a_model_spec_builds_what_its_fields_build():
    from keras_rnninit.layers import FastSimpleRNN
    from keras_rnninit.schemes import ModelSpec

    scheme = schemes.get("orthogonal")
    spec = ModelSpec(6, 2, return_sequences=True, rnn_layer=FastSimpleRNN)
    by_spec = scheme.build_model(3, spec, seed=4)
    by_fields = scheme.build_model(
        3, 6, 2, seed=4, return_sequences=True, rnn_layer=FastSimpleRNN
    )
    assert type(by_spec.get_layer("rnn")) is FastSimpleRNN
    assert by_spec.output_shape == by_fields.output_shape == (None, None, 2)
    for a, b in zip(by_spec.get_weights(), by_fields.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="a ModelSpec and output_units"):
        scheme.build_model(3, spec, 5)
    with pytest.raises(ValueError, match="`rnn_layer` must be None for a gated cell"):
        ModelSpec(6, cell="lstm", rnn_layer=FastSimpleRNN)
