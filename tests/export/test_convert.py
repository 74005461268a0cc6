"""A model whose input fixes T exports without `seq_len` (parity on that T)."""

import keras
import numpy as np
import pytest

from keras_rnninit import FastSimpleRNN
from keras_rnninit.export import TFLiteRunner, export_tflite


@pytest.mark.slow
def test_fixed_length_model_exports_and_matches_keras(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((5, 2)), FastSimpleRNN(4), keras.layers.Dense(1)]
    )
    report = export_tflite(model, tmp_path / "m.tflite")
    assert report.verified_sequences >= 3 and report.max_abs_error <= 1e-5
    x = np.random.default_rng(1).normal(size=(1, 5, 2)).astype("float32")
    got = TFLiteRunner(report.path)(x)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-5)
