"""Export to TFLite and parity in the LiteRT interpreter, for every model kind."""

import json
import os

import keras
import numpy as np
import pytest

from keras_rnninit import XavierRNN, XavierRNNCell, schemes
from keras_rnninit.export import (
    ExportError,
    TFLiteRunner,
    export_tflite,
    non_builtin_ops,
)
from tests.export.helpers import X9, assert_parity, interpreter, serve, simple

RNG = np.random.default_rng(0)


def cell():
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.RNN(XavierRNNCell(8, seed=0))(inputs)
    return keras.Model(inputs, keras.layers.Dense(2)(h))


def stacked():
    return keras.Sequential(
        [
            keras.Input((None, 3), name="sequence"),
            keras.layers.SimpleRNN(
                8, return_sequences=True, kernel_initializer=XavierRNN(seed=1)
            ),
            keras.layers.RNN(XavierRNNCell(6, seed=2)),
            keras.layers.Dense(1),
        ]
    )


def bidirectional():
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.Bidirectional(keras.layers.RNN(XavierRNNCell(4, seed=0)))(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def sequences():
    return schemes.get("orthogonal").build_model(
        input_dim=3,
        units=8,
        output_units=4,
        seed=0,
        return_sequences=True,
        output_activation="softmax",
    )


def masking():
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.Masking(0.0)(inputs)
    h = keras.layers.SimpleRNN(
        8, kernel_initializer=XavierRNN(seed=0), recurrent_initializer=XavierRNN(seed=1)
    )(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def embedding():
    inputs = keras.Input((None,), dtype="int32", name="tokens")
    h = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    h = keras.layers.RNN(XavierRNNCell(8, seed=0))(h)
    return keras.Model(inputs, keras.layers.Dense(20)(h))


def reloaded(tmp_path):
    path = tmp_path / "source.keras"
    model = simple()
    model.compile("adam", "mse")
    model.fit(RNG.normal(size=(32, 6, 3)), RNG.normal(size=(32, 1)), verbose=0)
    model.save(path)
    return keras.saving.load_model(path)


KINDS = {
    "simple": simple,
    "cell": cell,
    "stacked": stacked,
    "bidirectional": bidirectional,
    "return_sequences": sequences,
    "masking": masking,
    "embedding": embedding,
}


def probe_input(model, batch=5, length=9):
    if model.inputs[0].dtype.startswith("int") or "int" in str(model.inputs[0].dtype):
        x = RNG.integers(1, 20, size=(batch, length)).astype("int32")
        x[0, 6:] = 0
        return x
    x = RNG.normal(size=(batch, length, 3)).astype("float32")
    x[0, 6:] = 0  # padding for the masking model
    return x


def assert_builtin_while_file(report):
    assert non_builtin_ops(report.ops) == []
    assert "WHILE" in report.ops
    assert os.path.getsize(report.path) == report.size_bytes > 0


def erfinv_model():
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.SimpleRNN(4)(inputs)
    out = keras.layers.Lambda(lambda t: keras.ops.erfinv(0.5 * t))(h)
    return keras.Model(inputs, out)


def fitted_and_reloaded(layer, tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((None, 3), name="sequence"), layer, keras.layers.Dense(1)]
    )
    model.compile("adam", "mse")
    x, y = RNG.normal(size=(32, 6, 3)), RNG.normal(size=(32, 1))
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "source.keras"
    model.save(path)
    return path, keras.saving.load_model(path)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_model_kind_exports_with_parity(kind, tmp_path):
    model = KINDS[kind]()
    report = export_tflite(model, tmp_path / f"{kind}.tflite")
    assert_builtin_while_file(report)
    assert report.verified_sequences == 6
    assert report.input_shape[0] == 1 and report.input_shape[1] == -1
    # A fresh length and a batch of 5, in LiteRT run by the test itself and
    # through TFLiteRunner (1 at a time on the fixed batch).
    x = probe_input(model)
    assert_parity(report.path, model, x, atol=1e-5)
    expected = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(TFLiteRunner(report.path)(x), expected, atol=1e-5)


@pytest.mark.slow
def test_model_reloaded_from_keras_file(tmp_path):
    model = reloaded(tmp_path)
    report = export_tflite(tmp_path / "source.keras", tmp_path / "r.tflite")
    assert_builtin_while_file(report)
    assert_parity(report.path, model, X9, atol=1e-5)
    with open(tmp_path / "source.keras", "rb") as file:
        import hashlib

        assert report.source_sha256 == hashlib.sha256(file.read()).hexdigest()


@pytest.mark.slow
def test_metadata_sidecar(tmp_path):
    report = export_tflite(simple(), tmp_path / "m.tflite")
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["path"] == "m.tflite" and meta["input_name"] == "sequence"
    assert meta["input_shape"] == [1, -1, 3] and meta["input_dtype"] == "float32"
    assert meta["output_names"] == ["output_0"] and meta["quantize"] is None
    assert meta["max_abs_error"] == report.max_abs_error
    assert meta["serve_signature"] == "serving_default"
    assert meta["reset_signature"] is None
    # Timed on one file batch (1 row) of the first verification length, T=5.
    assert meta["latency_input_shape"] == [1, 5, 3]
    assert meta["state_between_invokes"] == []  # a WHILE SimpleRNN keeps none
    assert set(meta["versions"]) >= {"tensorflow", "keras", "ai_edge_litert"}
    assert len(meta["source_sha256"]) == 64


@pytest.mark.slow
@pytest.mark.parametrize("quantize, rtol", [("dynamic", 0.05), ("float16", 0.01)])
def test_quantized_while_exports(quantize, rtol, tmp_path):
    model = simple()
    report = export_tflite(model, tmp_path / f"{quantize}.tflite", quantize=quantize)
    assert_builtin_while_file(report)
    assert report.quantize == quantize
    assert_parity(report.path, model, X9, atol=1e-5, rtol=rtol)


@pytest.mark.slow
def test_int8_goes_through_unrolled_path(tmp_path):
    model = simple()
    data = RNG.normal(size=(64, 12, 3)).astype("float32")
    report = export_tflite(
        model, tmp_path / "q.tflite", quantize="int8", representative_data=data
    )
    assert non_builtin_ops(report.ops) == [] and "WHILE" not in report.ops
    assert report.unroll and report.seq_len == 12 and report.input_shape == [-1, 12, 3]
    assert "QUANTIZE" in report.ops or "DEQUANTIZE" in report.ops
    assert_parity(report.path, model, data, atol=1e-5, rtol=0.25)


@pytest.mark.slow
def test_unrolled_has_dynamic_batch_and_fixed_length(tmp_path):
    model = simple()
    report = export_tflite(model, tmp_path / "u.tflite", unroll=True, seq_len=9)
    assert "WHILE" not in report.ops and non_builtin_ops(report.ops) == []
    runner = TFLiteRunner(report.path)
    assert runner.batch_size is None
    assert_parity(report.path, model, X9, atol=1e-5)
    with pytest.raises(ValueError, match=r"`x` must have shape \('n', 9, 3\)"):
        runner(RNG.normal(size=(2, 5, 3)))


@pytest.mark.slow
def test_stateful_export_keeps_state_and_resets(tmp_path):
    inputs = keras.Input(batch_shape=(1, None, 3), name="sequence")
    rnn = keras.layers.RNN(XavierRNNCell(6, seed=0), stateful=True)
    model = keras.Model(inputs, rnn(inputs))
    report = export_tflite(model, tmp_path / "s.tflite")
    assert report.signatures == ["reset", "serving_default"]
    runner = TFLiteRunner(report.path)
    x = X9[:1]
    rnn.reset_state()
    keras_calls = [np.asarray(model(x)), np.asarray(model(x))]
    tflite_calls = [runner(x), runner(x)]
    np.testing.assert_allclose(tflite_calls, keras_calls, atol=1e-5)
    assert not np.allclose(tflite_calls[0], tflite_calls[1])  # state carried over
    runner.reset()
    np.testing.assert_allclose(runner(x), keras_calls[0], atol=1e-5)
    with pytest.raises(ValueError, match="exactly 1 sequence"):
        runner(X9[:2])
    # The report and the sidecar say the state persists (it did above) and
    # where: resource variables that only `reset` zeroes.
    assert report.state_variables and report.state_tensors == []
    assert report.state_between_invokes == report.state_variables
    with open(report.metadata_path) as file:
        sidecar = json.load(file)
    assert sidecar["state_variables"] == report.state_variables
    assert sidecar["reset_signature"] == "reset"


def test_int8_of_a_stateful_model_says_why_not_without_blaming_unroll(tmp_path):
    inputs = keras.Input(batch_shape=(1, None, 3), name="sequence")
    h = keras.layers.LSTM(4, stateful=True)(inputs)
    model = keras.Model(inputs, h)
    with pytest.raises(ValueError) as caught:
        export_tflite(model, tmp_path / "q.tflite", quantize="int8", verify_data=X9[:1])
    message = str(caught.value)
    assert message.startswith("`quantize` must not be 'int8' for a stateful model")
    assert "Received: quantize='int8'" in message and "unroll=True" not in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_select_tf_ops_model_is_refused_with_the_ops_named(tmp_path):
    with pytest.raises(
        ExportError,
        match=r"TFLite builtins do not have: Erfinv\. "
        r"Options: allow_select_tf_ops=True",
    ):
        export_tflite(erfinv_model(), tmp_path / "e.tflite")
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_op_outside_the_flex_list_says_so(tmp_path):
    with pytest.raises(ExportError, match="not in TensorFlow's Select"):
        export_tflite(erfinv_model(), tmp_path / "e.tflite", allow_select_tf_ops=True)


@pytest.mark.slow
def test_int8_keeps_integer_token_inputs(tmp_path):
    # Without mask_zero: int8 of a masked loop fails in the converter itself
    # (tfl.select_v2 'same scale constraint').
    inputs = keras.Input((None,), dtype="int32", name="tokens")
    scale = keras.initializers.RandomNormal(stddev=1.0, seed=0)  # trained-like
    h = keras.layers.Embedding(20, 4, embeddings_initializer=scale)(inputs)
    h = keras.layers.RNN(XavierRNNCell(8, seed=0))(h)
    model = keras.Model(inputs, keras.layers.Dense(3)(h))
    tokens = RNG.integers(1, 20, size=(32, 7)).astype("int32")
    report = export_tflite(
        model, tmp_path / "t.tflite", quantize="int8", representative_data=tokens
    )
    assert report.input_dtype == "int32" and report.input_shape == [-1, 7]
    assert_parity(report.path, model, tokens, atol=1e-5, rtol=0.25)


@pytest.mark.slow
def test_nested_stateful_model_gets_a_reset_signature(tmp_path):
    inner = keras.Sequential(
        [
            keras.Input(batch_shape=(1, None, 3)),
            keras.layers.SimpleRNN(5, stateful=True, name="state"),
        ],
        name="inner",
    )
    inputs = keras.Input(batch_shape=(1, None, 3), name="sequence")
    model = keras.Model(inputs, keras.layers.Dense(2)(inner(inputs)))
    report = export_tflite(model, tmp_path / "n.tflite")
    assert report.signatures == ["reset", "serving_default"]
    x = X9[:1]
    inner.get_layer("state").reset_state()
    first, second = np.asarray(model(x)), np.asarray(model(x))
    litert = interpreter(report.path)
    np.testing.assert_allclose(serve(litert, x)["output_0"], first, atol=1e-5)
    np.testing.assert_allclose(serve(litert, x)["output_0"], second, atol=1e-5)
    assert not np.allclose(first, second)  # the state carried over
    litert.get_signature_runner("reset")()
    np.testing.assert_allclose(serve(litert, x)["output_0"], first, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize(
    "layer",
    [
        lambda: keras.layers.LSTM(8),
        lambda: keras.layers.GRU(8),
        lambda: keras.layers.GRU(8, reset_after=False),
    ],
    ids=["lstm", "gru", "gru_reset_before"],
)
def test_lstm_and_gru_export_with_parity(layer, tmp_path):
    path, model = fitted_and_reloaded(layer(), tmp_path)
    report = export_tflite(path, tmp_path / "m.tflite")
    if isinstance(model.layers[0], keras.layers.LSTM):  # tests/export/test_fused.py
        assert report.ops.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == 1
        assert "WHILE" not in report.ops and not non_builtin_ops(report.ops)
    else:
        assert_builtin_while_file(report)
    for length in (4, 23):  # any length runs in the loop
        x = RNG.normal(size=(3, length, 3)).astype("float32")
        assert_parity(report.path, model, x, atol=1e-5)


def test_publish_moves_all_files_or_none(tmp_path):
    from keras_rnninit.utils.files import publish

    old = tmp_path / "m.tflite"
    old.write_bytes(b"old model")
    blocker = tmp_path / "m.json"  # a non-empty folder: the second move fails
    blocker.mkdir()
    (blocker / "keep").write_text("x")
    new_model, new_meta = tmp_path / ".m.tmp", tmp_path / ".j.tmp"
    new_model.write_bytes(b"new model")
    new_meta.write_text("{}")
    with pytest.raises(OSError):
        publish([(new_model, old), (new_meta, blocker)])
    assert old.read_bytes() == b"old model"  # restored
    # No backup left; the unmoved temp file is the caller's to remove.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".j.tmp",
        "m.json",
        "m.tflite",
    ]
    fresh = tmp_path / "fresh.tflite"
    second = tmp_path / ".f.tmp"
    second.write_bytes(b"model")
    with pytest.raises(OSError):
        publish([(second, fresh), (new_meta, blocker)])
    assert not fresh.exists()  # a file that did not exist before is removed again


@pytest.mark.slow
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_exported_files_follow_the_umask(umask, mode, tmp_path):
    previous = os.umask(umask)
    try:
        report = export_tflite(simple(), tmp_path / "m.tflite")
    finally:
        os.umask(previous)
    for path in (report.path, report.metadata_path):
        assert os.stat(path).st_mode & 0o777 == mode


@pytest.mark.slow
def test_int8_quantizer_failing_silently_is_one_line_that_says_so(tmp_path):
    # TensorFlow's quantizer raises a bare RuntimeError on this model (found by
    # tests/export/test_differential.py); the message was "RuntimeError".
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.SimpleRNN(4)(keras.layers.Masking()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(h))
    data = RNG.normal(size=(16, 6, 3)).astype("float32")
    with pytest.raises(ExportError) as caught:
        export_tflite(
            model, tmp_path / "q.tflite", quantize="int8", representative_data=data
        )
    message = str(caught.value)
    assert "int8 quantization failed without saying why" in message
    assert "\n" not in message and list(tmp_path.iterdir()) == []
