"""schemes.reinitialize: a user's model re-drawn by a scheme (issue 37).

References are independent of the implementation: each scheme's formula
(variance, orthogonality, identity, chrono layout), a numpy forward pass of
the new weights, Keras' own compile config, `.keras` save/load.
"""

import json
import math

import keras
import numpy as np
import pytest

from keras_rnninit import (
    FastSimpleRNN,
    XavierLSTMCell,
    XavierRNNCell,
    schemes,
)
from tests.helpers import assert_mean, assert_variance

GATES = {"simple": 1, "lstm": 4, "gru": 3}
D, H = 64, 128  # input width and units of the statistics tests

# Originals start from initializers no scheme uses, so a layer the scheme
# skipped fails the checks: Wxh glorot_uniform (var 2 / (D + k H)), Whh
# N(0, 0.05^2), bias 0.5.
OLD = dict(
    kernel_initializer="glorot_uniform",
    recurrent_initializer=keras.initializers.RandomNormal(stddev=0.05),
    bias_initializer=keras.initializers.Constant(0.5),
)
LAYERS = {
    "SimpleRNN": ("simple", lambda: keras.layers.SimpleRNN(H, name="rnn", **OLD)),
    "FastSimpleRNN": ("simple", lambda: FastSimpleRNN(H, name="rnn", **OLD)),
    "RNN(XavierRNNCell)": (
        "simple",
        lambda: keras.layers.RNN(XavierRNNCell(H, **OLD), name="rnn"),
    ),
    "LSTM": ("lstm", lambda: keras.layers.LSTM(H, name="rnn", **OLD)),
    "RNN(XavierLSTMCell)": (
        "lstm",
        lambda: keras.layers.RNN(XavierLSTMCell(H, **OLD), name="rnn"),
    ),
    "GRU": ("gru", lambda: keras.layers.GRU(H, name="rnn", **OLD)),
    "RNN(GRUCell)": (
        "gru",
        lambda: keras.layers.RNN(keras.layers.GRUCell(H, **OLD), name="rnn"),
    ),
}


def f64(weights):
    return [np.asarray(w, dtype="float64") for w in weights]


def blocks(w, kind):
    return np.split(w, GATES[kind], axis=-1)


def one_layer_model(layer, input_dim=D):
    return keras.Sequential(
        [keras.Input((None, input_dim)), layer, keras.layers.Dense(1)]
    )


def assert_orthogonal_blocks(w, kind):
    for block in blocks(w, kind):
        n = block.shape[0]
        np.testing.assert_allclose(block @ block.T, np.eye(n), atol=1e-5)


def snapshot(model):
    """Weights, config and compile config of `model`, copied."""
    compiled = json.dumps(model.get_compile_config()) if model.compiled else None
    weights = [np.array(w) for w in model.get_weights()]
    return weights, json.dumps(model.get_config(), sort_keys=True), compiled


