import keras
import numpy as np
import pytest

from keras_rnninit import (
    ChronoBias,
    ScaledOrthogonal,
    XavierGRUCell,
    XavierLSTMCell,
    XavierRNN,
    XavierRNNCell,
)
from tests.helpers import assert_mean, assert_variance, run_serialization_test

RNG = np.random.default_rng(0)


X = RNG.normal(size=(4, 6, 3)).astype("float32")


def twin_simple_rnn(cell_layer, **kwargs):
    """A keras.layers.SimpleRNN with the same weights as `cell_layer`."""
    twin = keras.layers.SimpleRNN(cell_layer.cell.units, **kwargs)
    twin.build(X.shape)
    twin.set_weights(cell_layer.get_weights())
    return twin


CELLS = {
    "lstm": (XavierLSTMCell, keras.layers.LSTM, 4),
    "gru": (XavierGRUCell, keras.layers.GRU, 3),
}


def test_defaults_are_xavier_rnn_with_one_over_fan_in_variance():
    cell = XavierRNNCell(256, seed=0)
    assert isinstance(cell.kernel_initializer, XavierRNN)
    assert isinstance(cell.recurrent_initializer, XavierRNN)
    layer = keras.layers.RNN(cell)
    layer.build((None, None, 256))
    for w in (cell.kernel, cell.recurrent_kernel):
        w = np.asarray(w, dtype="float64")
        assert_variance(w, 1 / 256, 3 / 256**2)
    kernel, recurrent = np.asarray(cell.kernel), np.asarray(cell.recurrent_kernel)
    assert not np.array_equal(kernel, recurrent)


def test_explicit_initializers_are_kept():
    cell = XavierRNNCell(4, recurrent_initializer=ScaledOrthogonal(seed=1))
    assert isinstance(cell.recurrent_initializer, ScaledOrthogonal)


