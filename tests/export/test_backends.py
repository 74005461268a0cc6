"""Backend boundaries: export is TensorFlow-only and says so under JAX."""

import pytest

from tests.helpers import run_python

SCRIPT = """
import keras
from keras_rnninit import schemes
from keras_rnninit.export import export_tflite
assert keras.backend.backend() == "jax"
model = schemes.get("xavier_rnn").build_model(input_dim=2, units=4, seed=0)
try:
    export_tflite(model, "never-written.tflite")
except ValueError as error:
    print(error)
"""


@pytest.mark.slow
def test_export_under_jax_says_it_is_tensorflow_only(tmp_path):
    done = run_python("-c", SCRIPT, cwd=tmp_path, timeout=300, KERAS_BACKEND="jax")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "`export_tflite` needs the tensorflow Keras backend" in done.stdout
    assert "Received: backend='jax'" in done.stdout
    assert list(tmp_path.iterdir()) == []