def assert_untouched(model, before):
    weights, config, compiled = snapshot(model)
    for a, b in zip(weights, before[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert config == before[1]
    assert compiled == before[2]


def structure(layer):
    """(name, class) of `layer` and of everything inside it, from public
    attributes only: a model's layers, a Bidirectional's two directions, an
    RNN's cell (or stacked cells)."""
    found = [(layer.name, type(layer).__name__)]
    if isinstance(layer, keras.Model):
        inner = layer.layers
    elif isinstance(layer, keras.layers.Bidirectional):
        inner = [layer.forward_layer, layer.backward_layer]
    elif isinstance(layer, keras.layers.RNN):
        cell = layer.cell
        inner = cell.cells if isinstance(cell, keras.layers.StackedRNNCells) else []
        found.append(("cell", type(cell).__name__))
    else:
        inner = []
    for sub in inner:
        found += structure(sub)
    return found


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_xavier_rnn_draws_every_gate_block(name):
    kind, make = LAYERS[name]
    model = one_layer_model(make())
    before = snapshot(model)
    new = schemes.reinitialize(model, "xavier_rnn", seed=0).model
    assert type(new.get_layer("rnn")) is type(model.get_layer("rnn"))
    wxh, whh, bias = f64(new.get_layer("rnn").get_weights())
    # XavierRNN: every gate block N(0, 1 / fan_in); normal: mu4 = 3 var^2.
    for w, fan_in in ((wxh, D), (whh, H)):
        for block in blocks(w, kind):
            assert_mean(block, 0.0, 1 / math.sqrt(fan_in))
            assert_variance(block, 1 / fan_in, 3 / fan_in**2)
    assert not np.any(bias)  # zeros, no LSTM forget bias of 1
    assert_untouched(model, before)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_orthogonal_whh_per_gate(name):
    kind, make = LAYERS[name]
    new = schemes.reinitialize(one_layer_model(make()), "orthogonal", seed=1).model
    _, whh, _ = f64(new.get_layer("rnn").get_weights())
    assert_orthogonal_blocks(whh, kind)


def simple_rnn(x, wxh, whh, b, act, sequences=False):
    """h_t = act(x_t Wxh + h_{t-1} Whh + b), h_0 = 0, in numpy."""
    h = np.zeros((x.shape[0], whh.shape[0]))
    out = []
    for t in range(x.shape[1]):
        h = act(x[:, t] @ wxh + h @ whh + b)
        out.append(h)
    return np.stack(out, axis=1) if sequences else h


def relu(z):
    return np.maximum(z, 0.0)


@pytest.mark.parametrize("layer", ["SimpleRNN", "FastSimpleRNN", "RNN(XavierRNNCell)"])
def test_irnn_identity_and_relu(layer):
    _, make = LAYERS[layer]
    model = one_layer_model(make(), input_dim=8)
    result = schemes.reinitialize(model, "irnn", seed=0)
    assert result.changes == (("rnn", "activation: tanh -> relu"),)
    assert result.changes[0].layer == "rnn"
    rnn = result.model.get_layer("rnn")
    assert keras.activations.serialize(rnn.cell.activation) == "relu"
    assert keras.activations.serialize(model.get_layer("rnn").cell.activation) == "tanh"
    wxh, whh, b = f64(rnn.get_weights())
    np.testing.assert_array_equal(whh, np.eye(H))
    assert_variance(wxh, 0.001**2, 3 * 0.001**4)  # N(0, 0.001^2)
    # The switch is in the numbers: the layer computes the relu recurrence.
    x = np.random.default_rng(0).normal(size=(3, 5, 8))
    np.testing.assert_allclose(
        np.asarray(rnn(x.astype("float32")), dtype="float64"),
        simple_rnn(x, wxh, whh, b, relu),
        rtol=1e-4,
        atol=1e-7,
    )


def test_uniform_diag_diagonal_in_unit_interval():
    model = one_layer_model(keras.layers.SimpleRNN(H, name="rnn", **OLD))
    result = schemes.reinitialize(model, "uniform_diag", seed=0)
    _, whh, _ = f64(result.model.get_layer("rnn").get_weights())
    diag = np.diag(whh)
    assert not np.any(whh - np.diag(diag))
    assert diag.min() >= 0 and diag.max() <= 1
    assert_mean(diag, 0.5, 1 / math.sqrt(12))  # U[0, 1]
    assert result.changes == (("rnn", "activation: tanh -> relu"),)


def test_chrono_lstm_and_gru_biases():
    units, t_max = 256, 100
    x = keras.Input((None, 2))
    lstm = keras.layers.LSTM(units, return_sequences=True, name="lstm")(x)
    gru = keras.layers.GRU(units, name="gru")(lstm)
    model = keras.Model(x, keras.layers.Dense(1)(gru))
    result = schemes.reinitialize(model, "chrono", seed=0)
    # Keras' LSTM defaults to unit_forget_bias=True; chrono needs False.
    assert result.changes == (("lstm", "unit_forget_bias: True -> False"),)
    assert result.model.get_layer("lstm").unit_forget_bias is False
    _, whh, bias = f64(result.model.get_layer("lstm").get_weights())
    b_i, b_f, b_c, b_o = blocks(bias, "lstm")
    u = np.exp(b_f)  # ~ U[1, T_max - 1]
    assert u.min() >= 1 - 1e-4 and u.max() <= t_max - 1 + 1e-3
    assert_mean(u, t_max / 2, (t_max - 2) / math.sqrt(12))
    np.testing.assert_array_equal(b_i, -b_f)
    assert not np.any(b_c) and not np.any(b_o)
    assert_orthogonal_blocks(whh, "lstm")
    # GRU reset_after=True: b_z = log(u) in the input row, the rest zero.
    _, whh, bias = f64(result.model.get_layer("gru").get_weights())
    b_z, b_r, b_h = blocks(bias[0], "gru")
    assert_mean(np.exp(b_z), t_max / 2, (t_max - 2) / math.sqrt(12))
    assert not np.any(b_r) and not np.any(b_h) and not np.any(bias[1])
    assert_orthogonal_blocks(whh, "gru")


@pytest.mark.slow
def test_custom_scheme_object():
    scheme = schemes.chrono(10, name="chrono10")
    model = one_layer_model(keras.layers.LSTM(512, name="rnn"), input_dim=2)
    result = schemes.reinitialize(model, scheme)
    assert result.scheme == "chrono10"
    b_f = blocks(f64(result.model.get_layer("rnn").get_weights())[2], "lstm")[1]
    assert np.exp(b_f).max() <= 9 + 1e-4 and np.exp(b_f).min() >= 1 - 1e-4


def test_bidirectional_directions_independent():
    units = 32
    model = one_layer_model(
        keras.layers.Bidirectional(keras.layers.LSTM(units), name="bi"), input_dim=8
    )
    new = schemes.reinitialize(model, "orthogonal", seed=0).model.get_layer("bi")
    forward = f64(new.forward_layer.get_weights())
    backward = f64(new.backward_layer.get_weights())
    assert new.backward_layer.go_backwards and not new.forward_layer.go_backwards
    for wxh, whh, _ in (forward, backward):
        assert_orthogonal_blocks(whh, "lstm")
        for block in blocks(wxh, "lstm"):
            assert_variance(block, 1 / 8, 3 / 8**2)
    assert not np.allclose(forward[0], backward[0])
    assert not np.allclose(forward[1], backward[1])
    simple = keras.layers.SimpleRNN(4, name="rnn")
    model = one_layer_model(keras.layers.Bidirectional(simple, name="bi"))
    result = schemes.reinitialize(model, "irnn", seed=0)
    assert [c.layer for c in result.changes] == ["bi/forward_rnn", "bi/backward_rnn"]


def test_stacked_cells_each_drawn():
    cells = [XavierLSTMCell(8, seed=0), keras.layers.GRUCell(8), XavierRNNCell(8)]
    model = one_layer_model(keras.layers.RNN(cells, name="rnn"), input_dim=8)
    result = schemes.reinitialize(model, "orthogonal", seed=0)
    # LSTMCell's unit_forget_bias defaults to True; the scheme sets False.
    assert result.changes == (("rnn/cells[0]", "unit_forget_bias: True -> False"),)
    new = result.model.get_layer("rnn")
    assert [type(c) for c in new.cell.cells] == [type(c) for c in cells]
    weights = f64(new.get_weights())
    for i, kind in enumerate(["lstm", "gru", "simple"]):
        assert_orthogonal_blocks(weights[3 * i + 1], kind)


def nested_skip_model():
    """x -> encoder (a Sequential: SimpleRNN) -> Add(x, encoder(x)) -> SimpleRNN
    -> Dense."""
    encoder = keras.Sequential(
        [
            keras.Input((None, 4)),
            keras.layers.SimpleRNN(4, return_sequences=True, name="rnn"),
        ],
        name="encoder",
    )
    x = keras.Input((None, 4), name="sequence")
    skip = keras.layers.Add(name="skip")([x, encoder(x)])
    h = keras.layers.SimpleRNN(4, name="top")(skip)
    return keras.Model(x, keras.layers.Dense(1, name="head")(h), name="net")


def test_nested_model_and_skip_connection():
    model = nested_skip_model()
    before = snapshot(model)
    result = schemes.reinitialize(model, "irnn", seed=0)
    assert result.changes == (
        ("encoder/rnn", "activation: tanh -> relu"),
        ("top", "activation: tanh -> relu"),
    )
    new = result.model
    assert structure(new) == structure(model)
    encoder = f64(new.get_layer("encoder").get_layer("rnn").get_weights())
    top = f64(new.get_layer("top").get_weights())
    why, by = f64(new.get_layer("head").get_weights())
    for w in (encoder, top):
        np.testing.assert_array_equal(w[1], np.eye(4))
    # The new graph, skip connection and relus included, against numpy.
    x = np.random.default_rng(1).normal(size=(2, 6, 4))
    h = simple_rnn(x + simple_rnn(x, *encoder, relu, sequences=True), *top, relu)
    np.testing.assert_allclose(
        np.asarray(new(x.astype("float32")), dtype="float64"),
        h @ why + by,
        rtol=1e-4,
        atol=1e-7,
    )
    assert_untouched(model, before)


def text_classifier():
    """The issue's example: Embedding(mask_zero) -> Bidirectional(LSTM) ->
    SimpleRNN -> Dense, with a head drawn from a seeded RandomNormal."""
    return keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(50, 8, mask_zero=True, name="embedding"),
            keras.layers.Bidirectional(
                keras.layers.LSTM(8, return_sequences=True, name="lstm"), name="bi"
            ),
            keras.layers.SimpleRNN(8, name="rnn"),
            keras.layers.Dense(
                256,
                kernel_initializer=keras.initializers.RandomNormal(0, 0.5, seed=42),
                bias_initializer=keras.initializers.Constant(0.3),
                name="dense",
            ),
            keras.layers.Dense(1, activation="sigmoid", name="output"),
        ],
        name="classifier",
    )


