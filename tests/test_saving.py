"""`.keras` round-trips, loaded in a fresh Python process with no custom_objects."""

import keras
import pytest

from keras_rnninit import (
    ScaledIdentity,
    SpectralRadius,
    XavierRNN,
    XavierRNNCell,
    schemes,
)
from tests.helpers import load_in_fresh_process, save_with_reference


@pytest.mark.slow
def test_simple_rnn_with_xavier_rnn(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None, 2)),
            keras.layers.SimpleRNN(
                8,
                kernel_initializer=XavierRNN(gain=0.9, seed=1),
                recurrent_initializer=XavierRNN(seed=2),
                name="rnn",
            ),
            keras.layers.Dense(1),
        ]
    )
    configs = load_in_fresh_process(*save_with_reference(model, tmp_path, "simple"))
    assert configs["rnn.kernel_initializer"] == [
        "keras_rnninit>XavierRNN",
        {"gain": 0.9, "seed": 1},
    ]


@pytest.mark.slow
def test_rnn_with_xavier_rnn_cell_and_identity_gain(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None, 2)),
            keras.layers.RNN(
                XavierRNNCell(
                    8, recurrent_initializer=ScaledIdentity(gain=0.5), seed=3
                ),
                name="cell_rnn",
            ),
            keras.layers.Dense(1),
        ]
    )
    configs = load_in_fresh_process(*save_with_reference(model, tmp_path, "cell"))
    # ScaledIdentity keeps its gain through save/load (Keras' Identity does not).
    assert configs["cell_rnn.recurrent_initializer"] == [
        "keras_rnninit>ScaledIdentity",
        {"gain": 0.5},
    ]
    assert configs["cell_rnn.kernel_initializer"][0] == "keras_rnninit>XavierRNN"


@pytest.mark.slow
def test_scheme_model_with_spectral_radius(tmp_path):
    scheme = schemes.Scheme(
        "spectral_test",
        "test scheme",
        kernel=lambda u, s: XavierRNN(seed=s),
        recurrent=lambda u, s: SpectralRadius(radius=0.8, seed=s),
        output=lambda u, s: XavierRNN(seed=s),
    )
    model = scheme.build_model(input_dim=2, units=8, seed=0)
    configs = load_in_fresh_process(*save_with_reference(model, tmp_path, "spectral"))
    name, config = configs["rnn.recurrent_initializer"]
    assert name == "keras_rnninit>SpectralRadius" and config["radius"] == 0.8
