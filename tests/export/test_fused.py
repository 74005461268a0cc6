"""The fused TFLite LSTM (`UNIDIRECTIONAL_SEQUENCE_LSTM`), its fallbacks, its
state between invokes, int8 through it, and GRU (no fused op) for contrast.

Every file is checked in LiteRT by `tests/export/helpers.py` (not the
exporter's own runner) against the Keras model it came from.
"""

import keras
import numpy as np
import pytest

from keras_rnninit.export import (
    ExportError,
    TFLiteRunner,
    export_tflite,
    non_builtin_ops,
)
from tests.export.helpers import assert_parity, interpreter

FUSED = "UNIDIRECTIONAL_SEQUENCE_LSTM"


def fit_save_load(layers, tmp_path, *, features=3, dtype="float32", seed=0):
    """A model of `layers` in a row, fitted 2 epochs, saved as .keras and
    loaded back: (path, reloaded model)."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    shape = (None, features) if dtype == "float32" else (None,)
    inputs = keras.Input(shape, dtype=dtype, name="sequence")
    h = inputs
    for layer in layers:
        h = layer(h)
    model = keras.Model(inputs, h)
    if dtype == "float32":
        x = rng.normal(size=(32, 6, features)).astype("float32")
    else:
        x = rng.integers(0, 20, size=(32, 6)).astype(dtype)
    target = [6 if d is None else d for d in model.output.shape[1:]]
    y = rng.normal(size=(32, *target)).astype("float32")
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "source.keras"
    model.save(path)
    return path, keras.saving.load_model(path)


def sequences(length, batch=3, seed=1):
    return np.random.default_rng(seed).normal(size=(batch, length, 3)).astype("float32")


def assert_fused(report, count=1):
    assert non_builtin_ops(report.ops) == []
    assert FUSED in report.ops and "WHILE" not in report.ops
    assert report.recurrent_path == "fused" and report.lstm_fallbacks == {}
    assert report.input_shape[0] == 1 and report.input_shape[1] == -1
    with open(report.path, "rb") as file:
        from keras_rnninit.export import tflite_ops

        assert tflite_ops(file.read()).count(FUSED) == count


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [{}, {"return_sequences": True}, {"go_backwards": True}],
    ids=["last", "return_sequences", "go_backwards"],
)
def test_fitted_lstm_exports_as_the_fused_op_for_any_length(options, tmp_path):
    layers = [keras.layers.LSTM(8, **options), keras.layers.Dense(2)]
    path, model = fit_save_load(layers, tmp_path)
    report = export_tflite(path, tmp_path / "m.tflite")
    assert_fused(report)
    assert report.max_abs_error <= 1e-5
    for length in (4, 23):  # one file, two lengths: T is free
        assert_parity(report.path, model, sequences(length), atol=1e-5)


@pytest.mark.slow
def test_stacked_bidirectional_lstms_after_an_embedding_all_fuse(tmp_path):
    layers = [
        keras.layers.Embedding(20, 4),
        keras.layers.Bidirectional(keras.layers.LSTM(5, return_sequences=True)),
        keras.layers.LSTM(6, use_bias=False),
        keras.layers.Dense(3),
    ]
    path, model = fit_save_load(layers, tmp_path, dtype="int32")
    report = export_tflite(path, tmp_path / "m.tflite")
    assert_fused(report, count=3)  # forward, backward, and the second LSTM
    tokens = np.random.default_rng(2).integers(0, 20, size=(3, 11)).astype("int32")
    assert_parity(report.path, model, tokens, atol=1e-5)


def masked():
    return [keras.layers.Masking(0.0), keras.layers.LSTM(8), keras.layers.Dense(1)]


def relu():
    return [keras.layers.LSTM(8, activation="relu"), keras.layers.Dense(1)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "layers, reason",
    [(masked, "receives a mask"), (relu, "activation=relu")],
    ids=["mask", "relu"],
)
def test_unfusable_lstms_fall_back_to_while_and_say_why(layers, reason, tmp_path):
    path, model = fit_save_load(layers(), tmp_path)
    report = export_tflite(path, tmp_path / "m.tflite")
    assert "WHILE" in report.ops and FUSED not in report.ops
    assert report.recurrent_path == "while"
    ((name, why),) = report.lstm_fallbacks.items()
    assert name == model.layers[-2].name and reason in why
    x = sequences(9)
    x[0, 6:] = 0  # padding the mask skips
    assert_parity(report.path, model, x, atol=1e-5)


@pytest.mark.slow
def test_stateful_lstm_keeps_the_while_path_and_its_reset(tmp_path):
    inputs = keras.Input(batch_shape=(1, None, 3), name="sequence")
    h = keras.layers.LSTM(4, stateful=True, name="memory")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    report = export_tflite(model, tmp_path / "s.tflite")
    assert "WHILE" in report.ops and FUSED not in report.ops
    assert "reset" in report.signatures
    assert "stateful" in report.lstm_fallbacks["memory"]


@pytest.mark.slow
def test_mixed_model_fuses_the_lstm_and_loops_the_gru(tmp_path):
    layers = [
        keras.layers.LSTM(6, return_sequences=True),
        keras.layers.GRU(5),
        keras.layers.Dense(1),
    ]
    path, model = fit_save_load(layers, tmp_path)
    report = export_tflite(path, tmp_path / "m.tflite")
    assert report.recurrent_path == "fused+while"
    assert FUSED in report.ops and "WHILE" in report.ops
    assert_parity(report.path, model, sequences(13), atol=1e-5)
    # int8 would have to calibrate the GRU's loop: refused, nothing written.
    with pytest.raises(ValueError, match="GRU, which has no fused op"):
        export_tflite(
            model, tmp_path / "q.tflite", quantize="int8", unroll=False,
            representative_data=sequences(6, batch=8),
        )  # fmt: skip
    assert not (tmp_path / "q.tflite").exists()


@pytest.mark.slow
def test_int8_lstm_goes_through_the_fused_op(tmp_path):
    path, model = fit_save_load([keras.layers.LSTM(8), keras.layers.Dense(2)], tmp_path)
    calibration = sequences(10, batch=32, seed=3)
    report = export_tflite(
        path, tmp_path / "q.tflite", quantize="int8", representative_data=calibration
    )
    assert FUSED in report.ops and "WHILE" not in report.ops
    assert "QUANTIZE" in report.ops  # really quantized, not float
    assert not report.unroll and report.recurrent_path == "fused"
    assert report.input_shape == [1, -1, 3]  # any T, unlike the unrolled int8
    # int8 activations: 1/255 of each tensor's range per step; on these outputs
    # (|y| <= ~0.5) the measured error is ~2% of max|y|; 10% bounds it.
    for length in (10, 21):
        assert_parity(report.path, model, sequences(length), atol=1e-3, rtol=0.1)


@pytest.mark.slow
def test_runner_zeroes_the_fused_state_between_independent_calls(tmp_path):
    layers = [keras.layers.LSTM(8, return_sequences=True)]
    path, model = fit_save_load(layers, tmp_path)
    report = export_tflite(path, tmp_path / "m.tflite", batch_size=2)
    x = sequences(12, batch=2)
    expected = keras.ops.convert_to_numpy(model(x))
    # Plain LiteRT carries h and c on into the next invoke: wrong numbers.
    raw = interpreter(report.path).get_signature_runner("serving_default")
    first, second = (raw(sequence=x)["output_0"] for _ in range(2))
    assert np.abs(first - expected).max() <= 1e-5
    assert np.abs(second - expected).max() > 1e-3
    runner = TFLiteRunner(report.path)
    assert runner.carries_state and not runner.stateful
    for _ in range(3):  # the runner treats every call as new sequences
        np.testing.assert_allclose(runner(x), expected, atol=1e-5)
    # 5 rows on a batch-2 file: three chunks, each started from zero.
    five = sequences(12, batch=5, seed=4)
    np.testing.assert_allclose(
        runner(five), keras.ops.convert_to_numpy(model(five)), atol=1e-5
    )


@pytest.mark.slow
def test_streaming_carries_the_state_across_chunks(tmp_path):
    path, model = fit_save_load([keras.layers.LSTM(8, return_sequences=True)], tmp_path)
    report = export_tflite(path, tmp_path / "m.tflite")
    runner = TFLiteRunner(report.path)
    x = sequences(18, batch=1)
    expected = keras.ops.convert_to_numpy(model(x))  # the whole sequence at once
    chunks = [runner.stream(x[:, t : t + 6]) for t in (0, 6, 12)]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), expected, atol=1e-5)
    with pytest.raises(ValueError, match=r"chunk shape \(1, 6, 3\).*reset\(\)"):
        runner.stream(x[:, :5])
    runner.reset()  # a new stream, from zero
    np.testing.assert_allclose(runner.stream(x[:, :5]), expected[:, :5], atol=1e-5)
    runner(x)  # an independent call in between ends the stream too
    np.testing.assert_allclose(runner.stream(x[:, :6]), expected[:, :6], atol=1e-5)


@pytest.mark.slow
def test_gru_has_no_fused_op_and_exports_as_a_loop_or_unrolled(tmp_path):
    path, model = fit_save_load([keras.layers.GRU(6), keras.layers.Dense(1)], tmp_path)
    loop = export_tflite(path, tmp_path / "w.tflite")
    assert loop.recurrent_path == "while" and "WHILE" in loop.ops
    assert loop.lstm_fallbacks == {}  # no LSTM to fall back
    flat = export_tflite(path, tmp_path / "u.tflite", unroll=True, seq_len=9)
    assert flat.recurrent_path == "unrolled" and "WHILE" not in flat.ops
    for report, length in ((loop, 15), (flat, 9)):
        assert_parity(report.path, model, sequences(length), atol=1e-5)
    with pytest.raises(ValueError, match="keeps no state between invokes"):
        TFLiteRunner(loop.path).stream(sequences(9, batch=1))


@pytest.mark.slow
def test_lstm_inside_a_nested_model_fuses(tmp_path):
    keras.utils.set_random_seed(5)
    inner_input = keras.Input((None, 3))
    inner = keras.Model(
        inner_input, keras.layers.LSTM(4, return_sequences=True)(inner_input)
    )
    inputs = keras.Input((None, 3), name="sequence")
    model = keras.Model(inputs, keras.layers.Dense(1)(inner(inputs)))
    report = export_tflite(model, tmp_path / "n.tflite")
    assert_fused(report)
    assert_parity(report.path, model, sequences(8), atol=1e-5)


def _second_rnn(kind):
    from keras_rnninit.layers import FastSimpleRNN

    return {
        "simple_rnn": lambda: keras.layers.SimpleRNN(8),
        "gru": lambda: keras.layers.GRU(8),
        "fast_simple_rnn": lambda: FastSimpleRNN(8),
        "while_lstm": lambda: keras.layers.LSTM(8, activation="relu"),
    }[kind]()


@pytest.mark.slow
@pytest.mark.parametrize(
    "second", ["simple_rnn", "gru", "fast_simple_rnn", "while_lstm"]
)
def test_fused_lstm_feeding_a_loop_of_the_same_width_starts_it_from_zeros(
    second, tmp_path
):
    # The converter merged Keras' all-zero initial states: the loop after the
    # LSTM read the LSTM's in-place h (errors 0.02-0.58 in LiteRT).
    layers = [keras.layers.LSTM(8, return_sequences=True), _second_rnn(second)]
    path, model = fit_save_load([*layers, keras.layers.Dense(1)], tmp_path)
    report = export_tflite(path, tmp_path / "m.tflite")
    assert report.recurrent_path == "fused+while"
    for length in (1, 2, 6, 25):
        assert_parity(report.path, model, sequences(length), atol=1e-5)


@pytest.mark.slow
def test_a_file_whose_loop_reads_the_fused_state_is_refused_unverified(
    tmp_path, monkeypatch
):
    # Without the fix the converter shares the state; the structural check
    # refuses such a file even with verify=False.
    from keras_rnninit.export import fused

    monkeypatch.setattr(fused, "_own_zeros", lambda state: state)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None, 3)),
            keras.layers.LSTM(8, return_sequences=True),
            keras.layers.SimpleRNN(8),
            keras.layers.Dense(1),
        ]
    )
    with pytest.raises(ExportError, match=r"read a fused LSTM's state.*WHILE"):
        export_tflite(model, tmp_path / "m.tflite", verify=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_int8_of_a_masked_lstm_names_the_delegate_that_fails(tmp_path):
    # The unrolled int8 file runs in the builtin kernels, but LiteRT's default
    # XNNPACK delegate (a phone's default too) cannot prepare it.
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None, 3)),
            keras.layers.Masking(),
            keras.layers.LSTM(8),
            keras.layers.Dense(1),
        ]
    )
    x = sequences(10, batch=16)
    x[-1, 7:] = 0
    with pytest.raises(ExportError) as caught:
        export_tflite(
            model, tmp_path / "q.tflite", quantize="int8",
            representative_data=x, seq_len=10,
        )  # fmt: skip
    message = str(caught.value)
    assert "\n" not in message
    assert "XNNPACK" in message and "builtin kernels match Keras to" in message
    assert list(tmp_path.iterdir()) == []
