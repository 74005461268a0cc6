"""Backend boundaries: export is TensorFlow-only and says so under JAX."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

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


def test_export_under_jax_says_it_is_tensorflow_only(tmp_path):
    env = dict(
        os.environ, PYTHONPATH=REPO, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3"
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "`export_tflite` needs the tensorflow Keras backend" in done.stdout
    assert "Received: backend='jax'" in done.stdout
    assert list(tmp_path.iterdir()) == []
