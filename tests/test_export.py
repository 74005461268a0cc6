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

RNG = np.random.default_rng(0)
X9 = RNG.normal(size=(5, 9, 3)).astype("float32")  # a length not used in verify


def simple():
    return schemes.get("xavier_rnn").build_model(input_dim=3, units=8, seed=0)


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


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_model_kind_exports_with_parity(kind, tmp_path):
    model = KINDS[kind]()
    report = export_tflite(model, tmp_path / f"{kind}.tflite")
    assert_builtin_while_file(report)
    assert report.max_abs_error <= 1e-5
    assert report.verified_sequences == 6
    assert report.input_shape[0] == 1 and report.input_shape[1] == -1
    # A fresh length and a batch of 5 (run 1 at a time on the fixed batch).
    x = probe_input(model)
    runner = TFLiteRunner(report.path)
    expected = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(runner(x), expected, atol=1e-5)


def test_model_reloaded_from_keras_file(tmp_path):
    model = reloaded(tmp_path)
    report = export_tflite(tmp_path / "source.keras", tmp_path / "r.tflite")
    assert_builtin_while_file(report)
    np.testing.assert_allclose(
        TFLiteRunner(report.path)(X9), model.predict(X9, verbose=0), atol=1e-5
    )
    with open(tmp_path / "source.keras", "rb") as file:
        import hashlib

        assert report.source_sha256 == hashlib.sha256(file.read()).hexdigest()


def test_metadata_sidecar(tmp_path):
    report = export_tflite(simple(), tmp_path / "m.tflite")
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["path"] == "m.tflite" and meta["input_name"] == "sequence"
    assert meta["input_shape"] == [1, -1, 3] and meta["input_dtype"] == "float32"
    assert meta["output_names"] == ["output_0"] and meta["quantize"] is None
    assert meta["max_abs_error"] == report.max_abs_error
    assert meta["serve_signature"] == "serving_default"
    assert meta["reset_signature"] is None
    assert set(meta["versions"]) >= {"tensorflow", "keras", "ai_edge_litert"}
    assert len(meta["source_sha256"]) == 64


@pytest.mark.parametrize("quantize, rtol", [("dynamic", 0.05), ("float16", 0.01)])
def test_quantized_while_exports(quantize, rtol, tmp_path):
    model = simple()
    report = export_tflite(model, tmp_path / f"{quantize}.tflite", quantize=quantize)
    assert_builtin_while_file(report)
    assert report.quantize == quantize and report.max_rel_error <= rtol
    ref = model.predict(X9, verbose=0)
    got = TFLiteRunner(report.path)(X9)
    assert np.abs(got - ref).max() <= 1e-5 + rtol * np.abs(ref).max()


def test_int8_goes_through_unrolled_path(tmp_path):
    model = simple()
    data = RNG.normal(size=(64, 12, 3)).astype("float32")
    report = export_tflite(
        model, tmp_path / "q.tflite", quantize="int8", representative_data=data
    )
    assert non_builtin_ops(report.ops) == [] and "WHILE" not in report.ops
    assert report.unroll and report.seq_len == 12 and report.input_shape == [-1, 12, 3]
    assert "QUANTIZE" in report.ops or "DEQUANTIZE" in report.ops
    assert report.max_rel_error <= 0.25
    ref = model.predict(data, verbose=0)
    got = TFLiteRunner(report.path)(data)
    assert np.abs(got - ref).max() <= 1e-5 + 0.25 * np.abs(ref).max()


def test_unrolled_has_dynamic_batch_and_fixed_length(tmp_path):
    model = simple()
    report = export_tflite(model, tmp_path / "u.tflite", unroll=True, seq_len=9)
    assert "WHILE" not in report.ops and non_builtin_ops(report.ops) == []
    runner = TFLiteRunner(report.path)
    assert runner.batch_size is None
    np.testing.assert_allclose(runner(X9), model.predict(X9, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match=r"`x` must have shape \('n', 9, 3\)"):
        runner(RNG.normal(size=(2, 5, 3)))


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


def erfinv_model():
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.SimpleRNN(4)(inputs)
    out = keras.layers.Lambda(lambda t: keras.ops.erfinv(0.5 * t))(h)
    return keras.Model(inputs, out)


def test_select_tf_ops_model_is_refused_with_the_ops_named(tmp_path):
    with pytest.raises(
        ExportError,
        match=r"TFLite builtins do not have: Erfinv\. "
        r"Options: allow_select_tf_ops=True",
    ):
        export_tflite(erfinv_model(), tmp_path / "e.tflite")
    assert os.listdir(tmp_path) == []


def test_failed_parity_leaves_nothing_behind(tmp_path):
    with pytest.raises(ExportError, match="parity check failed"):
        export_tflite(
            simple(), tmp_path / "f.tflite", quantize="float16", atol=0.0, rtol=0.0
        )
    assert os.listdir(tmp_path) == []


def test_existing_output_needs_overwrite(tmp_path):
    target = tmp_path / "m.tflite"
    target.write_bytes(b"user data")
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
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
    with pytest.raises(ValueError, match="no 'reset' signature"):
        runner.reset()
    assert runner.latency_ms(X9[:1], repeats=3) > 0


def cumprod_model():
    inputs = keras.Input((None, 3), name="sequence")
    h = keras.layers.SimpleRNN(4)(inputs)
    out = keras.layers.Lambda(lambda t: keras.ops.cumprod(t, axis=-1))(h)
    return keras.Model(inputs, out)


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


def test_op_outside_the_flex_list_says_so(tmp_path):
    with pytest.raises(ExportError, match="not in TensorFlow's Select"):
        export_tflite(erfinv_model(), tmp_path / "e.tflite", allow_select_tf_ops=True)