def text_data(n=32, length=7):
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 50, size=(n, length))
    tokens[:, -2:] = 0  # padding, masked
    return tokens, rng.integers(0, 2, size=(n, 1)).astype("float32")


@pytest.mark.slow
def test_text_classifier_compile_fit_save(tmp_path):
    model = text_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0),
        loss="binary_crossentropy",
        loss_weights=[0.5],
        metrics=["accuracy"],
    )
    x, y = text_data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # optimizer has slots
    before = snapshot(model)
    result = schemes.reinitialize(model, "orthogonal", seed=0)
    new = result.model
    assert result.changes == (
        ("bi/forward_lstm", "unit_forget_bias: True -> False"),
        ("bi/backward_lstm", "unit_forget_bias: True -> False"),
    )
    assert structure(new) == structure(model)
    assert [w.path for w in new.weights] == [w.path for w in model.weights]
    # Compile settings: Keras' own config is equal; the optimizer is fresh.
    assert new.compiled and new.get_compile_config() == model.get_compile_config()
    assert new.optimizer is not model.optimizer
    assert type(new.optimizer) is keras.optimizers.Adam
    assert new.optimizer.get_config() == model.optimizer.get_config()
    assert int(new.optimizer.iterations) == 0 < int(model.optimizer.iterations)
    # Weights: the scheme's in the recurrent layers, the configured
    # initializer's in the others.
    for direction in (
        new.get_layer("bi").forward_layer,
        new.get_layer("bi").backward_layer,
    ):
        assert_orthogonal_blocks(f64(direction.get_weights())[1], "lstm")
    assert_orthogonal_blocks(f64(new.get_layer("rnn").get_weights())[1], "simple")
    kernel, bias = f64(new.get_layer("dense").get_weights())
    assert_variance(kernel, 0.25, 3 * 0.25**2)  # RandomNormal(0, 0.5)
    np.testing.assert_array_equal(bias, np.full(256, 0.3, dtype="float32"))
    old_kernel = model.get_layer("dense").get_weights()[0]
    assert not np.array_equal(kernel, old_kernel)  # seed 42 replaced
    # Trains, saves and loads as the same classes.
    start = [np.array(w) for w in new.get_weights()]
    history = new.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.array_equal(start[0], new.get_weights()[0])
    new.save(tmp_path / "new.keras")
    loaded = keras.saving.load_model(tmp_path / "new.keras")
    assert structure(loaded) == structure(model)
    np.testing.assert_allclose(
        np.asarray(loaded(x)), np.asarray(new(x)), rtol=1e-6, atol=1e-6
    )
    assert_untouched(model, before)


