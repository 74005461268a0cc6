"""compare(model=..., data=...): schemes compared on your own model and arrays.

References are independent of the runner: batches from the documented
stream of seeded permutations, a model re-initialized by
`schemes.reinitialize` and trained step by step with `train_on_batch`, the
monitored value recomputed with `evaluate`, the saved file reloaded.
"""

import keras
import numpy as np
import pytest

from keras_rnninit import schemes
from keras_rnninit.compare import compare
from keras_rnninit.compare.own import monitor_mode, paired_batches
from keras_rnninit.compare.own.data import read_batches
from keras_rnninit.compare.report import write_report

RNG = np.random.default_rng(3)
N, T, D = 80, 6, 3
X = RNG.normal(size=(N, T, D)).astype("float32")
Y = (X[:, :, 0].sum(1) > 0).astype("int32")
XV = RNG.normal(size=(40, T, D)).astype("float32")
YV = (XV[:, :, 0].sum(1) > 0).astype("int32")


def classifier(rnn="SimpleRNN"):
    inputs = keras.Input((T, D), name="sequence")
    h = getattr(keras.layers, rnn)(8, name="rnn")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, "softmax", name="head")(h))
    model.compile(
        keras.optimizers.Adam(0.02),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def stream_rows(n, seed, count):
    """Row order of the doc's stream: pass k is permutation (seed, k)."""
    passes = -(-count // n)
    order = [np.random.default_rng([seed, k]).permutation(n) for k in range(passes)]
    return np.concatenate(order)[:count]


def test_paired_batches_follow_the_seeded_stream():
    data = (np.arange(10)[:, None] * 10, np.arange(10))
    batches = paired_batches(data, 4, seed=7)
    got = [next(batches) for _ in range(5)]  # 20 rows: two passes, one split
    expected = stream_rows(10, 7, 20)
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), expected)
    np.testing.assert_array_equal(
        np.concatenate([x for x, _ in got])[:, 0], expected * 10
    )
    later = paired_batches(data, 4, seed=7, start=3)  # resumes mid-stream
    np.testing.assert_array_equal(next(later)[1], expected[12:16])
    other = next(paired_batches(data, 4, seed=8))[1]
    assert not np.array_equal(other, expected[:4])
    # Several inputs keep their rows aligned.
    x, y = next(paired_batches(({"a": data[0], "b": -data[0]}, data[1]), 3, seed=7))
    np.testing.assert_array_equal(x["a"][:, 0], -x["b"][:, 0])
    np.testing.assert_array_equal(x["a"][:, 0], y * 10)


def reference_curve(scheme, seed, steps, eval_every, batch_size, weights=None):
    """The runner's curve recomputed: the same re-initialized model trained
    batch by batch on the documented stream (with `weights` as each row's
    sample weight), evaluated on the validation data every `eval_every`
    steps and after the last."""
    model = schemes.reinitialize(classifier(), scheme, seed).model
    rows = stream_rows(N, seed, steps * batch_size).reshape(steps, batch_size)
    curve = []
    for step, index in enumerate(rows, start=1):
        weight = None if weights is None else weights[index]
        model.train_on_batch(X[index], Y[index], sample_weight=weight)
        if step % eval_every == 0 or step == steps:
            values = model.evaluate(XV, YV, return_dict=True, verbose=0)
            curve.append((step, values["accuracy"]))
    return curve


def test_runs_are_paired_seeded_and_evaluated_at_the_last_step(tmp_path):
    base = classifier()
    records = compare(
        ["xavier_rnn", "keras_default"],
        seeds=[0, 1],
        model=base,
        data=(X, Y),
        validation_data=(XV, YV),
        steps=25,
        eval_every=10,
        batch_size=16,
        monitor="val_accuracy",
        target=0.7,
        progress=False,
        save_dir=str(tmp_path),
    )
    assert [(r["scheme"], r["seed"]) for r in records] == [
        ("xavier_rnn", 0),
        ("xavier_rnn", 1),
        ("keras_default", 0),
        ("keras_default", 1),
    ]
    for record in records:
        expected = reference_curve(record["scheme"], record["seed"], 25, 10, 16)
        assert record["curve"]["step"] == [10, 20, 25]
        np.testing.assert_allclose(
            record["curve"]["test"], [v for _, v in expected], atol=1e-6
        )
        assert record["mode"] == "max"
        crossed = [s for s, v in expected if v > 0.7]
        assert record["steps_to_threshold"] == (crossed[0] if crossed else None)
        assert record["best_test"] == max(v for _, v in expected)
        # The trained run reloads with the user's architecture and numbers.
        loaded = keras.saving.load_model(record["model_path"])
        assert [(type(x), x.name) for x in loaded.layers] == [
            (type(x), x.name) for x in base.layers
        ]
        final = loaded.evaluate(XV, YV, return_dict=True, verbose=0)["accuracy"]
        assert final == pytest.approx(record["final_test"], abs=1e-6)
        diagnosed = record["layer_diagnostics"]["rnn"]
        assert [d["step"] for d in diagnosed] == [0, 25]
        assert record["undiagnosed"] == {}
    # The user's model is left as it was.
    assert not base.optimizer.iterations.numpy()
    report = write_report(records, str(tmp_path))
    text = (tmp_path / "report.md").read_text()
    assert "functional on your data" in text or f"{base.name} on your data" in text
    assert len(report["records"]) == 4


