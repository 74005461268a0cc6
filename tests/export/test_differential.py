"""A differential harness for export: Hypothesis draws random recurrent models
and each exported file must match Keras in our own LiteRT run, or be refused
in one line.

The bugs of the past lived in combinations of settings (a fused LSTM feeding
a same-width loop; int8 of a masked LSTM under XNNPACK), so the models are
drawn from all of them together: stacks of SimpleRNN, FastSimpleRNN, LSTM
(fusable or not) and GRU with widths drawn from a small set (equal widths
across a fused/loop boundary come up often), Bidirectional, go_backwards,
return_sequences, masks, pooling heads, stateful batch-1 models, and float32,
float16 and int8 files.

The reference is `tests/export/helpers.py` (ai_edge_litert's own signature
runner), never the exporter's verifier. float32 files must export: refusing
is not a fix. float16 and int8 may be refused, but only with an ExportError
or ValueError of one line.

`make test` runs a few derandomized examples; `make fuzz` runs hundreds
(KERAS_RNNINIT_FUZZ_EXAMPLES).
"""

import dataclasses
import os
import tempfile

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_rnninit.export import ExportError, export_tflite
from keras_rnninit.layers import FastSimpleRNN
from tests.export.helpers import interpreter, serve
from tests.helpers import Recurrent

EXAMPLES = int(os.environ.get("KERAS_RNNINIT_FUZZ_EXAMPLES", "12"))
FEATURES = 3
# (atol, rtol of max|y|) per quantization for the comparison below: float32
# is the exporter's own 1e-5; the others sit at the exporter's defaults.
TOLERANCES = {None: (1e-5, 0.0), "float16": (1e-5, 0.01), "int8": (1e-5, 0.25)}


@dataclasses.dataclass(frozen=True)
class Spec:
    layers: tuple
    return_sequences: bool  # of the last recurrent layer
    head: str  # dense, average, max (pooling heads need sequences)
    masked: bool
    stateful: bool
    quantize: str | None


@st.composite
def specs(draw):
    stateful = draw(st.booleans())
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["simple", "fast", "lstm", "lstm_relu", "gru"]))
        units = draw(st.sampled_from([4, 6]))
        # Keras builds no Bidirectional of a go_backwards layer.
        bidirectional = not stateful and draw(st.booleans())
        go_backwards = not bidirectional and draw(st.booleans())
        layers.append(Recurrent(kind, units, bidirectional, go_backwards))
    return_sequences = draw(st.booleans())
    head = (
        draw(st.sampled_from(["dense", "average", "max"]))
        if return_sequences
        else "dense"
    )
    quantize = draw(st.sampled_from([None, None, None, "float16", "int8"]))
    return Spec(
        layers=tuple(layers),
        return_sequences=return_sequences,
        head=head,
        masked=draw(st.booleans()),
        stateful=stateful,
        quantize=None if stateful and quantize == "int8" else quantize,
    )


def _recurrent(layer, return_sequences, stateful):
    options = dict(
        return_sequences=return_sequences,
        go_backwards=layer.go_backwards,
        stateful=stateful,
    )
    if layer.kind == "simple":
        rnn = keras.layers.SimpleRNN(layer.units, **options)
    elif layer.kind == "fast":
        rnn = FastSimpleRNN(layer.units, **options)
    elif layer.kind == "gru":
        rnn = keras.layers.GRU(layer.units, **options)
    else:
        activation = "relu" if layer.kind == "lstm_relu" else "tanh"
        rnn = keras.layers.LSTM(layer.units, activation=activation, **options)
    return keras.layers.Bidirectional(rnn) if layer.bidirectional else rnn