def test_uncompiled_stays_uncompiled():
    model = nested_skip_model()
    assert not schemes.reinitialize(model, "orthogonal").model.compiled


def test_seeds_repeat_and_differ_in_every_layer():
    model = text_classifier()
    a, b, c = (
        schemes.reinitialize(model, "orthogonal", seed=s).model.get_weights()
        for s in (3, 3, 4)
    )
    random = 0
    for wa, wb, wc, w in zip(a, b, c, model.weights, strict=True):
        np.testing.assert_array_equal(wa, wb, err_msg=w.path)
        if np.std(wa) > 0:  # not a constant (zeros, 0.3) initializer
            random += 1
            assert not np.allclose(wa, wc), w.path
    # embedding, 2 x (Wxh, Whh) of the LSTMs, Wxh and Whh, 2 Dense kernels
    assert random == 9


@keras.saving.register_keras_serializable(package="test_reinitialize")
class Scale(keras.layers.Layer):
    """A user layer whose weight's initializer is in no config (seed None)."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="normal")

    def call(self, x):
        return x * self.scale


@keras.saving.register_keras_serializable(package="test_reinitialize")
class Encoder(keras.layers.Layer):
    """A user layer holding a recurrent layer."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.lstm = keras.layers.LSTM(units, name="lstm")

    def build(self, input_shape):
        self.lstm.build(input_shape)

    def call(self, x):
        return self.lstm(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@pytest.mark.slow
def test_user_layers_survive_and_repeat(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None, 3)),
            Encoder(16, name="encoder"),
            Scale(name="scale"),
            keras.layers.Dense(1),
        ]
    )
    runs = [schemes.reinitialize(model, "orthogonal", seed=s).model for s in (0, 0, 1)]
    assert structure(runs[0]) == structure(model)
    lstm = runs[0].get_layer("encoder").lstm
    assert_orthogonal_blocks(f64(lstm.get_weights())[1], "lstm")
    scales = [np.asarray(m.get_layer("scale").scale) for m in runs]
    np.testing.assert_array_equal(scales[0], scales[1])
    assert not np.array_equal(scales[0], scales[2])
    runs[0].save(tmp_path / "user.keras")
    assert structure(keras.saving.load_model(tmp_path / "user.keras")) == structure(
        model
    )


