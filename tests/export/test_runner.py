"""Export to TFLite and parity in the LiteRT interpreter, for every model kind."""

import numpy as np
import pytest

from keras_rnninit.export import (
    TFLiteRunner,
    export_tflite,
)
from tests.export.helpers import X9, simple

RNG = np.random.default_rng(0)


@pytest.mark.slow
def test_runner_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="`path` must be an existing"):
        TFLiteRunner(tmp_path / "none.tflite")
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="`path` must be a valid .tflite file"):
        TFLiteRunner(garbage)
    report = export_tflite(simple(), tmp_path / "m.tflite")
    runner = TFLiteRunner(report.path)
    with pytest.raises(ValueError, match=r"Received: x.shape=\(2, 4, 5\)"):
        runner(RNG.normal(size=(2, 4, 5)))
    with pytest.raises(ValueError, match="has no state to reset"):
        runner.reset()
    assert runner.latency_ms(X9[:1], repeats=3) > 0
