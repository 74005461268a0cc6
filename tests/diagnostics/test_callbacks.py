import csv
import math

import keras
import pytest
import tensorflow as tf

from keras_rnninit import SpectralRadius, XavierRNN, schemes
from keras_rnninit.diagnostics import diagnose
from keras_rnninit.diagnostics.callbacks import (
    ConvergenceTracker,
    NaNGuard,
    RNNDiagnostics,
)
from keras_rnninit.tasks import adding_problem
from tests.diagnostics.helpers import KINDS, SW, SW_STEPS, build
from tests.helpers import fit_gradient_norms

X, Y = adding_problem(256, length=10, seed=0)
XV, YV = adding_problem(64, length=10, seed=1)
KEYS = {
    "rnn_log10_grad_ratio",
    "rnn_spectral_radius",
    "rnn_max_singular_value",
    "rnn_state_var_last",
    "rnn_saturated_last",
    "rnn_grad_norm_wxh",
    "rnn_grad_norm_whh",
    "rnn_grad_norm_why",
}


def model(scheme="xavier_rnn"):
    m = schemes.get(scheme).build_model(input_dim=2, units=8, seed=0)
    m.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return m


@pytest.mark.slow
def test_diagnostics_written_to_history_and_csv(tmp_path):
    m = model()
    diag = RNNDiagnostics((XV, YV))
    log = tmp_path / "log.csv"
    history = m.fit(
        X,
        Y,
        batch_size=32,
        epochs=3,
        validation_data=(XV, YV),
        callbacks=[diag, keras.callbacks.CSVLogger(str(log))],
        verbose=0,
    )
    assert KEYS <= set(history.history)
    assert len(history.history["rnn_spectral_radius"]) == 3
    with open(log) as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3 and KEYS <= set(rows[0])
    # Init record + one per epoch, steps counted from params["steps"] = 8.
    assert [r["step"] for r in diag.records] == [0, 8, 16, 24]
    assert diag.records[0]["grad_norms"].shape == (10,)
    # The logged value is the diagnostics of the final weights.
    final = diagnose(m, XV, YV)
    assert math.isclose(
        history.history["rnn_log10_grad_ratio"][-1], final["log10_ratio"], rel_tol=1e-9
    )


@pytest.mark.slow
def test_tf_data_every_n_epochs_and_reuse_across_fits():
    m = model()
    data = tf.data.Dataset.from_tensor_slices((X, Y)).batch(32)
    diag = RNNDiagnostics(data, every=2)
    m.fit(data, epochs=4, callbacks=[diag], verbose=0, shuffle=False)
    m.fit(data, epochs=2, callbacks=[diag], verbose=0, shuffle=False)
    assert [r["step"] for r in diag.records] == [0, 16, 32, 48]
    assert [r["fit"] for r in diag.records] == [1, 1, 1, 2]
    diag.reset()
    m.fit(data, epochs=1, callbacks=[diag], verbose=0, shuffle=False)
    assert [r["step"] for r in diag.records] == [0]


@pytest.mark.slow
def test_async_dispatch_kept_unless_batch_diagnostics():
    plain = RNNDiagnostics((XV, YV))
    batchy = RNNDiagnostics((XV, YV), every=100, every_n_batches=4)
    m = model()
    # Keras dispatches batch ends asynchronously where the backend is thread
    # safe (JAX; not TensorFlow): the counting hooks must not turn that off.
    baseline = keras.callbacks.CallbackList([keras.callbacks.Callback()], model=m)
    counting = keras.callbacks.CallbackList([plain, ConvergenceTracker(1.0)], model=m)
    assert counting._async_train == baseline._async_train
    assert plain.async_safe and not batchy.async_safe
    assert not keras.callbacks.CallbackList([batchy], model=m)._async_train
    m.fit(X, Y, batch_size=32, epochs=1, callbacks=[batchy], verbose=0)
    assert [r["step"] for r in batchy.records] == [0, 4, 8]