@keras.saving.register_keras_serializable(package="test_reinitialize")
class LazyEncoder(keras.layers.Layer):
    """A user layer that makes its recurrent layer in build()."""

    def build(self, input_shape):
        self.rnn = keras.layers.SimpleRNN(4, name="rnn")

    def call(self, x):
        return self.rnn(x)


def test_cell_made_in_build_is_refused():
    model = one_layer_model(LazyEncoder(name="lazy"), input_dim=3)
    with pytest.raises(
        ValueError,
        match=r"^`model` must be rebuildable from its layers' configs; the cells of "
        r"'lazy/rnn' are built by their layer's constructor or made in "
        r"build\(\)\. Received: model='",
    ):
        schemes.reinitialize(model, "irnn")


@keras.saving.register_keras_serializable(package="test_reinitialize")
class Sub(keras.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.rnn = keras.layers.SimpleRNN(units)

    def call(self, x):
        return self.rnn(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@pytest.mark.slow
def test_subclassed_model_nested_in_a_functional_one():
    sub = Sub(name="sub")
    sub(np.zeros((1, 2, 3), "float32"))
    with pytest.raises(
        ValueError,
        match=r"^`model` must be a Sequential or functional `keras\.Model` .* "
        r"Received: model='sub' of type Sub$",
    ):
        schemes.reinitialize(sub, "irnn")
    x = keras.Input((None, 3))
    result = schemes.reinitialize(keras.Model(x, Sub(name="sub")(x)), "irnn")
    assert [c.change for c in result.changes] == ["activation: tanh -> relu"]
    np.testing.assert_array_equal(
        result.model.get_layer("sub").rnn.get_weights()[1], np.eye(4)
    )


def test_no_recurrent_layer_is_refused():
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, name="d")], name="mlp"
    )
    with pytest.raises(
        ValueError,
        match=r"^`model` must contain a recurrent layer \(SimpleRNN, LSTM, GRU, "
        r"RNN\(cell\), Bidirectional\); its layers are d \(Dense\)\. "
        r"Received: model='mlp'$",
    ):
        schemes.reinitialize(model, "irnn")


