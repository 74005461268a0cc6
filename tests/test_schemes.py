import math

import keras
import numpy as np
import pytest

from keras_rnninit import ScaledIdentity, schemes
from keras_rnninit.tasks import adding_problem
from tests.helpers import assert_variance

UNITS = 256


def rnn_weights(model):
    rnn = model.get_layer("rnn")
    wxh, whh, b = (np.asarray(w, dtype="float64") for w in rnn.get_weights())
    why, by = (
        np.asarray(w, dtype="float64") for w in model.get_layer("output").get_weights()
    )
    return wxh, whh, b, why, by


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
