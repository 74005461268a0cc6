"""What a new user gets for bad input: one line, the right exit code, no files.

Each row: what the user tries, the CLI arguments, the exit code (2 = usage
error, 1 = failure) and a fragment of the one-line message. The "Bad input"
table of docs/reliability.md summarises these rows.
"""

import os
import signal
import subprocess
import sys
import time

import keras
import pytest

from keras_rnninit import schemes
from keras_rnninit.cli import main
from tests.helpers import REPO, python_env, tiny_compare_argv


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    good = root / "good.keras"
    schemes.get("xavier_rnn").build_model(input_dim=2, units=4, seed=0).save(good)
    (root / "empty.keras").write_bytes(b"")
    data = good.read_bytes()
    (root / "truncated.keras").write_bytes(data[: len(data) // 2])
    (root / "notes.keras").write_text("these are my notes, not a model\n")
    dense = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    dense.save(root / "dense.keras")
    (root / "taken.tflite").write_bytes(b"user data")
    (root / "rowless.json").write_text(
        '{"cells": [{"task": "adding", "length": 50, "steps": 100, '
        '"clipnorm": 1.0, "seeds": [0], "rows": []}]}'
    )
    (root / "short.json").write_text(
        '{"cells": [{"task": "adding", "length": 50, "steps": 100, '
        '"clipnorm": 1.0, "seeds": [0], "rows": [{"scheme": "xavier_rnn", '
        '"solved": 1, "runs": 1, "interval": [0.21, 1.0], "median_steps": 50}]}]}'
    )
    return root


ROWS = [
    # what the user tries, argv (with {root} and {tmp}), exit code, message
    (
        "unknown scheme",
        ["compare", "--schemes", "xavier", "--out", "{tmp}/o"],
        2,
        "`name` must be one of critical_tanh, he, irnn, irnn_xavier, keras_default, "
        "np_rnn, orthogonal, orthogonal_linear, pytorch_default, spectral_095, "
        "uniform01, uniform_diag, "
        "uniform_diag_half, xavier_rnn. "
        "Received: name='xavier'",
    ),
    (
        "unknown task",
        ["compare", "--task", "parity", "--out", "{tmp}/o"],
        2,
        "argument --task: invalid choice: 'parity' (choose from",
    ),
    (
        "non-numeric steps",
        ["compare", "--steps", "many", "--out", "{tmp}/o"],
        2,
        "argument --steps: must be a positive int. Received: 'many'",
    ),
    (
        "zero units",
        ["diagnose", "--units", "0"],
        2,
        "argument --units: must be a positive int. Received: '0'",
    ),
    (
        "scheme without the cell",
        ["diagnose", "--schemes", "xavier_rnn,chrono", "--out", "{tmp}/o"],
        2,
        "`cell` must be one of gru, lstm for scheme 'chrono'. Received: cell='simple'",
    ),
    (
        "negative learning rate",
        ["compare", "--lr", "-0.1", "--out", "{tmp}/o"],
        2,
        "argument --lr: must be a positive number. Received: '-0.1'",
    ),
    (
        "stacked engine on TensorFlow",
        ["compare", "--engine", "stacked", "--backend", "tensorflow"]
        + ["--out", "{tmp}/o"],
        2,
        "`engine='stacked'` needs the jax backend. Received: backend='tensorflow'",
    ),
    (
        "sequence too short",
        ["compare", "--length", "1", "--out", "{tmp}/o"],
        2,
        "`length` must be >= 2 for the adding task. Received: length=1",
    ),
    (
        "missing model file",
        ["export", "{root}/none.keras", "-o", "{tmp}/m.tflite"],
        2,
        "`model` must be an existing .keras file",
    ),
    (
        "empty model file",
        ["export", "{root}/empty.keras", "-o", "{tmp}/m.tflite"],
        1,
        "could not be loaded as a Keras model",
    ),
    (
        "truncated model file",
        ["export", "{root}/truncated.keras", "-o", "{tmp}/m.tflite"],
        1,
        "could not be loaded as a Keras model",
    ),
    (
        "not a Keras file",
        ["export", "{root}/notes.keras", "-o", "{tmp}/m.tflite"],
        1,
        "could not be loaded as a Keras model",
    ),
    (
        "model without a recurrent layer",
        ["export", "{root}/dense.keras", "-o", "{tmp}/m.tflite"],
        2,
        "`model` must contain a recurrent layer",
    ),
    (
        "int8 without representative data",
        ["export", "{root}/good.keras", "-o", "{tmp}/m.tflite", "--quantize", "int8"],
        2,
        "`representative_data` must be given with quantize='int8'",
    ),
    (
        "output in a missing folder",
        ["export", "{root}/good.keras", "-o", "{tmp}/missing/m.tflite"],
        2,
        "`path` must be in an existing folder",
    ),
    (
        "output in a read-only folder",
        ["export", "{root}/good.keras", "-o", "{locked}/m.tflite"],
        2,
        "`path` must be in a writable folder",
    ),
    (
        "report in a read-only folder",
        ["compare", "--out", "{locked}/o"],
        2,
        "`out` must be in a writable folder",
    ),
    (
        "repeated scheme",
        ["compare", "--schemes", "he,he", "--out", "{tmp}/o"],
        2,
        "`schemes` must not repeat a name. Received: ['he', 'he']",
    ),
    (
        "repeated seed",
        ["compare", "--seeds", "0,0,1", "--out", "{tmp}/o"],
        2,
        "`seeds` must not repeat a seed. Received: seeds=[0, 0, 1]",
    ),
    (
        "empty report folder name",
        ["compare", "--out", ""],
        2,
        "`out` must name a folder. Received: out=''",
    ),
    (
        "report folder is an existing file, even with --force",
        ["compare", "--out", "{root}/taken.tflite", "--force"],
        2,
        "`out` must be a folder, and {root}/taken.tflite is a file.",
    ),
    (
        "recommend for a task the sweep never measured",
        ["recommend", "--task", "parity", "--length", "50"],
        2,
        "`task` must be one of adding, copy, digits, digits_permuted, "
        "japanese_vowels, osuleaf (the measured tasks). Received: task='parity'",
    ),
    (
        "recommend beyond the longest measured length",
        ["recommend", "--length", "1000", "--evidence", "{root}/short.json"],
        2,
        "`length` must be between 1 and 50, the longest measured adding length. "
        "Received: length=1000",
    ),
    (
        "recommend without a length",
        ["recommend"],
        2,
        "`length` must be given for the adding task (a positive int). "
        "Received: length=None",
    ),
    (
        "recommend from a file that is not a sweep summary",
        ["recommend", "--length", "50", "--evidence", "{root}/notes.keras"],
        2,
        "`evidence` must be a summary written by benchmarks/length_sweep.py or "
        "benchmarks/real_data.py. "
        "Received: evidence='{root}/notes.keras' (JSONDecodeError: ",
    ),
    (
        "recommend from a folder",
        ["recommend", "--length", "50", "--evidence", "{root}"],
        2,
        "Received: evidence='{root}' (IsADirectoryError: ",
    ),
    (
        "recommend from JSON that is not a sweep summary",
        ["recommend", "--length", "50", "--evidence", "{root}/rowless.json"],
        2,
        "Received: evidence='{root}/rowless.json' (adding T=50 has no rows)",
    ),
    (
        "existing output without --force",
        ["export", "{root}/good.keras", "-o", "{root}/taken.tflite"],
        2,
        "taken.tflite exists; pass --force to replace it.",
    ),
    (
        "existing report without --force",
        ["compare", "--out", "{root}"],
        2,
        "exists; pass --force to replace it.",
    ),
]


def _writable(folder):
    try:
        (folder / "probe").write_bytes(b"")
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    """A folder nobody can write: mode 0o555 and, for root, immutable."""
    folder = tmp_path_factory.mktemp("locked")
    folder.chmod(0o555)
    immutable = False
    if _writable(folder):  # root ignores the mode bits
        immutable = subprocess.run(["chattr", "+i", folder]).returncode == 0
    try:
        if _writable(folder):
            pytest.skip("cannot make a folder read-only here (root without chattr)")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", folder], check=True)
        folder.chmod(0o755)


@pytest.mark.parametrize("what, argv, code, message", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_row(what, argv, code, message, files, locked, tmp_path, capsys):
    argv = [a.format(root=files, tmp=tmp_path, locked=locked) for a in argv]
    message = message.format(root=files)
    try:
        got = main(argv)
    except SystemExit as exit_:
        got = exit_.code
    out, err = capsys.readouterr()
    assert got == code, err
    assert message in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing half-written
    assert (files / "taken.tflite").read_bytes() == b"user data"
    assert list(locked.iterdir()) == []


def test_debug_shows_the_traceback(files, tmp_path):
    with pytest.raises(ValueError, match="`model` must contain a recurrent layer"):
        main(
            [
                "--debug",
                "export",
                str(files / "dense.keras"),
                "-o",
                str(tmp_path / "m.tflite"),
            ]
        )


@pytest.mark.slow
def test_ctrl_c_keeps_finished_runs_and_resume_skips_them(tmp_path):
    out = tmp_path / "cmp"
    argv = [sys.executable, *tiny_compare_argv(out, "xavier_rnn,uniform01,he", "0,1")]
    env = python_env()
    # Fused (the default): seed 0's three runs finish together, then Ctrl-C
    # lands while seed 1 trains.
    first = out.parent / "cmp.partial" / "runs" / "xavier_rnn-seed0.json"
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Seed 1's first record save is a FIFO nobody reads: the job cannot finish
    # before the Ctrl-C, however slow this machine is.
    deadline = time.monotonic() + 240
    while not first.parent.is_dir() and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.mkfifo(first.parent / "xavier_rnn-seed1.json.tmp")
    # All three of seed 0's records (saved one after another), then Ctrl-C.
    seed0 = [first.parent / f"{name}-seed0.json" for name in ("uniform01", "he")]
    while (
        not all(path.exists() for path in (first, *seed0))
        and process.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert "3 finished run(s) kept" in err, err[-2000:]
    assert "rerun the same command with --resume" in err
    assert "Traceback" not in err
    assert not out.exists() and first.exists()
    kept = first.read_text()
    # Without --resume the partial comparison is not silently thrown away.
    again = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True)
    assert again.returncode == 2 and "pass --resume" in again.stderr
    resumed = subprocess.run(
        argv + ["--resume"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "finished run(s) reused" in resumed.stderr
    assert (out / "runs" / "xavier_rnn-seed0.json").read_text() == kept
    assert (out / "report.md").exists() and not (tmp_path / "cmp.partial").exists()
