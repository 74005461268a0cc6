"""Initializers by name, as Keras users write built-in ones."""

import json
import zipfile

import keras
import numpy as np
import pytest

import keras_rnninit
from keras_rnninit import (
    HeRNN,
    NpRNN,
    ScaledIdentity,
    ScaledOrthogonal,
    SpectralRadius,
    Uniform01,
    UniformDiagonal,
    XavierRNN,
)
from keras_rnninit.initializers.names import register_names, snake_case

NAMES = {
    "xavier_rnn": "XavierRNN",
    "he_rnn": "HeRNN",
    "uniform01": "Uniform01",
    "scaled_orthogonal": "ScaledOrthogonal",
    "scaled_identity": "ScaledIdentity",
    "spectral_radius": "SpectralRadius",
    "np_rnn": "NpRNN",
    "uniform_diagonal": "UniformDiagonal",
    "chrono_bias": "ChronoBias",
}


# A name gives the class's defaults; square-only ones meet gated kernels.
GATED = [(keras.layers.LSTM, 4, "LSTMCell"), (keras.layers.GRU, 3, "GRUCell")]


def spectral_radius(w):
    return float(np.abs(np.linalg.eigvals(w)).max())


SEEDED = [
    XavierRNN,
    HeRNN,
    Uniform01,
    ScaledOrthogonal,
    SpectralRadius,
    NpRNN,
    UniformDiagonal,
]


@pytest.mark.parametrize("snake, class_name", sorted(NAMES.items()))
def test_get_by_both_names(snake, class_name):
    cls = getattr(keras_rnninit, class_name)
    config = {"max_length": 10} if cls is keras_rnninit.ChronoBias else {}
    for name in (snake, class_name):
        got = keras.initializers.get({"class_name": name, "config": config})
        assert type(got) is cls
        if not config:  # a bare string works wherever no argument is required
            assert type(keras.initializers.get(name)) is cls


@pytest.mark.parametrize("snake, class_name", sorted(NAMES.items()))
def test_snake_case_of_class_name(snake, class_name):
    assert snake_case(class_name) == snake


@pytest.mark.parametrize("name", ["xavier_rnn", "XavierRNN"])
def test_layer_argument_and_saved_file_keeps_registered_name(name, tmp_path):
    layer = keras.layers.SimpleRNN(
        4, kernel_initializer=name, recurrent_initializer="scaled_orthogonal"
    )
    model = keras.Sequential([keras.Input((3, 2)), layer])
    assert type(layer.kernel_initializer) is keras_rnninit.XavierRNN
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    layer_config = config["config"]["layers"][-1]["config"]
    assert layer_config["kernel_initializer"]["registered_name"] == (
        "keras_rnninit>XavierRNN"
    )
    assert layer_config["recurrent_initializer"]["registered_name"] == (
        "keras_rnninit>ScaledOrthogonal"
    )
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(
        loaded.layers[-1].get_weights()[1], model.layers[-1].get_weights()[1]
    )


def test_names_come_with_any_class_registered_under_the_package():
    @keras.saving.register_keras_serializable(package="keras_rnninit")
    class LaterInitializer(keras.initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return keras.ops.zeros(shape, dtype=dtype)

    custom = keras.saving.get_custom_objects()
    try:
        register_names()
        assert type(keras.initializers.get("later_initializer")) is LaterInitializer
        assert type(keras.initializers.get("LaterInitializer")) is LaterInitializer
    finally:
        for key in ("keras_rnninit>LaterInitializer", "LaterInitializer"):
            custom.pop(key, None)
        custom.pop("later_initializer", None)


def test_a_users_own_name_is_not_replaced():
    custom = keras.saving.get_custom_objects()
    mine = keras.initializers.Zeros
    custom["xavier_rnn"] = mine
    try:
        register_names()
        assert custom["xavier_rnn"] is mine
    finally:
        custom["xavier_rnn"] = keras_rnninit.XavierRNN


@pytest.mark.parametrize("name", ["spectral_radius", "SpectralRadius"])
@pytest.mark.parametrize("layer_class, gates, _", GATED)
def test_spectral_radius_by_name_takes_gates_from_the_cell(layer_class, gates, _, name):
    layer = layer_class(8, recurrent_initializer=name)
    layer.build((None, None, 3))
    blocks = np.split(np.asarray(layer.cell.recurrent_kernel), gates, axis=1)
    for block in blocks:  # each (8, 8) gate block: radius 1.0, the default
        assert abs(spectral_radius(block) - 1.0) < 1e-4
    assert not np.allclose(blocks[0], blocks[1])
    cell = keras.layers.RNN(keras.layers.GRUCell(8, recurrent_initializer=name))
    cell.build((None, None, 3))
    for block in np.split(np.asarray(cell.cell.recurrent_kernel), 3, axis=1):
        assert abs(spectral_radius(block) - 1.0) < 1e-4
    simple = keras.layers.SimpleRNN(8, recurrent_initializer=name)
    simple.build((None, None, 3))
    assert abs(spectral_radius(np.asarray(simple.cell.recurrent_kernel)) - 1.0) < 1e-4


@pytest.mark.parametrize(
    "name, class_name", [("np_rnn", "NpRNN"), ("uniform_diagonal", "UniformDiagonal")]
)
@pytest.mark.parametrize("layer_class, gates, cell", GATED)
def test_square_only_name_on_a_gated_cell_says_how(
    layer_class, gates, cell, name, class_name
):
    with pytest.raises(
        ValueError,
        match=rf"^`shape` must be a square 2-D shape of positive ints for "
        rf"{class_name}; {cell} '\w+' builds it as {gates} gate blocks and "
        rf"{class_name} has no per-gate form: use it on a SimpleRNN, or "
        rf"SpectralRadius\(gates={gates}\) here\. Received: shape=\(8, {8 * gates}\)$",
    ):
        layer_class(8, recurrent_initializer=name).build((None, None, 3))


def test_spectral_radius_with_gates_1_on_a_gated_cell_says_how():
    layer = keras.layers.LSTM(
        8, recurrent_initializer=keras_rnninit.SpectralRadius(gates=1)
    )
    with pytest.raises(
        ValueError,
        match=r"^`shape` must be a square 2-D shape of positive ints for "
        r"SpectralRadius; LSTMCell '\w+' builds it as 4 gate blocks: pass "
        r"SpectralRadius\(gates=4\) or gates=None\. Received: shape=\(8, 32\)$",
    ):
        layer.build((None, None, 3))


@pytest.mark.parametrize("name", ["spectral_radius", "np_rnn", "uniform_diagonal"])
def test_non_square_shape_outside_gate_blocks_keeps_the_plain_error(name):
    class_name = NAMES[name]
    plain = (
        rf"^`shape` must be a square 2-D shape of positive ints for {class_name}\. "
        r"Received: shape=\(3, {cols}\)$"
    )
    init = keras.initializers.get(name)
    with pytest.raises(ValueError, match=plain.format(cols=32)):
        init((3, 32))  # a direct call: no cell
    with pytest.raises(ValueError, match=plain.format(cols=8)):
        keras.layers.SimpleRNN(8, kernel_initializer=name).build((None, None, 3))
    # An LSTM's input kernel (3, 32) is no set of square gate blocks.
    with pytest.raises(ValueError, match=plain.format(cols=32)):
        keras.layers.LSTM(8, kernel_initializer=name).build((None, None, 3))


def test_registered_names():
    for cls in SEEDED + [ScaledIdentity]:
        name = keras.saving.get_registered_name(cls)
        assert name == f"keras_rnninit>{cls.__name__}"
        assert keras.saving.get_registered_object(name) is cls
