"""Initializers by name, as Keras users write built-in ones."""

import json
import zipfile

import keras
import numpy as np
import pytest

import keras_rnninit
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
