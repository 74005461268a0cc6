"""`keras-rnninit export` (and diagnose --out) from the command line: exit
codes, one-line messages, nothing half written, normal file modes."""

import json
import os

import keras
import numpy as np
import pytest

from keras_rnninit import XavierRNN
from tests.helpers import run_main


def save(model, path):
    model.save(path)
    return str(path)


def rnn_model(outputs=1, tail=None):
    inputs = keras.Input((None, 2), name="sequence")
    h = keras.layers.SimpleRNN(4, kernel_initializer=XavierRNN(seed=0))(inputs)
    heads = [keras.layers.Dense(1)(h) for _ in range(outputs)]
    if tail is not None:
        heads[-1] = keras.layers.Lambda(tail, output_shape=(1,))(heads[-1])
    return keras.Model(inputs, heads if outputs > 1 else heads[0])


def assert_one_line(err, code, got):
    assert got == code, err
    assert err.count("\n") == 1, err


def test_missing_input_is_named_before_the_output_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no export/ folder here
    got, _, err = run_main(capsys, "export", "missing.keras")
    assert_one_line(err, 2, got)
    assert "`model` must be an existing .keras file" in err
    assert os.listdir(tmp_path) == []


def test_output_naming_a_folder_is_a_usage_error_and_writes_nothing(capsys, tmp_path):
    source = save(rnn_model(), tmp_path / "m.keras")
    out = tmp_path / "exp"
    (out / "dir.tflite").mkdir(parents=True)
    argv = ["export", source, "-o", str(out / "dir.tflite"), "--force"]
    got, _, err = run_main(capsys, *argv)
    assert_one_line(err, 2, got)
    assert "dir.tflite is a folder" in err
    assert os.listdir(out) == ["dir.tflite"]  # no dir.json, no temp files


def test_existing_output_says_force(capsys, tmp_path):
    source = save(rnn_model(), tmp_path / "m.keras")
    target = tmp_path / "m.tflite"
    target.write_bytes(b"mine")
    got, _, err = run_main(capsys, "export", source, "-o", str(target))
    assert_one_line(err, 2, got)
    assert "exists; pass --force to replace it." in err
    assert "overwrite=True" not in err and target.read_bytes() == b"mine"


@pytest.mark.slow
def test_multi_output_model_exports(capsys, tmp_path):
    source = save(rnn_model(outputs=2), tmp_path / "two.keras")
    got, out, err = run_main(
        capsys, "export", source, "-o", str(tmp_path / "two.tflite")
    )
    assert got == 0, err
    assert "parity" in out and (tmp_path / "two.json").exists()


def test_non_finite_weight_fails_with_exit_1_and_writes_nothing(capsys, tmp_path):
    model = rnn_model()
    kernel = next(w for w in model.weights if len(w.shape) == 2)
    value = np.asarray(kernel)
    value[0, 0] = np.inf
    kernel.assign(value)
    source = save(model, tmp_path / "inf.keras")
    got, _, err = run_main(capsys, "export", source, "-o", str(tmp_path / "i.tflite"))
    assert_one_line(err, 1, got)
    assert "holds inf at index (0, 0)" in err
    assert sorted(os.listdir(tmp_path)) == ["inf.keras"]


@pytest.mark.slow
def test_lambda_needs_trust_and_nan_outputs_fail(capsys, tmp_path):
    # The square root of a negative number: NaN in the Keras outputs (the
    # weights are finite). Only builtins in the lambda: it is deserialized.
    source = save(rnn_model(tail=lambda t: (t - 100.0) ** 0.5), tmp_path / "l.keras")
    argv = ["export", source, "-o", str(tmp_path / "l.tflite")]
    got, _, err = run_main(capsys, *argv)
    assert_one_line(err, 1, got)
    assert "enable_unsafe_deserialization()" in err and "--trust-model" in err
    got, _, err = run_main(capsys, *argv, "--trust-model")
    assert_one_line(err, 1, got)
    assert "Keras output 'output_0' holds nan at index (0, 0)" in err
    assert sorted(os.listdir(tmp_path)) == ["l.keras"]


