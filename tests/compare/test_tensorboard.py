"""compare(..., tensorboard_dir=DIR) and `compare --tensorboard DIR`: one
TensorBoard run per (scheme, seed), read back with TensorBoard's own event
reader and the HParams plugin's parser, against the records compare returned
(made by training, not by the writer)."""

import json
import re
import sys

import keras
import numpy as np
import pytest

from keras_rnninit.compare import compare
from tests.helpers import run_main

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator"
)
from tensorboard.plugins.hparams import metadata  # noqa: E402
from tensorboard.util.tensor_util import make_ndarray  # noqa: E402

SCHEMES = ["xavier_rnn", "keras_default"]
TASK = dict(task="adding", length=8, units=4, steps=20, eval_every=10, test_size=32)
BOOKKEEPING = {"layer", "step", "epoch", "fit"}


def read(path):
    """({tag: [(step, float32 value)]}, {hparam: value} or None, experiment)
    of the event files directly in `path`."""
    events = event_accumulator.EventAccumulator(
        str(path), size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    scalars, hparams, experiment = {}, None, None
    for tag in events.Tags()["tensors"]:
        content = events.SummaryMetadata(tag).plugin_data.content
        if tag == metadata.SESSION_START_INFO_TAG:
            info = metadata.parse_session_start_info_plugin_data(content)
            hparams = {
                k: getattr(v, v.WhichOneof("kind")) for k, v in info.hparams.items()
            }
        elif tag == metadata.EXPERIMENT_TAG:
            experiment = metadata.parse_experiment_plugin_data(content)
        else:
            scalars[tag] = [
                (e.step, make_ndarray(e.tensor_proto).item())
                for e in events.Tensors(tag)
            ]
    return scalars, hparams, experiment


def expected(record):
    """The scalars a record's run should hold, from the record itself."""
    out = {}
    curve = record["curve"]
    for name in ("train", "test"):
        out[f"curve/{name}"] = list(zip(curve["step"], curve[name], strict=True))
    layers = record.get("layer_diagnostics") or {"rnn": record["diagnostics"]}
    for layer, entries in layers.items():
        for entry in entries:
            for key, value in entry.items():
                if key not in BOOKKEEPING and isinstance(value, float):
                    out.setdefault(f"diagnostics/{layer}/{key}", []).append(
                        (entry["step"], value)
                    )
    last = record["steps_run"]
    for key in ("steps_to_threshold", "best_test", "final_test"):
        if record[key] is not None:
            out[f"metrics/{key}"] = [(last, record[key])]
    return {
        tag: [(step, np.float32(value).item()) for step, value in pairs]
        for tag, pairs in out.items()
    }


def check_run(board, record, cell="simple"):
    run = board / record["scheme"] / f"seed{record['seed']}"
    assert len(list(run.iterdir())) == 1  # one event file: written once
    scalars, hparams, _ = read(run)
    assert scalars == expected(record)
    wanted = {"scheme": record["scheme"], "seed": record["seed"]}
    assert hparams == (wanted if cell is None else {**wanted, "cell": cell})
    return scalars


@pytest.mark.slow
def test_task_compare_writes_each_run_then_a_resumed_one_once(tmp_path):
    board = tmp_path / "tb"
    records = compare(
        SCHEMES, seeds=[0], threshold=2.0, progress=None, tensorboard_dir=board, **TASK
    )
    # xavier_rnn reaches test MSE 2.0, keras_default does not: its steps to
    # target are left out of the table.
    assert [r["steps_to_threshold"] is None for r in records] == [False, True]
    fused = {r["scheme"]: check_run(board, r) for r in records}
    scalars = fused["xavier_rnn"]
    diagnoses = records[0]["diagnostics"]
    assert (
        [s for s, _ in scalars["diagnostics/rnn/rnn_spectral_radius"]]
        == [d["step"] for d in diagnoses]
        == [0, 20]
    )
    assert scalars["curve/test"][-1] == (20, np.float32(records[0]["final_test"]))
    assert "metrics/steps_to_threshold" not in fused["keras_default"]

    _, _, experiment = read(board)
    infos = {h.name: h for h in experiment.hparam_infos}
    assert sorted(infos) == ["cell", "scheme", "seed"]
    domain = infos["scheme"].domain_discrete.values
    assert [v.string_value for v in domain] == sorted(SCHEMES)
    assert [v.number_value for v in infos["seed"].domain_discrete.values] == [0]
    assert [m.name.tag for m in experiment.metric_infos] == [
        "metrics/steps_to_threshold",
        "metrics/best_test",
        "metrics/final_test",
    ]

    # Resumed: xavier_rnn finished before; keras_default trains again, now
    # unfused. Both runs are written once, the experiment file replaced.
    again = compare(
        SCHEMES,
        seeds=[0],
        threshold=2.0,
        progress=None,
        completed={("xavier_rnn", 0): records[0]},
        fused=False,
        tensorboard_dir=str(board),
        **TASK,
    )
    assert again[0] is records[0]
    unfused = {r["scheme"]: check_run(board, r) for r in again}
    assert len([p for p in board.iterdir() if p.is_file()]) == 1
    assert read(board)[2] == experiment
    # Fused or not, the same layer has the same tags.
    assert set(unfused["keras_default"]) == set(fused["keras_default"])


@pytest.mark.slow
def test_own_model_compare_writes_every_recurrent_layer(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(48, 5, 3)).astype("float32")
    y = (x[:, :, 0].sum(1) > 0).astype("int32")

    def build():
        inputs = keras.Input((5, 3))
        h = keras.layers.SimpleRNN(6, return_sequences=True, name="first")(inputs)
        h = keras.layers.SimpleRNN(6, name="second")(h)
        model = keras.Model(inputs, keras.layers.Dense(2, "softmax")(h))
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    board = tmp_path / "tb"
    records = compare(
        ["xavier_rnn"],
        seeds=[1],
        model=build,
        data=(x[:32], y[:32]),
        validation_data=(x[32:], y[32:]),
        steps=6,
        eval_every=3,
        batch_size=16,
        progress=None,
        tensorboard_dir=board,
    )
    for record in records:
        assert sorted(record["layer_diagnostics"]) == ["first", "second"]
        scalars = check_run(board, record, cell=None)  # no cell hparam
        assert "diagnostics/second/second_log10_grad_ratio" in scalars
        assert "metrics/steps_to_threshold" not in scalars  # no target
    _, _, experiment = read(board)
    assert sorted(h.name for h in experiment.hparam_infos) == ["scheme", "seed"]


@pytest.mark.slow
def test_command_line_writes_the_runs_of_its_report(capsys, tmp_path):
    out, board = tmp_path / "out", tmp_path / "tb"
    code, _, err = run_main(
        capsys,
        "compare",
        "--task", "adding",
        "--length", "8",
        "--units", "4",
        "--steps", "5",
        "--eval-every", "5",
        "--schemes", "xavier_rnn",
        "--seeds", "0",
        "--out", str(out),
        "--tensorboard", str(board),
    )  # fmt: skip
    assert code == 0, err
    (record,) = json.loads((out / "report.json").read_text())["records"]
    check_run(board, record)


@pytest.mark.parametrize(
    "value, error, message",
    [
        (3, TypeError, "`tensorboard_dir` must be a str or os.PathLike. "
         "Received: tensorboard_dir=3 of type int"),
        (b"tb", TypeError, "`tensorboard_dir` must be a str or os.PathLike. "
         "Received: tensorboard_dir=b'tb' of type bytes"),
        ("", ValueError, "`tensorboard_dir` must be a folder path"),
        ("FILE", ValueError, "`tensorboard_dir` must be a folder, not a file"),
    ],
)  # fmt: skip
def test_bad_tensorboard_dir_is_refused_in_one_line(tmp_path, value, error, message):
    if value == "FILE":
        value = tmp_path / "file"
        value.write_text("")
    with pytest.raises(error, match="^" + re.escape(message)) as caught:
        compare(["xavier_rnn"], progress=None, tensorboard_dir=value, **TASK)
    assert "\n" not in str(caught.value)


def test_missing_tensorboard_is_one_line_naming_the_extra(
    capsys, monkeypatch, tmp_path
):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import` fails
    with pytest.raises(ImportError, match=r"keras_rnninit\[tensorboard\]"):
        compare(["xavier_rnn"], progress=None, tensorboard_dir=tmp_path / "tb", **TASK)
    code, _, err = run_main(
        capsys,
        "compare",
        "--out", str(tmp_path / "out"),
        "--tensorboard", str(tmp_path / "tb"),
    )  # fmt: skip
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "`--tensorboard` needs the tensorboard package" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing made


@pytest.mark.parametrize("own", [False, True])
def test_command_line_refuses_a_file_before_making_a_folder(capsys, tmp_path, own):
    (tmp_path / "file").write_text("")
    extra = []
    if own:
        np.savez(tmp_path / "d.npz", x=np.zeros((4, 3, 1)), y=np.zeros(4))
        extra = [
            "--model",
            str(tmp_path / "m.keras"),
            "--data",
            str(tmp_path / "d.npz"),
        ]
    code, _, err = run_main(
        capsys,
        "compare",
        "--out", str(tmp_path / "out"),
        "--tensorboard", str(tmp_path / "file"),
        *extra,
    )  # fmt: skip
    assert code == 2
    assert err.strip().splitlines() == [
        f"keras-rnninit: error: `--tensorboard` must be a folder, not a file. "
        f"Received: --tensorboard={str(tmp_path / 'file')!r}"
    ]
    assert not (tmp_path / "out").exists()