@pytest.mark.parametrize(
    "monitor, mode", [("val_loss", "min"), ("val_accuracy", "max"), ("loss", "min")]
)
def test_direction_is_inferred_as_early_stopping_does(monitor, mode):
    model = classifier()
    model.evaluate(XV, YV, verbose=0)  # builds the compiled metrics
    assert monitor_mode(model, monitor) == mode
    stopping = keras.callbacks.EarlyStopping(monitor=monitor)
    stopping.set_model(model)
    stopping._set_monitor_op()  # Keras' own inference, as the reference
    assert (stopping.monitor_op == keras.ops.greater) == (mode == "max")


def test_monitor_with_no_direction_needs_mode():
    model = classifier()
    model.compile(
        "adam", "sparse_categorical_crossentropy", metrics=[lambda t, p: p[:, 0]]
    )
    model.evaluate(XV, YV, verbose=0)
    name = next(k for k in model.get_metrics_result() if k != "loss")
    with pytest.raises(ValueError, match=r"^`mode` must be 'max' or 'min' for monit"):
        monitor_mode(model, f"val_{name}")
    assert monitor_mode(model, f"val_{name}", mode="max") == "max"


def test_without_a_target_nothing_is_solved_and_a_shared_layer_is_named(tmp_path):
    # A shared recurrent layer (called twice) is not taken apart by the
    # diagnostics: it is named with the reason, and the run trains.
    inputs = keras.Input((T, D))
    shared = keras.layers.SimpleRNN(8, name="rnn")
    h = keras.layers.Concatenate()([shared(inputs), shared(inputs[:, ::-1])])
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(h))
    model.compile("adam", "mse")
    [record] = compare(
        ["xavier_rnn"],
        seeds=[2],
        model=model,
        data=(X, Y.astype("float32")),
        validation_data=(XV, YV.astype("float32")),
        steps=4,
        eval_every=3,
        batch_size=8,
        progress=False,
    )
    assert record["curve"]["step"] == [3, 4]
    assert record["steps_to_threshold"] is None and record["threshold"] is None
    assert record["best_test"] == min(record["curve"]["test"])
    assert "called 2 times" in record["undiagnosed"]["rnn"]
    write_report([record], str(tmp_path))
    assert not (tmp_path / "survival.png").exists()


def compare_own(**kwargs):
    arguments = dict(
        model=classifier(),
        data=(X, Y),
        validation_data=(XV, YV),
        steps=2,
        eval_every=1,
        progress=False,
    )
    arguments.update(kwargs)
    return compare(["xavier_rnn"], seeds=[0], **arguments)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"data": (X, Y[:-1])}, ValueError, r"one length along axis 0 in x and y\. "),
        ({"data": (np.where(X > 2, np.nan, X), Y)}, ValueError, r"must be finite"),
        (
            {"data": X},
            TypeError,
            r"^`data` must be an \(x, y\) or \(x, y, sample_weight\) tuple",
        ),
        ({"validation_data": (XV, YV[:3])}, ValueError, r"^`validation_data` must"),
        ({"monitor": "val_auc"}, ValueError, r"^`monitor` must be a value the model"),
        ({"validation_data": None}, ValueError, r"^`validation_data` must be given"),
        ({"units": 8}, TypeError, r"^`units` is not a setting of a comparison on"),
        ({"batch_size": 81}, ValueError, r"^`batch_size` must be <= the 80 rows"),
        ({"target": float("nan")}, ValueError, r"^`target` must be a finite number"),
        ({"distribute": "mirrored"}, ValueError, r"^`distribute` must be None"),
        ({"model": "missing.keras"}, ValueError, r"an existing \.keras file"),
    ],
)
def test_bad_input_is_one_line(kwargs, error, message):
    with pytest.raises(error, match=message) as caught:
        compare_own(**kwargs)
    assert "\n" not in str(caught.value)


def test_model_refusals():
    uncompiled = keras.Sequential([keras.Input((T, D)), keras.layers.SimpleRNN(2)])
    with pytest.raises(ValueError, match=r"^`model` must be compiled"):
        compare_own(model=uncompiled)
    dense = keras.Sequential([keras.Input((T, D)), keras.layers.Dense(2)])
    dense.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"recurrent layer"):
        compare_own(model=dense)
    with pytest.raises(TypeError, match=r"^`model` must be a compiled keras\.Model"):
        compare_own(model=lambda: 3)