def test_representative_of_the_wrong_shape_says_the_expected_one(capsys, tmp_path):
    source = save(rnn_model(), tmp_path / "m.keras")
    data = tmp_path / "rep.npy"
    np.save(data, np.zeros((8, 10, 5), "float32"))
    got, _, err = run_main(
        capsys,
        "export",
        source,
        "-o",
        str(tmp_path / "q.tflite"),
        "--quantize",
        "int8",
        "--representative",
        str(data),
    )
    assert_one_line(err, 2, got)
    assert "must be a numeric array of shape (n, T, 2) for this model" in err
    assert "shape (8, 10, 5)" in err


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.slow
def test_export_and_diagnose_outputs_get_normal_modes(capsys, tmp_path, umask_022):
    source = save(rnn_model(), tmp_path / "m.keras")
    got, _, err = run_main(capsys, "export", source, "-o", str(tmp_path / "m.tflite"))
    assert got == 0, err
    for name in ("m.tflite", "m.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644
    out = tmp_path / "diag"
    argv = ["diagnose", "--units", "4", "--length", "3", "--batch-size", "2"]
    got, _, err = run_main(capsys, *argv, "--draws", "1", "--out", str(out))
    assert got == 0, err
    assert out.stat().st_mode & 0o777 == 0o755
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.slow
@pytest.mark.parametrize(
    "masked, expected",
    [(False, "fused"), (True, "while (not fused: lstm: it receives a mask")],
)
def test_export_prints_the_recurrent_path(capsys, tmp_path, masked, expected):
    inputs = keras.Input((None, 2), name="sequence")
    h = keras.layers.Masking()(inputs) if masked else inputs
    h = keras.layers.LSTM(4, name="lstm")(h)
    path = save(keras.Model(inputs, keras.layers.Dense(1)(h)), tmp_path / "m.keras")
    got, out, err = run_main(capsys, "export", path, "-o", str(tmp_path / "m.tflite"))
    assert got == 0, err
    line = next(row for row in out.splitlines() if "recurrent path" in row)
    assert line.split("recurrent path", 1)[1].strip().startswith(expected)
    # The fused op keeps h and c between invokes; the file's users are told.
    state = next(row for row in out.splitlines() if row.strip().startswith("state"))
    assert ("reset_all_variables()" in state) is (not masked)
    sidecar = json.loads((tmp_path / "m.json").read_text())
    assert bool(sidecar["state_between_invokes"]) is (not masked)


@pytest.mark.slow
def test_stateful_export_says_its_state_persists_until_reset(capsys, tmp_path):
    # It printed "none kept between invokes" while the state persisted.
    inputs = keras.Input(batch_shape=(1, None, 2), name="sequence")
    h = keras.layers.LSTM(4, stateful=True)(inputs)
    path = save(keras.Model(inputs, keras.layers.Dense(1)(h)), tmp_path / "s.keras")
    got, out, err = run_main(capsys, "export", path, "-o", str(tmp_path / "s.tflite"))
    assert got == 0, err
    state = next(row for row in out.splitlines() if row.strip().startswith("state"))
    assert "2 stateful-model variable(s), zeroed only by the `reset` signature" in state
    latency = next(row for row in out.splitlines() if "latency" in row)
    assert latency.rstrip().endswith("on input (1, 5, 2)")
    # The independent check: the file's output changes on a repeated input
    # until `reset` runs.
    from tests.export.helpers import interpreter, serve

    litert, x = interpreter(tmp_path / "s.tflite"), np.ones((1, 4, 2), "float32")
    first, second = serve(litert, x)["output_0"], serve(litert, x)["output_0"]
    litert.get_signature_runner("reset")()
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(serve(litert, x)["output_0"], first)