@pytest.mark.slow
def test_convergence_tracker_counts_steps():
    m = model()
    tracker = ConvergenceTracker(threshold=10.0)  # crossed at the first check
    strict = ConvergenceTracker(threshold=-1.0)  # never
    untargeted = ConvergenceTracker(threshold=None)  # values and best only
    history = m.fit(
        X,
        Y,
        batch_size=32,
        epochs=2,
        validation_data=(XV, YV),
        callbacks=[tracker, strict, untargeted],
        verbose=0,
    )
    assert tracker.crossed_step == 8 and tracker.crossed_epoch == 1
    assert strict.crossed_step is None and len(strict.values) == 2
    assert strict.best == min(v for _, v in strict.values)
    assert untargeted.crossed_step is None
    assert [v for _, v in untargeted.values] == history.history["val_loss"]
    assert untargeted.best == min(history.history["val_loss"])


@pytest.mark.slow
def test_convergence_tracker_warns_on_missing_key_and_stops():
    m = model()
    tracker = ConvergenceTracker(threshold=1.0, monitor="val_mae")
    with pytest.warns(UserWarning, match="available keys: loss"):
        m.fit(X, Y, batch_size=32, epochs=1, callbacks=[tracker], verbose=0)
    stopper = ConvergenceTracker(threshold=10.0, monitor="loss", stop_training=True)
    history = m.fit(X, Y, batch_size=32, epochs=5, callbacks=[stopper], verbose=0)
    assert len(history.history["loss"]) == 1


