"""The package root is lazy (PEP 562) and still registers before any load."""

import keras
import pytest

import keras_rnninit
from keras_rnninit import FastSimpleRNN
from tests.helpers import run_python

HEAVY = ("keras", "tensorflow", "jax")


def test_import_and_version_import_no_backend():
    done = run_python(
        "-c",
        f"import sys, keras_rnninit; print([m for m in {HEAVY!r} if m in sys.modules])",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
    # The documented spelling of recommend() loads no backend either.
    done = run_python(
        "-c",
        "import sys; from keras_rnninit import schemes; "
        "schemes.recommend('adding', 150); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
    done = run_python("-X", "importtime", "-m", "keras_rnninit", "--version")
    assert done.returncode == 0 and done.stdout.strip() == keras_rnninit.__version__
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "keras_rnninit.version" in imported  # the timing lines are there
    assert not imported & set(HEAVY)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    model = keras.Sequential(
        [
            keras.Input((5, 2)),
            FastSimpleRNN(4, recurrent_initializer="scaled_orthogonal"),
            keras.layers.Dense(1, kernel_initializer="he_rnn"),
        ]
    )
    path = tmp_path_factory.mktemp("lazy") / "m.keras"
    model.save(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    "imports",
    [
        "import keras_rnninit",  # Keras comes later, from the load below
        "import keras; import keras_rnninit",
        "from keras_rnninit.initializers import XavierRNN",  # a submodule first
        "from keras_rnninit import schemes",  # a lazy submodule, no Keras yet
    ],
)
def test_fresh_process_loads_a_keras_file(saved, imports):
    script = (
        f"{imports}\n"
        "import keras\n"
        f"m = keras.saving.load_model({str(saved)!r})\n"
        "print(type(m.layers[0]).__name__,"
        " type(m.layers[0].recurrent_initializer).__name__,"
        " type(m.layers[1].kernel_initializer).__name__)\n"
    )
    done = run_python("-c", script)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["FastSimpleRNN", "ScaledOrthogonal", "HeRNN"]


def test_public_names_resolve():
    for name in keras_rnninit.__all__:
        assert getattr(keras_rnninit, name) is not None
    assert "XavierRNN" in dir(keras_rnninit)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        keras_rnninit.nope  # noqa: B018
