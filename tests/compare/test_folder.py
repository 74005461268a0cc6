"""A comparison's folder under kills and stray files: the killed jobs are
real CLI subprocesses (seconds-long runs); the resume that finishes runs the
command line in this process."""

import json
import os
import time

import keras
import numpy as np
import pytest

import keras_rnninit  # noqa: F401  (registers the layers the saved models use)
from tests.compare.helpers import (
    RUNS,
    SCHEMES,
    SEEDS,
    STEPS,
    kill,
    names,
    start,
    started,
    wait_for,
    without_time,
)
from tests.helpers import run_main, tiny_compare_argv

# One worker under pytest-xdist, so the module's uninterrupted reference run
# (`reference`) is computed once, not once per worker.
pytestmark = pytest.mark.xdist_group("compare_folder")


@pytest.mark.slow
def test_sigkill_at_several_points_then_resume_equals_uninterrupted(
    reference, tmp_path, capsys
):
    out = tmp_path / "cmp"
    partial = tmp_path / "cmp.partial"
    runs, models = partial / "runs", partial / "models"

    # 1. Killed as soon as the first model file appears: during a model save.
    process = start(out)
    wait_for(lambda: names(models), process, "a model save")
    kill(process)
    assert (tmp_path / "cmp.lock").exists()  # left behind, but no longer locked

    # 2. Killed inside a record save: its temporary file is a FIFO, so the
    # save blocks in open() until the kill.
    process = start(out, "--resume")
    wait_for(lambda: started(process), process, "the resume")  # files cleaned
    os.mkfifo(runs / "xavier_rnn-seed0.json.tmp")
    seed0 = [models / "xavier_rnn-seed0.keras", models / "uniform01-seed0.keras"]
    wait_for(lambda: all(p.exists() for p in seed0), process, "seed 0's models")
    time.sleep(0.5)
    assert names(runs) == ["xavier_rnn-seed0.json.tmp"]
    kill(process)

    # 3. Killed between runs: once the first record is complete.
    process = start(out, "--resume")
    first = runs / "xavier_rnn-seed0.json"
    wait_for(first.exists, process, "the first record")
    kill(process)

    # Stray files: what kills, crashes and Finder leave behind.
    (runs / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (runs / "uniform01-seed1.json").write_text("")
    (runs / "xavier_rnn-seed1.json").write_text(first.read_text()[:100])
    (runs / "uniform01-seed1.json.tmp").write_text(first.read_text()[:50])
    (models / "uniform01-seed1.tmp.keras").write_bytes(b"PK\x03\x04")

    # 4. The resume that finishes: the command line in this process.
    argv = tiny_compare_argv(out, SCHEMES, SEEDS, STEPS, "--resume")
    code, _, err = run_main(capsys, *argv[2:])
    assert code == 0, err[-3000:]
    for name in (".DS_Store", "uniform01-seed1.json", "xavier_rnn-seed1.json"):
        assert f"moved runs/{name} to corrupt/" in err
        assert (out / "corrupt" / name).exists()
    assert "deleted runs/uniform01-seed1.json.tmp" in err
    assert "deleted models/uniform01-seed1.tmp.keras" in err
    assert not partial.exists() and not (tmp_path / "cmp.lock").exists()
    assert names(out / "runs") == [f"{run}.json" for run in sorted(RUNS)]
    assert names(out / "models") == [f"{run}.keras" for run in sorted(RUNS)]

    ours = json.loads((out / "report.json").read_text())
    theirs = json.loads((reference / "report.json").read_text())
    assert [without_time(r) for r in ours["records"]] == [
        without_time(r) for r in theirs["records"]
    ]
    for run in RUNS:
        record = json.loads((out / "runs" / f"{run}.json").read_text())
        expected = json.loads((reference / "runs" / f"{run}.json").read_text())
        assert without_time(record) == without_time(expected)
        ours_model = keras.saving.load_model(out / record["model_path"])
        reference_model = keras.saving.load_model(reference / expected["model_path"])
        for a, b in zip(
            ours_model.get_weights(), reference_model.get_weights(), strict=True
        ):
            np.testing.assert_array_equal(a, b)


def test_resume_with_other_settings_names_each_difference(tmp_path):
    from keras_rnninit.compare.runner import CompareConfig
    from keras_rnninit.compare.store import RunStore

    out = tmp_path / "report"
    with RunStore(out, CompareConfig(steps=200)) as store:
        store.save({"scheme": "xavier_rnn", "seed": 0, "config": store.config})
    changed = CompareConfig(steps=400, clipnorm=1.0)
    with pytest.raises(ValueError) as error:
        RunStore(out, changed, resume=True)
    message = str(error.value)
    assert message.startswith("`resume=True` must use the settings of the interrupted")
    assert error.value.cli_message().startswith("`--resume` must use the settings")
    assert message.endswith(
        "Received: clipnorm=1.0 (its runs used None), steps=400 (its runs used 200)"
    )
    # A record whose config is not a mapping is moved aside, not compared.
    bad = tmp_path / "report.partial" / "runs" / "he-seed1.json"
    bad.write_text(json.dumps({"scheme": "he", "seed": 1, "config": None}))
    # The refusal released the folder's lock: the same settings resume.
    with RunStore(out, CompareConfig(steps=200), resume=True) as store:
        assert set(store.completed) == {("xavier_rnn", 0)}
        assert store.notes == [
            "moved runs/he-seed1.json to corrupt/ (not a run record); "
            "its run is trained again"
        ]


@pytest.mark.slow
def test_compare_to_folder_is_the_body_of_the_command_and_the_demo(tmp_path):
    import contextlib

    from keras_rnninit.compare import (
        Claim,
        CompareConfig,
        FolderComparison,
        compare_to_folder,
    )
    from tests.helpers import TINY

    config = CompareConfig(**TINY)
    opened, failures = [], []

    @contextlib.contextmanager
    def broken():
        raise RuntimeError("the cluster went away")
        yield  # pragma: no cover

    out = tmp_path / "cmp"
    with pytest.raises(RuntimeError, match="cluster"):
        compare_to_folder(
            out,
            ["xavier_rnn"],
            [0],
            config,
            session=broken(),
            on_failure=lambda kept, partial: failures.append((kept, partial)),
        )
    partial = str(tmp_path / "cmp.partial")
    assert failures == [(0, partial)] and os.path.isdir(partial) and not out.exists()

    done = compare_to_folder(
        out,
        ["xavier_rnn", "uniform01"],
        [0],
        config,
        resume=True,
        command="python -c ...",
        claim=Claim("xavier_rnn", ["uniform01"]),
        on_open=lambda store: opened.append(store.path),
        progress=None,
    )
    assert isinstance(done, FolderComparison) and done.out == str(out)
    assert opened == [partial] and not os.path.exists(partial)
    assert [(r["scheme"], r["seed"]) for r in done.records] == [
        ("xavier_rnn", 0),
        ("uniform01", 0),
    ]
    report = json.loads((out / "report.json").read_text())
    assert report["command"] == "python -c ..." == done.report["command"]
    assert report["claim"]["scheme"] == "xavier_rnn"
    assert sorted(os.listdir(out / "models")) == [
        "uniform01-seed0.keras",
        "xavier_rnn-seed0.keras",
    ]
