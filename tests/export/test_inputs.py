"""Export to TFLite and parity in the LiteRT interpreter, for every model kind."""

import os

import keras
import numpy as np
import pytest

from keras_rnninit import XavierRNN
from keras_rnninit.export import (
    ExportError,
    export_tflite,
)
from tests.export.helpers import X9, simple

RNG = np.random.default_rng(0)


def two_outputs(second=None):
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.SimpleRNN(6, kernel_initializer=XavierRNN(seed=0))(inputs)
    first = keras.layers.Dense(1, name="value")(h)
    tail = keras.layers.Dense(2, name="policy")(h)
    if second is not None:
        tail = keras.layers.Lambda(second)(tail)
    return keras.Model(inputs, [first, tail])


@pytest.mark.slow
def test_existing_output_needs_overwrite(tmp_path):
    target = tmp_path / "m.tflite"
    target.write_bytes(b"user data")
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        export_tflite(simple(), target)
    assert target.read_bytes() == b"user data"
    report = export_tflite(simple(), target, overwrite=True)
    assert target.stat().st_size == report.size_bytes


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"quantize": "int4"},
            ValueError,
            r"`quantize` must be one of None, dynamic, float16, int8\. Received: ",
        ),
        ({"seq_len": 0}, ValueError, "`seq_len` must be a positive int or None"),
        ({"batch_size": 2.0}, TypeError, "`batch_size` must be a positive int"),
        ({"unroll": True}, ValueError, "`seq_len` must be given when unrolling"),
        ({"quantize": "int8"}, ValueError, "`representative_data` must be given"),
        (
            {"quantize": "int8", "unroll": False, "representative_data": X9},
            ValueError,
            "`unroll` must be True",
        ),
    ],
)
def test_bad_arguments(kwargs, error, match, tmp_path):
    with pytest.raises(error, match=match):
        export_tflite(simple(), tmp_path / "m.tflite", **kwargs)
    assert os.listdir(tmp_path) == []


def test_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="`path` must end with .tflite"):
        export_tflite(simple(), tmp_path / "m.bin")
    with pytest.raises(FileNotFoundError, match="`path` must be in an existing folder"):
        export_tflite(simple(), tmp_path / "missing" / "m.tflite")
    with pytest.raises(FileNotFoundError, match="`model` must be an existing .keras"):
        export_tflite(tmp_path / "nope.keras", tmp_path / "m.tflite")
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a zip")
    with pytest.raises(ExportError, match="could not be loaded as a Keras model"):
        export_tflite(corrupt, tmp_path / "m.tflite")
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        export_tflite(42, tmp_path / "m.tflite")


def test_non_finite_weight_is_refused_before_conversion(tmp_path):
    model = simple()
    kernel = next(w for w in model.weights if len(w.shape) == 2)
    value = np.asarray(kernel)
    value[1, 2] = np.nan
    kernel.assign(value)
    # float16 with atol=1e-12 'passed' on such a model before.
    with pytest.raises(ExportError, match=r"holds nan at index \(1, 2\)"):
        export_tflite(model, tmp_path / "w.tflite", quantize="float16", atol=1e-12)
    assert os.listdir(tmp_path) == []


def test_representative_data_of_the_wrong_shape_says_the_expected_one(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"`representative_data` must be a numeric array of shape "
        r"\(n, T, 3\) for this model\. Received: representative_data of shape "
        r"\(4, 12, 5\)",
    ):
        export_tflite(
            simple(),
            tmp_path / "q.tflite",
            quantize="int8",
            representative_data=RNG.normal(size=(4, 12, 5)),
        )
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_lambda_refusal_is_complete_and_trust_loads_it(tmp_path):
    source = tmp_path / "lambda.keras"
    two_outputs(lambda t: 2.0 * t).save(source)
    with pytest.raises(ExportError) as caught:
        export_tflite(source, tmp_path / "l.tflite")
    message = str(caught.value)
    assert "\n" not in message
    assert "keras.config.enable_unsafe_deserialization()" in message  # Keras' hint
    assert message.endswith("safe_mode=False (CLI: --trust-model).")
    report = export_tflite(source, tmp_path / "l.tflite", safe_mode=False)
    assert report.output_names == ["output_0", "output_1"]


def test_path_naming_a_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "dir.tflite").mkdir()
    with pytest.raises(ValueError, match=r"must not be folders.*dir\.tflite is a"):
        export_tflite(simple(), tmp_path / "dir.tflite", overwrite=True)
    (tmp_path / "dir.tflite").rmdir()
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(ValueError, match=r"dir\.json is a folder"):
        export_tflite(simple(), tmp_path / "dir.tflite", overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["dir.json"]
