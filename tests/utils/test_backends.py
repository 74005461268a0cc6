"""Which backend a job runs on: --backend, then KERAS_BACKEND, then the Keras
already imported, then TensorFlow when the job needs it, else JAX."""

import keras
import pytest

from keras_rnninit.utils import backends
from keras_rnninit.utils.backends import Choice, choose, use

NEED = "LSTM and GRU diagnostics need TensorFlow"


@pytest.mark.parametrize(
    "requested, environ, loaded, needs, expected",
    [
        (
            "tensorflow",
            {"KERAS_BACKEND": "jax"},
            "jax",
            None,
            ("tensorflow", "--backend"),
        ),
        (None, {"KERAS_BACKEND": "jax"}, "tensorflow", NEED, ("jax", "KERAS_BACKEND")),
        (None, {}, "jax", NEED, ("jax", "Keras is already imported")),
        (None, {"KERAS_BACKEND": ""}, None, NEED, ("tensorflow", NEED)),
        (None, {}, None, None, ("jax", "the fastest installed trainer")),
    ],
)
def test_the_order_of_the_choice(requested, environ, loaded, needs, expected):
    choice = choose(requested, needs, environ=environ, loaded=loaded)
    assert choice == Choice(*expected)


def test_without_jax_tensorflow_trains(monkeypatch):
    monkeypatch.setattr(backends, "installed", lambda name: name != "jax")
    assert choose(environ={}, loaded=None) == Choice(
        "tensorflow", "JAX is not installed"
    )


def test_an_unknown_backend_is_refused_in_one_line():
    with pytest.raises(
        ValueError,
        match=r"^`backend` must be one of jax, tensorflow\. "
        r"Received: backend='torch'$",
    ):
        choose("torch")


def test_the_loaded_backend_cannot_change(monkeypatch):
    loaded = keras.backend.backend()
    other = "jax" if loaded == "tensorflow" else "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", loaded)
    with pytest.raises(ValueError, match=rf"^`backend` must be {loaded}, the backend"):
        use(Choice(other, "--backend"))
    use(Choice(loaded, "--backend"))  # the same one is fine


def test_a_missing_backend_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(backends, "loaded_backend", lambda: None)
    monkeypatch.setattr(backends, "installed", lambda name: False)
    with pytest.raises(ValueError, match=r"jax is not installed; pip install jax"):
        use(Choice("jax", "--backend"))
