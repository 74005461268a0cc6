"""The command line is quiet: no backend log lines, one line per bad input.

Real processes: TensorFlow's C++ code writes its absl/oneDNN/cudart lines to
file descriptor 2 at import, which only a subprocess's stderr can show.
"""

import os
import subprocess
import sys

import keras
import pytest

from keras_rnninit import FastSimpleRNN
from tests.helpers import REPO

# No TF_CPP_MIN_LOG_LEVEL: the command line must be quiet without help.
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
ENV["PYTHONPATH"] = REPO
DIAGNOSE = ["diagnose", "--units", "8", "--length", "5", "--draws", "1"]


def cli(*argv):
    return subprocess.run(
        [sys.executable, "-m", "keras_rnninit", *map(str, argv)],
        env=ENV,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((5, 2)), FastSimpleRNN(4), keras.layers.Dense(1)]
    )
    path = tmp_path_factory.mktemp("quiet") / "m.keras"
    model.save(path)
    return path


def test_diagnose_writes_nothing_to_stderr():
    done = cli(*DIAGNOSE)
    assert done.returncode == 0 and done.stderr == ""
    assert "xavier_rnn" in done.stdout


def test_export_writes_nothing_to_stderr(model_file, tmp_path):
    done = cli("export", model_file, "-o", tmp_path / "m.tflite", "--seq-len", "5")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "builtins only" in done.stdout


def test_bad_input_is_exactly_one_line(tmp_path):
    done = cli("export", tmp_path / "none.keras", "-o", tmp_path / "m.tflite")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("keras-rnninit: ")
    assert list(tmp_path.iterdir()) == []


def test_verbose_brings_the_backend_logs_back():
    done = cli("--verbose", *DIAGNOSE)
    assert done.returncode == 0
    assert done.stderr != ""  # TensorFlow's own lines, as without the CLI
