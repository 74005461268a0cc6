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
from keras_rnninit.compare.report import write_report
from tests.compare.own.helpers import XV, YV, D, N, T, X, Y, classifier, stream_rows


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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