@pytest.mark.slow
def test_nan_guard_stops_with_diagnosis(capsys):
    inputs = keras.Input((None, 2), name="sequence")
    h = keras.layers.SimpleRNN(
        16,
        activation="relu",
        kernel_initializer=XavierRNN(seed=0),
        recurrent_initializer=SpectralRadius(3.0, seed=1),
    )(inputs)
    m = keras.Model(inputs, keras.layers.Dense(1)(h))
    m.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    x, y = adding_problem(256, length=60, seed=0)
    guard = NaNGuard(probe=(x[:32], y[:32]))
    m.fit(x * 10, y, batch_size=32, epochs=3, callbacks=[guard], verbose=0)
    d = guard.diagnosis
    assert d is not None and not math.isfinite(d["loss"])
    assert d["where"] in {"weight", "state", "loss"} and d["step"] >= 1
    assert "NaNGuard: loss became" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"every": 0}, "`every` must be a positive int"),
        ({"every_n_batches": -1}, "`every_n_batches` must be a positive int"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RNNDiagnostics((XV, YV), **kwargs)
    with pytest.raises(ValueError, match=r"`probe` must be an.*probe of type int$"):
        RNNDiagnostics(42)
    # A dataset of feature dicts has no y: its keys are no (x, y) pair.
    features = [{"x": XV[:4], "y": YV[:4]}]
    with pytest.raises(
        ValueError, match=r"Received: probe of type list yielding a dict$"
    ):
        RNNDiagnostics(features)
    with pytest.raises(ValueError, match="`mode` must be one of max, min"):
        ConvergenceTracker(0.1, mode="lowest")


@pytest.mark.slow
def test_steps_count_real_batches_of_unknown_length_dataset():
    # filter() hides the length: params["steps"] is None. 256 samples keep
    # the ones with y > 1 and batch by 16; count the real batches directly.
    data = (
        tf.data.Dataset.from_tensor_slices((X, Y))
        .filter(lambda x, y: y[0] > 1.0)
        .batch(16)
    )
    assert data.cardinality() == tf.data.UNKNOWN_CARDINALITY
    batches = sum(1 for _ in data)
    assert batches > 1
    m = model()
    diag = RNNDiagnostics((XV, YV))
    tracker = ConvergenceTracker(threshold=10.0, monitor="loss")
    m.fit(data, epochs=3, callbacks=[diag, tracker], verbose=0)
    m.fit(data, epochs=1, callbacks=[diag, tracker], verbose=0)
    assert [r["step"] for r in diag.records] == [
        0,
        *(batches * k for k in (1, 2, 3, 4)),
    ]
    assert tracker.crossed_step == batches
    assert [s for s, _ in tracker.values] == [batches * k for k in (1, 2, 3, 4)]


def stacked():
    inputs = keras.Input((None, 2))
    h = keras.layers.SimpleRNN(8, return_sequences=True, name="first")(inputs)
    h = keras.layers.SimpleRNN(6, name="second")(h)
    m = keras.Model(inputs, keras.layers.Dense(1)(h))
    m.compile(optimizer="sgd", loss="mse")
    return m


@pytest.mark.slow
def test_stacked_layers_named_in_records_and_logs():
    m = stacked()
    second = RNNDiagnostics((XV, YV), layer="second")
    default = RNNDiagnostics((XV, YV))
    fixed = RNNDiagnostics((XV, YV), layer="second", prefix="deep_")
    history = m.fit(
        X, Y, batch_size=64, epochs=1, callbacks=[second, default, fixed], verbose=0
    )
    assert {f"second_{k[4:]}" for k in KEYS} <= set(history.history)
    assert {f"first_{k[4:]}" for k in KEYS} <= set(history.history)
    assert {f"deep_{k[4:]}" for k in KEYS} <= set(history.history)
    assert not KEYS & set(history.history)
    assert {r["layer"] for r in second.records} == {"second"}
    assert {r["layer"] for r in default.records} == {"first"}
    # The logged values are the diagnostics of that layer (6 vs 8 units).
    for name, diag in (("second", second), ("first", default)):
        expected = diagnose(m, XV, YV, layer=name)
        assert expected["layer"] == name
        assert history.history[f"{name}_grad_norm_whh"][-1] == pytest.approx(
            expected["weight_grad_norms"]["Whh"], rel=1e-9
        )
        assert diag.records[-1]["grad_norms"].shape == (10,)


@pytest.mark.slow
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "gru"])
@pytest.mark.parametrize("setting", ["text_classifier", "initial_state"])
def test_diagnostics_inside_fit_are_fits_gradients(setting, kind):
    # Embedding(mask_zero) -> RNN -> GlobalAveragePooling1D -> Dense (the
    # layers after the RNN use the mask), and [x, h0(, c0)] as initial state
    # (a probe of several inputs): fit runs to the end and the logged norms
    # are diagnose()'s, which are those of the loss fit differentiates.
    model, x, y, _ = build(setting, kind)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    y = y.astype("float32")
    sw = SW_STEPS if y.ndim == 3 else SW
    if setting == "text_classifier":  # a dataset probe: its first batch
        probe = tf.data.Dataset.from_tensor_slices((x, y, sw)).batch(len(sw))
    else:
        probe = (x, y, sw)
    diag = RNNDiagnostics(probe)
    history = model.fit(
        x, y, sample_weight=sw, batch_size=3, epochs=2, verbose=0, callbacks=[diag]
    )
    assert len(history.history["loss"]) == 2 and len(diag.records) == 3
    report = diagnose(model, x, y, sample_weight=sw)
    for key, name in (("whh", "Whh"), ("wxh", "Wxh"), ("why", "Why")):
        logged = history.history[f"rnn_grad_norm_{key}"][-1]
        assert logged == pytest.approx(report["weight_grad_norms"][name], rel=1e-9)
    expected = fit_gradient_norms(model, x, y, sw)
    whh = expected[model.get_layer("rnn").cell.recurrent_kernel.path]
    assert history.history["rnn_grad_norm_whh"][-1] == pytest.approx(whh, rel=2e-4)


@pytest.mark.slow
def test_logs_have_no_nan_on_a_probe_padded_at_the_end():
    # JapaneseVowels' shape: zero-padded, masked, every probe row padded at
    # T, so dL/ds_T = 0; the logged ratio is each row's first over last real
    # step, by a tape on per-step perturbations of the real cell.
    from tests.diagnostics.helpers import (
        LENGTHS,
        first_to_last_ratio,
        masked_model,
        padded,
        perturbation_grads,
    )

    m = masked_model()
    x, y = padded(LENGTHS["all_padded_at_T"])
    diag = RNNDiagnostics((x, y), every_n_batches=1)
    history = m.fit(x, y, batch_size=3, epochs=2, verbose=0, callbacks=[diag])
    assert KEYS <= set(history.history)
    assert all(math.isfinite(v) for k in KEYS for v in history.history[k])
    assert all(math.isfinite(r[k]) for r in diag.records for k in KEYS)
    grads, mask = perturbation_grads(m, x, y)  # the trained weights
    assert history.history["rnn_log10_grad_ratio"][-1] == pytest.approx(
        first_to_last_ratio(grads, mask), abs=1e-5
    )