class Batches(keras.utils.PyDataset):
    """A PyDataset of the given batches (`length=False`: no length)."""

    def __init__(self, batches, length=True):
        super().__init__()
        self.batches, self.length = batches, length

    def __len__(self):
        return len(self.batches)

    @property
    def num_batches(self):
        return len(self.batches) if self.length else None

    def __getitem__(self, index):
        return self.batches[index]


def sorted_rows(x, y):
    """The rows of (x, y) as one sorted array: equal for the same rows in
    any order."""
    table = np.concatenate([x.reshape(len(x), -1), y[:, None]], axis=1)
    return table[np.lexsort(table.T[::-1])]


def test_a_dataset_is_read_once_whatever_its_order():
    import tensorflow as tf

    rows = tf.data.Dataset.from_tensor_slices((X, Y))
    (x1, y1), size1 = read_batches(rows.shuffle(N, seed=1).batch(16))
    (x2, y2), size2 = read_batches(rows.shuffle(N).batch(16))  # unseeded
    backwards = [(X[::-1][i : i + 10], Y[::-1][i : i + 10]) for i in range(0, N, 10)]
    (x3, y3), size3 = read_batches(Batches(backwards))
    assert (size1, size2, size3) == (16, 16, 10)
    # The same rows as the arrays, in one order whatever the pipeline's.
    np.testing.assert_array_equal(sorted_rows(x1, y1), sorted_rows(X, Y))
    for x, y in ((x2, y2), (x3, y3)):
        np.testing.assert_array_equal(x, x1)
        np.testing.assert_array_equal(y, y1)
    assert read_batches((X, Y)) == ((X, Y), None)  # arrays pass through


def test_compare_on_a_shuffled_dataset_is_compare_on_its_rows():
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((X, Y)).shuffle(N).batch(16)
    validation = tf.data.Dataset.from_tensor_slices((XV, YV)).batch(7)
    settings = dict(seeds=[0], steps=6, eval_every=3, progress=False)
    got = compare(
        ["xavier_rnn", "keras_default"],
        model=classifier(),
        data=data,
        validation_data=validation,
        **settings,
    )
    rows, _ = read_batches(data)  # another shuffle: the same rows, one order
    expected = compare(
        ["xavier_rnn", "keras_default"],
        model=classifier(),
        data=rows,
        validation_data=(XV, YV),
        batch_size=16,
        **settings,
    )
    for mine, theirs in zip(got, expected, strict=True):
        assert mine["config"]["batch_size"] == 16  # the dataset's batches
        assert mine["config"]["data"] != theirs["config"]["data"]  # XV reordered
        np.testing.assert_allclose(
            mine["curve"]["test"], theirs["curve"]["test"], rtol=1e-5
        )
        np.testing.assert_allclose(
            mine["curve"]["train"], theirs["curve"]["train"], rtol=1e-5
        )


def test_sample_weights_weigh_the_training_loss():
    weights = np.where(np.arange(N) % 2 == 0, 1.0, 0.0).astype("float32")
    (record,) = compare(
        ["xavier_rnn"],
        seeds=[1],
        model=classifier(),
        data=(X, Y, weights),
        validation_data=(XV, YV),
        steps=8,
        eval_every=4,
        batch_size=16,
        monitor="val_accuracy",
        progress=False,
    )
    expected = reference_curve("xavier_rnn", 1, 8, 4, 16, weights=weights)
    unweighted = reference_curve("xavier_rnn", 1, 8, 4, 16)
    np.testing.assert_allclose(record["curve"]["test"], [v for _, v in expected])
    assert [v for _, v in expected] != [v for _, v in unweighted]


def test_datasets_that_cannot_be_paired_are_refused_in_one_line():
    import tensorflow as tf

    rows = tf.data.Dataset.from_tensor_slices((X, Y))
    ragged = Batches([(X[:8], Y[:8]), (X[8:16, :4], Y[8:16])])
    for data, error, message in (
        (rows.repeat().batch(8), ValueError, r"^`data` must be a finite tf\.data"),
        (tf.data.Dataset.from_tensor_slices(X).batch(8), TypeError, r"\(x, y\) or"),
        (ragged, ValueError, r"share their shape after the batch axis"),
        (Batches([(X, Y)], length=False), ValueError, r"PyDataset with a length"),
        (rows.take(0).batch(8), ValueError, r"at least one batch"),
    ):
        with pytest.raises(error, match=message) as caught:
            compare_own(data=data)
        assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match=r"^`validation_data` must be a finite"):
        compare_own(validation_data=rows.repeat().batch(8))