def test_int_seed_fixes_weights():
    def weights(seed):
        layer = keras.layers.RNN(XavierRNNCell(5, seed=seed))
        layer.build((None, None, 5))
        return [np.asarray(w) for w in layer.get_weights()]

    for a, b in zip(weights(3), weights(3), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(weights(3)[0], weights(4)[0])


@pytest.mark.parametrize("return_sequences", [False, True])
def test_same_numbers_as_simple_rnn(return_sequences):
    layer = keras.layers.RNN(
        XavierRNNCell(5, seed=0), return_sequences=return_sequences
    )
    out = np.asarray(layer(X))
    twin = twin_simple_rnn(layer, return_sequences=return_sequences)
    np.testing.assert_allclose(out, np.asarray(twin(X)), atol=1e-6)


def test_masking_matches_simple_rnn():
    x = X.copy()
    x[0, 3:] = 0.0  # padded tail
    mask_model = keras.Sequential(
        [
            keras.Input((6, 3)),
            keras.layers.Masking(0.0),
            keras.layers.RNN(XavierRNNCell(5, seed=0), return_sequences=True),
        ]
    )
    out = np.asarray(mask_model(x))
    # Masked steps carry the last unmasked state forward.
    np.testing.assert_allclose(out[0, 3:], np.repeat(out[0, 2:3], 3, axis=0))
    twin = keras.Sequential(
        [
            keras.Input((6, 3)),
            keras.layers.Masking(0.0),
            keras.layers.SimpleRNN(5, return_sequences=True),
        ]
    )
    twin.set_weights(mask_model.get_weights())
    np.testing.assert_allclose(out, np.asarray(twin(x)), atol=1e-6)


def test_dropout_active_only_in_training():
    cell = XavierRNNCell(8, dropout=0.5, recurrent_dropout=0.5, seed=1)
    layer = keras.layers.RNN(cell)
    eval_out = np.asarray(layer(X, training=False))
    np.testing.assert_array_equal(eval_out, np.asarray(layer(X, training=False)))
    assert not np.allclose(eval_out, np.asarray(layer(X, training=True)))


@pytest.mark.slow
def test_stacked_bidirectional_return_sequences_fit():
    model = keras.Sequential(
        [
            keras.Input((None, 3)),
            keras.layers.RNN(
                [XavierRNNCell(8, seed=0), XavierRNNCell(8, seed=1)],
                return_sequences=True,
            ),
            keras.layers.Bidirectional(keras.layers.RNN(XavierRNNCell(4, seed=2))),
            keras.layers.Dense(1),
        ]
    )
    model.compile("adam", "mse")
    y = X.sum(axis=(1, 2))[:, None]
    history = model.fit(X, y, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.output_shape == (None, 1)


def test_stateful_keeps_and_resets_state():
    layer = keras.layers.RNN(XavierRNNCell(5, seed=0), stateful=True)
    model = keras.Sequential([keras.Input(batch_shape=(4, 6, 3)), layer])
    first = np.asarray(model(X))
    second = np.asarray(model(X))
    assert not np.allclose(first, second)  # state carried over
    layer.reset_states()
    np.testing.assert_allclose(np.asarray(model(X)), first, atol=1e-6)


def test_get_config_round_trip():
    cell = XavierRNNCell(7, activation="relu", dropout=0.25, seed=5)
    config = cell.get_config()
    assert config["units"] == 7
    assert config["kernel_initializer"]["registered_name"] == "keras_rnninit>XavierRNN"
    rebuilt = run_serialization_test(cell)
    assert rebuilt.activation is keras.activations.relu
    assert rebuilt.dropout == 0.25


def test_registered_name():
    name = keras.saving.get_registered_name(XavierRNNCell)
    assert name == "keras_rnninit>XavierRNNCell"


def test_bad_units():
    with pytest.raises(ValueError, match="units"):
        XavierRNNCell(0)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_defaults_are_per_gate_xavier_rnn(cell):
    cls, _, gates = CELLS[cell]
    units = input_dim = 128
    c = cls(units, seed=0)
    for init in (c.kernel_initializer, c.recurrent_initializer):
        assert isinstance(init, XavierRNN) and init.gates == gates
    keras.layers.RNN(c).build((None, None, input_dim))
    for w in (c.kernel, c.recurrent_kernel):
        w = np.asarray(w, dtype="float64")
        for block in np.split(w, gates, axis=1):
            std = 1 / np.sqrt(w.shape[0])
            assert_mean(block, 0.0, std)
            assert_variance(block, std**2, 3 * std**4)
    assert not np.array_equal(np.asarray(c.kernel), np.asarray(c.recurrent_kernel))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_int_seed_fixes_weights_and_explicit_initializers_are_kept(cell):
    cls, _, gates = CELLS[cell]

    def weights(seed):
        layer = keras.layers.RNN(cls(5, seed=seed))
        layer.build((None, None, 3))
        return [np.asarray(w) for w in layer.get_weights()]

    for a, b in zip(weights(3), weights(3), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(weights(3)[0], weights(4)[0])
    kept = cls(4, recurrent_initializer=ScaledOrthogonal(gates=gates, seed=1))
    assert isinstance(kept.recurrent_initializer, ScaledOrthogonal)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_same_numbers_as_keras_layer(cell, return_sequences):
    cls, keras_layer, _ = CELLS[cell]
    layer = keras.layers.RNN(cls(5, seed=0), return_sequences=return_sequences)
    out = np.asarray(layer(X))
    twin = keras_layer(5, return_sequences=return_sequences)
    twin.build(X.shape)
    twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(out, np.asarray(twin(X)), atol=1e-6)


def test_lstm_cell_keeps_keras_forget_bias_and_takes_chrono():
    c = XavierLSTMCell(4, seed=0)
    keras.layers.RNN(c).build((None, None, 3))
    np.testing.assert_array_equal(np.asarray(c.bias), np.repeat([0, 1, 0, 0], 4))
    chrono = XavierLSTMCell(
        4, bias_initializer=ChronoBias(20, seed=0), unit_forget_bias=False, seed=0
    )
    keras.layers.RNN(chrono).build((None, None, 3))
    b_i, b_f, _, _ = np.split(np.asarray(chrono.bias), 4)
    np.testing.assert_array_equal(b_i, -b_f)
    with pytest.raises(ValueError, match="`unit_forget_bias` must be False"):
        keras.layers.RNN(XavierLSTMCell(4, bias_initializer=ChronoBias(20))).build(
            (None, None, 3)
        )


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stacked_bidirectional_fit(cell):
    cls, _, _ = CELLS[cell]
    model = keras.Sequential(
        [
            keras.Input((None, 3)),
            keras.layers.RNN([cls(8, seed=0), cls(8, seed=1)], return_sequences=True),
            keras.layers.Bidirectional(keras.layers.RNN(cls(4, seed=2))),
            keras.layers.Dense(1),
        ]
    )
    model.compile("adam", "mse")
    y = X.sum(axis=(1, 2))[:, None]
    history = model.fit(X, y, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_get_config_round_trip_and_registered(cell):
    cls, _, gates = CELLS[cell]
    c = cls(7, dropout=0.25, seed=5)
    config = c.get_config()
    assert config["kernel_initializer"]["registered_name"] == "keras_rnninit>XavierRNN"
    assert config["kernel_initializer"]["config"]["gates"] == gates
    rebuilt = run_serialization_test(c)
    assert rebuilt.dropout == 0.25 and rebuilt.recurrent_initializer.gates == gates
    name = keras.saving.get_registered_name(cls)
    assert name == f"keras_rnninit>{cls.__name__}"
    assert keras.saving.get_registered_object(name) is cls


@pytest.mark.parametrize("cls", [XavierLSTMCell, XavierGRUCell])
def test_bad_units_of_a_gated_cell(cls):
    with pytest.raises(ValueError, match="units"):
        cls(0)
