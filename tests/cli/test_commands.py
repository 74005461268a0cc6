"""Long-range schemes (np_rnn, critical_tanh, spectral_095, irnn_xavier,
uniform_diag), NpRNN, UniformDiagonal, recommend."""

import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_rnninit import schemes
from keras_rnninit.cli import main
from tests.helpers import (
    REPO,
    python_env,
    run_main,
    run_python,
    tiny_compare_argv,
)

gated_tf_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="gated diagnostics: TensorFlow"
)


LONG_RANGE = ["critical_tanh", "irnn_xavier", "np_rnn", "spectral_095", "uniform_diag"]


SUMMARY = os.path.join(
    REPO, "keras_rnninit", "schemes", "evidence", "length_sweep.json"
)


def wilson(k, n, z=1.959963984540054):
    """The Wilson score interval, from its closed form (not scipy)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def committed_cells():
    """The cells of the committed summary (what `recommend` reads)."""
    with open(SUMMARY, encoding="utf-8") as f:
        return json.load(f)["cells"]


def committed_cell(task, length):
    return next(
        c for c in committed_cells() if c["task"] == task and c["length"] == length
    )


def cell(length, rows):
    return {
        "task": "adding",
        "length": length,
        "steps": 1000,
        "clipnorm": 1.0,
        "seeds": list(range(rows[0]["runs"])),
        "rows": rows,
    }


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    from keras_rnninit import schemes

    path = tmp_path_factory.mktemp("models") / "adding.keras"
    schemes.get("xavier_rnn").build_model(input_dim=2, units=8, seed=0).save(path)
    return path


@pytest.mark.slow
def test_long_range_schemes_from_the_cli(tmp_path, capsys):
    out = tmp_path / "cli"
    argv = tiny_compare_argv(out, ",".join(LONG_RANGE), "0")
    code, _, err = run_main(capsys, *argv[2:])
    assert code == 0, err[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert sorted(r["scheme"] for r in report["records"]) == LONG_RANGE


def test_recommend_command_prints_the_cell_best_first(capsys):
    assert main(["recommend", "--length", "120"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == str(schemes.recommend("adding", 120))
    assert out[1] == (
        "T=120 was not measured: this is the nearest measured length not "
        "shorter, T=150."
    )
    cell = committed_cell("adding", 150)
    assert out[2].startswith(
        f"protocol: {cell['steps']} steps, clipnorm {cell['clipnorm']:g}, "
        f"solved = test metric < {cell['threshold']:.3g}"
    )
    # The protocol's command for the user's T, every other flag at its default.
    best = schemes.recommend("adding", 120)
    assert out[3] == (
        f"run it: keras-rnninit compare --task adding --length 120 --clipnorm "
        f"{cell['clipnorm']:g} --steps {cell['steps']} --schemes {best.scheme}"
    )
    # Every scheme of the cell, ordered by solved fraction, then median step
    # (none: last), then fewer parameters (simple, gru, lstm), then name; each
    # with the counts of its committed row.
    rows = sorted(
        cell["rows"],
        key=lambda r: (
            -r["solved"] / r["runs"],
            r["median_steps"] if r["solved"] else math.inf,
            ["simple", "gru", "lstm"].index(r["cell_type"]),
            r["scheme"],
        ),
    )
    table = [line for line in out if line.startswith("| `")]
    assert len(table) == len(rows)
    for line, r in zip(table, rows, strict=True):
        low, high = wilson(r["solved"], r["runs"])
        assert line.startswith(
            f"| `{r['scheme']}` | {r['cell_type']} | {r['activation']} | "
            f"{r['solved']}/{r['runs']} | [{low:.2f}, {high:.2f}] | "
        ), line
    assert table[0].startswith(f"| `{best.scheme}` | {best.cell_type} |")


def test_recommend_command_json_and_no_solved_scheme(capsys, tmp_path):
    # The committed copy T=100 cell without the rows that solved a seed.
    cell = committed_cell("copy", 100)
    cell["rows"] = [r for r in cell["rows"] if r["solved"] == 0]
    assert cell["rows"], "every scheme solved copy T=100"
    evidence = tmp_path / "unsolved.json"
    evidence.write_text(json.dumps({"cells": [cell]}))
    argv = ["recommend", "--task", "copy", "--length", "100"]
    argv += ["--evidence", str(evidence)]
    assert main([*argv, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["scheme"] is None and answer["solved"] == 0
    assert answer["cell_type"] is None and answer["command"] is None
    assert answer["threshold"] == cell["threshold"]
    assert sorted(r["scheme"] for r in answer["cell"]) == sorted(
        r["scheme"] for r in cell["rows"]
    )
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("no scheme solved copy T=100 in any of 10 seeds")
    assert "| – | 0–9 |" in out  # no median step where nothing solved


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--json"]], ids=["table", "json"])
def test_recommend_into_a_closed_pipe_is_quiet(extra):
    # `keras-rnninit recommend ... | head -1`: the reader is gone before the
    # output is written. No traceback, no "failed" line; exit 1. Buffered
    # output (under 8 KiB, the table) is flushed by the command, not at exit.
    env = python_env()
    env.pop("PYTHONUNBUFFERED", None)
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "keras_rnninit", "recommend", "--length", "150"]
            + extra,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
            timeout=120,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.slow
@gated_tf_only
def test_cli_compares_lstm_schemes_and_refuses_a_simple_only_scheme(tmp_path, capsys):

    out = tmp_path / "lstm"
    argv = tiny_compare_argv(
        out, "keras_default,chrono,chrono_length", "0,1", 100, "--cell", "lstm"
    )
    code, _, err = run_main(capsys, *argv[2:])
    assert code == 0, err[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert {r["config"]["cell"] for r in report["records"]} == {"lstm"}
    assert {r["scheme"] for r in report["records"]} >= {"chrono_length"}
    # The refusal in a fresh process: one line on stderr, nothing from Keras.
    bad = run_python(
        *tiny_compare_argv(tmp_path / "bad", "irnn", "0", 100, "--cell", "gru")
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "'irnn' supports simple" in bad.stderr
    assert not (tmp_path / "bad").exists() and not (tmp_path / "bad.partial").exists()


@pytest.mark.slow
def test_export_prints_table_and_refuses_overwrite(capsys, saved_model, tmp_path):
    out = tmp_path / "adding.tflite"
    code, stdout, err = run_main(capsys, "export", str(saved_model), "-o", str(out))
    assert code == 0, err
    for key in ("file", "ops", "parity", "latency", "builtins only"):
        assert key in stdout
    assert out.exists() and (tmp_path / "adding.json").exists()
    before = out.read_bytes()
    code, _, err = run_main(capsys, "export", str(saved_model), "-o", str(out))
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert out.read_bytes() == before
    code, _, err = run_main(
        capsys,
        "export",
        str(saved_model),
        "-o",
        str(out),
        "--force",
        "--quantize",
        "float16",
    )
    assert code == 0, err
    assert json.loads((tmp_path / "adding.json").read_text())["quantize"] == "float16"


@pytest.mark.slow
def test_export_int8_with_representative_file(capsys, saved_model, tmp_path):
    data = tmp_path / "rep.npy"
    np.save(data, np.random.default_rng(0).normal(size=(32, 10, 2)).astype("float32"))
    out = tmp_path / "q.tflite"
    code, stdout, err = run_main(
        capsys,
        "export",
        str(saved_model),
        "-o",
        str(out),
        "--quantize",
        "int8",
        "--representative",
        str(data),
    )
    assert code == 0, err
    assert "int8" in stdout and "WHILE" not in stdout


@pytest.mark.parametrize(
    "case, code, fragment",
    [
        ("missing", 2, "`model` must be an existing .keras file"),
        ("corrupt", 1, "could not be loaded as a Keras model"),
        ("int8_no_data", 2, "`representative_data` must be given"),
        ("bad_quantize", 2, "invalid choice: 'int4'"),
        ("bad_dir", 2, "`path` must be in an existing folder"),
    ],
)
def test_export_errors(capsys, saved_model, tmp_path, case, code, fragment):
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"junk")
    argv = {
        "missing": ["export", str(tmp_path / "none.keras")],
        "corrupt": ["export", str(corrupt), "-o", str(tmp_path / "c.tflite")],
        "int8_no_data": [
            "export",
            str(saved_model),
            "-o",
            str(tmp_path / "q.tflite"),
            "--quantize",
            "int8",
        ],
        "bad_quantize": ["export", str(saved_model), "--quantize", "int4"],
        "bad_dir": [
            "export",
            str(saved_model),
            "-o",
            str(tmp_path / "no" / "m.tflite"),
        ],
    }[case]
    got, _, err = run_main(capsys, *argv)
    assert got == code and fragment in err and err.count("\n") == 1
    assert not list(tmp_path.glob("*.tflite"))


@pytest.mark.slow
def test_compare_writes_report_and_refuses_existing_out(capsys, tmp_path):
    out = tmp_path / "cmp"
    argv = [
        "compare",
        "--task",
        "adding",
        "--length",
        "6",
        "--schemes",
        "xavier_rnn,uniform01",
        "--seeds",
        "0",
        "--steps",
        "100",
        "--units",
        "4",
        "--out",
        str(out),
    ]
    code, stdout, err = run_main(capsys, *argv)
    assert code == 0, err
    assert "| `xavier_rnn` |" in stdout and "| `uniform01` |" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["command"] == "keras-rnninit " + " ".join(argv)
    assert sorted(p.name for p in out.iterdir()) == [
        "grad_through_time.png",
        "loss_curves.png",
        "models",
        "report.json",
        "report.md",
        "runs",
        "spectral_radius.png",
        "state_variance.png",
        "survival.png",
    ]
    before = (out / "report.json").read_bytes()
    code, _, err = run_main(capsys, *argv)
    assert code == 2 and "exists; pass --force" in err and err.count("\n") == 1
    assert (out / "report.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]  # no temp folder left


@pytest.mark.slow
def test_diagnose_prints_and_writes(capsys, tmp_path):
    out = tmp_path / "diag"
    code, stdout, err = run_main(
        capsys,
        "diagnose",
        "--scheme",
        "xavier_rnn,uniform01",
        # 64 units: uniform01's pre-activations (~32) round tanh to exactly 1,
        # so its gradient is exactly 0 (with 32 units it is ~1e-276, not 0).
        "--units",
        "64",
        "--length",
        "30",
        "--draws",
        "1",
        "--out",
        str(out),
    )
    assert code == 0, err
    lines = {
        line.split()[0]: line
        for line in stdout.splitlines()
        if line.startswith("  ") and "scheme" not in line
    }
    assert "-inf (=0)" in lines["uniform01"]
    assert float(lines["uniform01"].split()[4].rstrip("%")) > 90  # saturated
    reports = json.loads((out / "diagnose.json").read_text())
    assert [r["scheme"] for r in reports] == ["xavier_rnn", "uniform01"]
    assert reports[1]["log10_ratio"] == "-inf"
    assert (out / "diagnose.png").read_bytes()[:4] == b"\x89PNG"