def test_length_aware_scheme_is_refused_until_set_for_a_length():
    units = 64
    model = one_layer_model(keras.layers.LSTM(units))
    with pytest.raises(
        ValueError,
        match=r"^`scheme` must not be length-aware \('chrono_length' takes T from "
        r"a task's length\); .*Received: scheme='chrono_length'$",
    ):
        schemes.reinitialize(model, "chrono_length")
    # Set for T = 40, it draws chrono's forget biases over [1, 3T/2 - 1] = [1, 59]
    # (chrono(100) would exceed 59 on some of 64 units) and fills that range.
    scheme = schemes.get("chrono_length").for_length(40)
    redrawn = schemes.reinitialize(model, scheme, seed=0).model
    b_f = np.exp(redrawn.layers[0].get_weights()[2][units : 2 * units])
    assert b_f.min() >= 1 - 1e-4 and b_f.max() <= 59 + 1e-3
    assert b_f.max() > 50


def test_unknown_scheme_lists_all_sorted():
    model = one_layer_model(keras.layers.LSTM(4))
    with pytest.raises(ValueError) as info:
        schemes.reinitialize(model, "xavier")
    listed = str(info.value).split("one of ")[1].split(". Received")[0].split(", ")
    assert listed == sorted(listed) and {"chrono", "irnn", "xavier_rnn"} <= set(listed)
    assert str(info.value).endswith("Received: scheme='xavier'")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "scheme, layer, path, what, supported",
    [
        ("irnn", keras.layers.LSTM(4, name="rnn"), "rnn", "LSTM (LSTMCell)", "simple"),
        (
            "he",
            keras.layers.Bidirectional(keras.layers.GRU(4), name="bi"),
            "bi/forward_gru",
            "GRU (GRUCell)",
            "simple",
        ),
        (
            "chrono",
            keras.layers.RNN(XavierRNNCell(4), name="rnn"),
            "rnn",
            "SimpleRNN (XavierRNNCell)",
            "gru, lstm",
        ),
        (
            "xavier_rnn",
            keras.layers.ConvLSTM1D(2, 3, name="conv"),
            "conv",
            "unknown (ConvLSTMCell)",
            "gru, lstm, simple",
        ),
    ],
)
def test_cell_the_scheme_does_not_define_is_refused(
    scheme, layer, path, what, supported
):
    shape = (None, 6, 1) if isinstance(layer, keras.layers.ConvLSTM1D) else (None, 3)
    model = keras.Sequential([keras.Input(shape), layer])
    message = (
        f"`scheme` must support the cell of every recurrent layer; {scheme!r} "
        f"supports {supported} but layer {path!r} has cell type {what}. "
        f"Received: scheme={scheme!r}"
    )
    with pytest.raises(ValueError) as info:
        schemes.reinitialize(model, scheme)
    assert str(info.value) == message


def test_bad_types():
    model = one_layer_model(keras.layers.SimpleRNN(2))
    with pytest.raises(TypeError, match=r"^`model` must be a `keras\.Model`\. "):
        schemes.reinitialize(keras.layers.SimpleRNN(2), "irnn")
    with pytest.raises(TypeError, match=r"^`scheme` must be a scheme name \(str\) "):
        schemes.reinitialize(model, 3)
    with pytest.raises(TypeError, match=r"^`seed` must be an int\. .* of type str$"):
        schemes.reinitialize(model, "irnn", seed="0")


def test_functional_graph_with_an_operation_that_is_no_layer():
    # Embedding(mask_zero=True) in a functional graph adds a not_equal
    # operation (its mask) that clone_model hands to the clone function;
    # it has no config path in the model and was a KeyError.
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    h = keras.layers.Embedding(9, 8, mask_zero=True, name="embedding")(tokens)
    h = keras.layers.Bidirectional(keras.layers.LSTM(8, return_sequences=True))(h)
    h = keras.layers.SimpleRNN(8, name="rnn")(h)
    model = keras.Model(tokens, keras.layers.Dense(2, name="head")(h))
    new = schemes.reinitialize(model, "orthogonal", seed=0).model
    assert structure(new) == structure(model)
    whh = new.get_layer("rnn").get_weights()[1]  # orthogonal: W^T W = I
    np.testing.assert_allclose(whh.T @ whh, np.eye(8), atol=1e-5)
