"""Export to TFLite and parity in the LiteRT interpreter, for every model kind."""

import os

import keras
import numpy as np
import pytest

from keras_rnninit import XavierRNN
from keras_rnninit.export import (
    ExportError,
    export_tflite,
    non_builtin_ops,
)
from tests.export.helpers import X9, assert_parity, simple

RNG = np.random.default_rng(0)


def cumprod_model():
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.SimpleRNN(4)(inputs)
    out = keras.layers.Lambda(lambda t: keras.ops.cumprod(t, axis=-1))(h)
    return keras.Model(inputs, out)


def two_outputs(second=None):
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.SimpleRNN(6, kernel_initializer=XavierRNN(seed=0))(inputs)
    first = keras.layers.Dense(1, name="value")(h)
    tail = keras.layers.Dense(2, name="policy")(h)
    if second is not None:
        tail = keras.layers.Lambda(second)(tail)
    return keras.Model(inputs, [first, tail])


@pytest.mark.slow
def test_failed_parity_leaves_nothing_behind(tmp_path):
    with pytest.raises(ExportError, match="parity check failed"):
        export_tflite(
            simple(), tmp_path / "f.tflite", quantize="float16", atol=0.0, rtol=0.0
        )
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_flex_ops_only_on_request_and_never_claimed_verified(tmp_path):
    with pytest.raises(
        ExportError,
        match=r"builtins do not have: Cumprod\. Options: "
        r"allow_select_tf_ops=True",
    ):
        export_tflite(cumprod_model(), tmp_path / "c.tflite")
    with pytest.raises(
        ExportError,
        match="uses FlexCumprod, which LiteRT's Python interpreter cannot run",
    ):
        export_tflite(cumprod_model(), tmp_path / "c.tflite", allow_select_tf_ops=True)
    assert os.listdir(tmp_path) == []
    report = export_tflite(
        cumprod_model(), tmp_path / "c.tflite", allow_select_tf_ops=True, verify=False
    )
    assert non_builtin_ops(report.ops) == ["FlexCumprod"]
    assert report.max_abs_error is None and report.verified_sequences == 0


@pytest.mark.slow
def test_every_output_of_a_multi_output_model_is_verified(tmp_path):
    model = two_outputs()
    report = export_tflite(model, tmp_path / "two.tflite")
    assert report.output_names == ["output_0", "output_1"]
    assert_parity(report.path, model, X9, atol=1e-5)
    # A NaN in the second output only (log of a negative number) is caught.
    with pytest.raises(ExportError, match=r"Keras output 'output_1' holds nan"):
        export_tflite(
            two_outputs(lambda t: keras.ops.log(t - 100.0)), tmp_path / "nan.tflite"
        )
    assert not (tmp_path / "nan.tflite").exists()
