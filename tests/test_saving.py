"""`.keras` round-trips, loaded in a fresh Python process with no custom_objects.

The models are trained a little and saved once for the module, then loaded
together in one fresh process (one TensorFlow start, not one per model),
which checks each one's weights and predictions; each test reads what that
process found for its model."""

import keras
import pytest

from keras_rnninit import (
    ScaledIdentity,
    SpectralRadius,
    XavierRNN,
    XavierRNNCell,
    schemes,
)
from tests.helpers import load_in_one_fresh_process, save_with_reference


def simple_rnn_with_xavier_rnn():
    return keras.Sequential(
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


def rnn_with_xavier_rnn_cell_and_identity_gain():
    return keras.Sequential(
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


def scheme_model_with_spectral_radius():
    scheme = schemes.Scheme(
        "spectral_test",
        "test scheme",
        kernel=lambda u, s: XavierRNN(seed=s),
        recurrent=lambda u, s: SpectralRadius(radius=0.8, seed=s),
        output=lambda u, s: XavierRNN(seed=s),
    )
    return scheme.build_model(input_dim=2, units=8, seed=0)


MODELS = {
    "simple": simple_rnn_with_xavier_rnn,
    "cell": rnn_with_xavier_rnn_cell_and_identity_gain,
    "spectral": scheme_model_with_spectral_radius,
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """{name: initializer configs} as the fresh process found them."""
    folder = tmp_path_factory.mktemp("saving")
    return load_in_one_fresh_process(
        {
            name: save_with_reference(build(), folder, name)
            for name, build in MODELS.items()
        }
    )


# The tests that read `loaded` share one pytest-xdist worker, so the module
# fixture is built once, not once per worker.
READS_LOADED = pytest.mark.xdist_group("test_saving-loaded")


@pytest.mark.slow
@READS_LOADED
def test_simple_rnn_with_xavier_rnn(loaded):
    assert loaded["simple"]["rnn.kernel_initializer"] == [
        "keras_rnninit>XavierRNN",
        {"gain": 0.9, "seed": 1},
    ]


@pytest.mark.slow
@READS_LOADED
def test_rnn_with_xavier_rnn_cell_and_identity_gain(loaded):
    configs = loaded["cell"]
    # ScaledIdentity keeps its gain through save/load (Keras' Identity does not).
    assert configs["cell_rnn.recurrent_initializer"] == [
        "keras_rnninit>ScaledIdentity",
        {"gain": 0.5},
    ]
    assert configs["cell_rnn.kernel_initializer"][0] == "keras_rnninit>XavierRNN"


@pytest.mark.slow
@READS_LOADED
def test_scheme_model_with_spectral_radius(loaded):
    name, config = loaded["spectral"]["rnn.recurrent_initializer"]
    assert name == "keras_rnninit>SpectralRadius" and config["radius"] == 0.8
