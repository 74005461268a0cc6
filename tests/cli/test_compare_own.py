"""`keras-rnninit compare --model M.keras --data D.npz`: the command line of
a comparison on your own model, against the saved files and the data."""

import json
import re

import keras
import numpy as np
import pytest

from tests.helpers import run_main

RNG = np.random.default_rng(4)
X = RNG.normal(size=(120, 6, 3)).astype("float32")
Y = (X[:, :, 0].sum(1) > 0).astype("int32")


@pytest.fixture()
def files(tmp_path):
    inputs = keras.Input((6, 3))
    h = keras.layers.SimpleRNN(8, name="rnn")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, "softmax", name="head")(h))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "m.keras")
    np.savez(tmp_path / "d.npz", x=X, y=Y)
    return tmp_path


@pytest.mark.slow
def test_compare_own_model_from_the_command_line(capsys, files):
    out = files / "out"
    code, stdout, err = run_main(
        capsys,
        "compare",
        "--model", str(files / "m.keras"),
        "--data", str(files / "d.npz"),
        "--validation-split", "0.25",
        "--schemes", "xavier_rnn,keras_default",
        "--seeds", "0",
        "--epochs", "2",
        "--batch-size", "18",
        "--eval-every", "4",
        "--monitor", "val_accuracy",
        "--target", "0.99",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "| `xavier_rnn` |" in stdout
    report = json.loads((out / "report.json").read_text())
    records = report["records"]
    # 90 training rows in batches of 18: 5 steps an epoch, so 10 steps,
    # evaluated at 4, 8 and the last step.
    assert [r["curve"]["step"] for r in records] == [[4, 8, 10]] * 2
    assert records[0]["config"]["train_size"] == 90
    assert sorted(p.name for p in (out / "models").iterdir()) == [
        "keras_default-seed0.keras",
        "xavier_rnn-seed0.keras",
    ]
    # Validated on the last quarter of the rows, as Keras' validation_split.
    for record in records:
        model = keras.saving.load_model(
            out / "models" / f"{record['scheme']}-seed0.keras"
        )
        accuracy = model.evaluate(X[90:], Y[90:], return_dict=True, verbose=0)
        assert accuracy["accuracy"] == pytest.approx(record["final_test"], abs=1e-6)
    assert "--model" in report["command"]


def write_bad(files, name):
    """A file for each refusal; returns its --model, --data arguments."""
    model, data = str(files / "m.keras"), str(files / "d.npz")
    if name == "missing_key":
        np.savez(files / "bad.npz", x=X, z=Y)
        data = str(files / "bad.npz")
    elif name == "lengths":
        np.savez(files / "bad.npz", x=X, y=Y[:-1])
        data = str(files / "bad.npz")
    elif name == "nan":
        np.savez(files / "bad.npz", x=np.where(X > 2, np.nan, X), y=Y)
        data = str(files / "bad.npz")
    elif name == "uncompiled":
        keras.Sequential([keras.Input((6, 3)), keras.layers.SimpleRNN(2)]).save(
            files / "bad.keras"
        )
        model = str(files / "bad.keras")
    elif name == "no_rnn":
        dense = keras.Sequential([keras.Input((6, 3)), keras.layers.Dense(2)])
        dense.compile("adam", "mse")
        dense.save(files / "bad.keras")
        model = str(files / "bad.keras")
    return model, data


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, extra, message",
    [
        ("missing_key", [], r"`--data` must hold the arrays x, y; y missing"),
        ("lengths", [], r"one length along axis 0 in x and y"),
        ("nan", [], r"must be finite"),
        ("uncompiled", [], r"`model` must be compiled"),
        ("no_rnn", [], r"recurrent layer"),
        ("ok", ["--monitor", "val_auc"], r"`monitor` must be a value the model logs"),
        ("ok", ["--lr", "0.1"], r"`--lr` is for the built-in tasks"),
        ("ok", ["--epochs", "2", "--steps", "5"], r"exclude each other"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    capsys, files, name, extra, message
):
    model, data = write_bad(files, name)
    code, _, err = run_main(
        capsys,
        "compare",
        "--model", model,
        "--data", data,
        "--validation-split", "0.25",
        "--out", str(files / "out"),
        *extra,
    )  # fmt: skip
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), err
    assert not (files / "out").exists() and not (files / "out.partial").exists()