def build(spec, seed=0):
    keras.utils.set_random_seed(seed)
    batch = 1 if spec.stateful else None
    inputs = keras.Input(batch_shape=(batch, None, FEATURES), name="sequence")
    h = keras.layers.Masking()(inputs) if spec.masked else inputs
    for index, layer in enumerate(spec.layers):
        last = index == len(spec.layers) - 1
        h = _recurrent(layer, spec.return_sequences or not last, spec.stateful)(h)
    if spec.head == "average":
        h = keras.layers.GlobalAveragePooling1D()(h)
    elif spec.head == "max":
        h = keras.layers.GlobalMaxPooling1D()(h)
    return keras.Model(inputs, keras.layers.Dense(2)(h))


def sequences(batch, length, seed):
    x = np.random.default_rng(seed).normal(size=(batch, length, FEATURES))
    x = x.astype("float32")
    if length > 1:  # padding the mask skips (a wholly masked row is NaN
        x[-1, length - max(1, length // 3) :] = 0  # under average pooling)
    return x


CALIBRATION = sequences(16, 6, seed=1)


def reset_keras(model):
    for layer in model.layers:
        inner = (
            [layer.forward_layer, layer.backward_layer]
            if hasattr(layer, "forward_layer")
            else [layer]
        )
        for rnn in inner:
            if getattr(rnn, "stateful", False):
                rnn.reset_state()


def check_file(report, model, spec):
    """Our own LiteRT run against Keras on fresh sequences of two lengths
    (the file's fixed T if unrolled); a stateful file twice in a row, so the
    state it keeps between invokes is compared too."""
    atol, rtol = TOLERANCES[spec.quantize]
    lengths = (report.seq_len,) if report.unroll else (1, 7)
    for length in lengths:
        rows = 1 if spec.stateful else 3
        x = sequences(rows, length, seed=length)
        if spec.quantize == "int8":
            # int8 accuracy is promised on the data it was calibrated on (the
            # exporter verifies there too), not on every input.
            x = CALIBRATION
        if spec.stateful:
            litert = interpreter(report.path)
            litert.get_signature_runner("reset")()
            reset_keras(model)
            got = [serve(litert, x)["output_0"] for _ in range(2)]
            expected = [np.asarray(model(x)) for _ in range(2)]
        else:
            got, expected = [serve(report.path, x)["output_0"]], [np.asarray(model(x))]
        for g, e in zip(got, expected, strict=True):
            assert np.all(np.isfinite(e))
            bound = atol + rtol * float(np.abs(e).max())
            np.testing.assert_allclose(g, e, rtol=0, atol=bound)


def export_and_check(spec, folder):
    model = build(spec)
    path = os.path.join(folder, "m.tflite")
    options = {}
    if spec.quantize == "int8":
        options = dict(representative_data=CALIBRATION, seq_len=6)
    try:
        report = export_tflite(
            model, path, quantize=spec.quantize, overwrite=True, **options
        )
    except (ExportError, ValueError) as error:
        # float32 must export; the others may be refused, in one line, and
        # then nothing is written.
        assert spec.quantize is not None, f"float32 refused: {error}"
        assert "\n" not in str(error), str(error)
        assert not os.path.exists(path)
        return None
    check_file(report, model, spec)
    return report


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(spec=specs())
def test_random_models_export_and_match_keras_in_litert(spec, tmp_path):
    # tmp_path is one folder for all examples: each gets a fresh one in it.
    export_and_check(spec, tempfile.mkdtemp(dir=tmp_path))


# The configurations that hid the round-2 bugs, always run.
EQUAL_WIDTH = [
    Spec(
        layers=(Recurrent("lstm", 6, False, False), Recurrent(kind, 6, False, False)),
        return_sequences=False,
        head="dense",
        masked=False,
        stateful=False,
        quantize=None,
    )
    for kind in ("simple", "fast", "gru", "lstm_relu")
]


@pytest.mark.slow
@pytest.mark.parametrize("spec", EQUAL_WIDTH, ids=lambda s: s.layers[1].kind)
def test_fused_lstm_then_same_width_loop(spec, tmp_path):
    report = export_and_check(spec, str(tmp_path))
    assert report.recurrent_path == "fused+while"
