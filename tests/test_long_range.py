"""Long-range schemes (np_rnn, critical_tanh, spectral_095, irnn_xavier,
uniform_diag), NpRNN, UniformDiagonal, recommend."""

import json
import math
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_rnninit import NpRNN, UniformDiagonal, schemes
from keras_rnninit.cli import main
from keras_rnninit.compare import compare
from keras_rnninit.schemes.guidance import seed_ranges
from tests.helpers import (
    REPO,
    Z,
    assert_variance,
    load_benchmark,
    python_env,
    run_python,
    run_serialization_test,
    tiny_compare_argv,
    to_numpy,
)
from tests.test_saving import load_in_fresh_process, save_with_reference

N = 256
LONG_RANGE = ["critical_tanh", "irnn_xavier", "np_rnn", "spectral_095", "uniform_diag"]
SUMMARY = os.path.join(REPO, "keras_rnninit", "schemes", "evidence", "length_sweep.json")


def wilson(k, n, z=1.959963984540054):
    """The Wilson score interval, from its closed form (not scipy)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


# -------------------------------------------------------------------- NpRNN


def test_np_rnn_is_symmetric_with_top_eigenvalue_one():
    w = to_numpy(NpRNN(seed=1)((N, N)))
    np.testing.assert_array_equal(w, w.T)
    eigenvalues = np.linalg.eigvalsh(w)
    assert abs(eigenvalues.max() - 1.0) < 1e-5
    assert eigenvalues.min() > 0


def test_np_rnn_matches_marchenko_pastur():
    # W = R / c with R = AᵀA/n + I and c = max eig(R). min eig(AᵀA/n) is of
    # order 1/n² for a square A, so c = 1 / min eig(W) up to that.
    w = to_numpy(NpRNN(seed=2)((N, N)))
    c = 1.0 / np.linalg.eigvalsh(w).min()
    # Marchenko-Pastur (ratio 1): the spectrum of AᵀA/n ends at 4, so c -> 5;
    # the Tracy-Widom fluctuations of the edge are ~ 2^(4/3) n^(-2/3) = 0.06.
    assert abs(c - 5.0) < 0.5
    # tr(AᵀA)/n² is the mean of n² chi²(1) draws: 1 +- sqrt(2)/n.
    assert abs(np.trace(w) * c / N - 2.0) < Z * math.sqrt(2.0) / N
    # Off the diagonal (AᵀA/n)_ij = sum_k A_ki A_kj / n: mean 0, variance 1/n,
    # so sqrt(n) of it has variance 1 and fourth moment 3 + 6/n.
    off = w[np.triu_indices(N, 1)] * c * math.sqrt(N)
    assert_variance(off, 1.0, 3.0 + 6.0 / N)


def test_np_rnn_seed_semantics():
    np.testing.assert_array_equal(
        to_numpy(NpRNN(seed=3)((8, 8))), to_numpy(NpRNN(seed=3)((8, 8)))
    )
    assert not np.array_equal(
        to_numpy(NpRNN(seed=3)((8, 8))), to_numpy(NpRNN(seed=4)((8, 8)))
    )
    unseeded = NpRNN()
    np.testing.assert_array_equal(
        to_numpy(unseeded((8, 8))), to_numpy(unseeded((8, 8)))
    )
    fresh = NpRNN(seed=keras.random.SeedGenerator(5))
    assert not np.array_equal(to_numpy(fresh((8, 8))), to_numpy(fresh((8, 8))))
    keras.utils.set_random_seed(7)
    a = to_numpy(NpRNN()((8, 8)))
    keras.utils.set_random_seed(7)
    np.testing.assert_array_equal(a, to_numpy(NpRNN()((8, 8))))


def test_np_rnn_config_and_registration():
    init = NpRNN(seed=3)
    assert init.get_config() == {"seed": 3}
    rebuilt = run_serialization_test(init)
    np.testing.assert_array_equal(to_numpy(init((8, 8))), to_numpy(rebuilt((8, 8))))
    assert keras.saving.get_registered_name(NpRNN) == "keras_rnninit>NpRNN"


def test_np_rnn_float16_and_bad_input():
    w = NpRNN(seed=0)((8, 8), dtype="float16")
    assert keras.backend.standardize_dtype(w.dtype) == "float16"
    with pytest.raises(
        ValueError,
        match=r"`shape` must be a square 2-D shape .* "
        r"Received: shape=\(4, 8\)",
    ):
        NpRNN(seed=0)((4, 8))
    with pytest.raises(ValueError, match="`dtype` must be a floating point dtype"):
        NpRNN(seed=0)((4, 4), dtype="int32")
    with pytest.raises(TypeError, match="`seed` must be None, an int"):
        NpRNN(seed=1.5)


# ----------------------------------------------------------- UniformDiagonal


def test_uniform_diagonal_is_diagonal_and_uniform():
    w = to_numpy(UniformDiagonal(seed=1)((4096, 4096)))
    loops = np.diag(w).astype("float64")
    np.testing.assert_array_equal(w, np.diag(np.diag(w)))  # nothing off the diagonal
    assert loops.min() >= 0.0 and loops.max() < 1.0
    # U[0, 1]: mean 1/2 (variance 1/12), variance 1/12 (fourth central
    # moment 1/80); and the fraction below 1/4 is 1/4 (no piling up).
    assert abs(loops.mean() - 0.5) < Z * math.sqrt(1 / 12 / loops.size)
    assert_variance(loops, 1 / 12, 1 / 80)
    frac = float((loops < 0.25).mean())
    assert abs(frac - 0.25) < Z * math.sqrt(0.25 * 0.75 / loops.size)


def test_uniform_diagonal_range():
    loops = np.diag(to_numpy(UniformDiagonal(0.9, 1.1, seed=2)((2048, 2048))))
    assert loops.min() >= 0.9 and loops.max() < 1.1
    # U[a, b]: variance (b - a)² / 12, fourth central moment (b - a)⁴ / 80.
    assert_variance(loops.astype("float64"), 0.2**2 / 12, 0.2**4 / 80)


def test_uniform_diagonal_seed_semantics():
    def draw(init):
        return to_numpy(init((8, 8)))

    np.testing.assert_array_equal(
        draw(UniformDiagonal(seed=3)), draw(UniformDiagonal(seed=3))
    )
    assert not np.array_equal(
        draw(UniformDiagonal(seed=3)), draw(UniformDiagonal(seed=4))
    )
    unseeded = UniformDiagonal()
    np.testing.assert_array_equal(draw(unseeded), draw(unseeded))
    fresh = UniformDiagonal(seed=keras.random.SeedGenerator(5))
    assert not np.array_equal(draw(fresh), draw(fresh))


def test_uniform_diagonal_config_and_registration():
    init = UniformDiagonal(0.5, 1.0, seed=3)
    assert init.get_config() == {"low": 0.5, "high": 1.0, "seed": 3}
    rebuilt = run_serialization_test(init)
    np.testing.assert_array_equal(to_numpy(init((8, 8))), to_numpy(rebuilt((8, 8))))
    assert keras.saving.get_registered_name(UniformDiagonal) == (
        "keras_rnninit>UniformDiagonal"
    )
    assert isinstance(keras.initializers.get("uniform_diagonal"), UniformDiagonal)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"low": 1.0, "high": 1.0},
            ValueError,
            "`high` must be greater than `low`. Received: low=1.0, high=1.0",
        ),
        (
            {"low": -0.1},
            ValueError,
            "`low` must be a finite number >= 0. Received: low=-0.1",
        ),
        (
            {"high": float("inf")},
            ValueError,
            "`high` must be a finite number. Received: high=inf",
        ),
        (
            {"low": "0"},
            TypeError,
            "`low` must be a finite number >= 0. Received: low='0' of type str",
        ),
        (
            {"high": True},
            TypeError,
            "`high` must be a finite number. Received: high=True of type bool",
        ),
        ({"seed": 1.5}, TypeError, "`seed` must be None, an int"),
    ],
)
def test_uniform_diagonal_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        UniformDiagonal(**kwargs)


def test_uniform_diagonal_shapes_and_dtypes():
    w = UniformDiagonal(seed=0)((8, 8), dtype="float16")
    assert keras.backend.standardize_dtype(w.dtype) == "float16"
    with pytest.raises(
        ValueError,
        match=r"`shape` must be a square 2-D shape .* Received: shape=\(4, 8\)",
    ):
        UniformDiagonal(seed=0)((4, 8))
    with pytest.raises(ValueError, match="`dtype` must be a floating point dtype"):
        UniformDiagonal(seed=0)((4, 4), dtype="int32")


# ------------------------------------------------------------------ schemes


def rnn(model):
    layer = model.get_layer("rnn")
    wxh, whh, _ = (np.asarray(w, dtype="float64") for w in layer.get_weights())
    return layer, wxh, whh


def test_long_range_schemes_registered_for_simple_rnn():
    assert set(LONG_RANGE) <= set(schemes.names())
    for name in LONG_RANGE:
        assert schemes.get(name).cells == ("simple",)


def test_np_rnn_scheme():
    layer, wxh, whh = rnn(schemes.get("np_rnn").build_model(2, N, seed=0))
    assert schemes.get("np_rnn").activation == "relu"
    assert layer.activation is keras.activations.relu
    np.testing.assert_allclose(whh, whh.T)
    assert abs(np.linalg.eigvalsh(whh).max() - 1.0) < 1e-5
    assert_variance(wxh, 0.001**2, 3 * 0.001**4)  # N(0, 0.001²)


def test_critical_tanh_scheme():
    layer, wxh, whh = rnn(schemes.get("critical_tanh").build_model(2, N, seed=0))
    assert layer.activation is keras.activations.tanh
    np.testing.assert_allclose(whh @ whh.T, np.eye(N), atol=1e-5)
    assert_variance(wxh, 0.01**2, 3 * 0.01**4)


@pytest.mark.parametrize("name", ["irnn_xavier", "uniform_diag"])
def test_relu_schemes_with_full_size_input_weights(name):
    layer, wxh, whh = rnn(schemes.get(name).build_model(2, N, seed=0))
    assert schemes.get(name).activation == "relu"
    assert layer.activation is keras.activations.relu
    np.testing.assert_array_equal(whh, np.diag(np.diag(whh)))
    if name == "irnn_xavier":
        np.testing.assert_array_equal(whh, np.eye(N))
    else:
        assert 0 <= np.diag(whh).min() and np.diag(whh).max() < 1
        assert_variance(np.diag(whh), 1 / 12, 1 / 80)
    # XavierRNN over fan_in 2: N(0, 1/2), not irnn's N(0, 0.001²).
    assert_variance(wxh, 0.5, 3 * 0.5**2)


def test_spectral_095_scheme():
    layer, wxh, whh = rnn(schemes.get("spectral_095").build_model(2, 64, seed=0))
    assert layer.activation is keras.activations.tanh
    assert abs(np.abs(np.linalg.eigvals(whh)).max() - 0.95) < 1e-4
    assert_variance(wxh, 0.01**2, 3 * 0.01**4)


@pytest.mark.parametrize("name", LONG_RANGE)
def test_scheme_seeds(name):
    def weights(seed):
        return schemes.get(name).build_model(2, 8, seed=seed).get_weights()

    for a, b in zip(weights(4), weights(4), strict=True):
        np.testing.assert_array_equal(a, b)
    # Wxh is random in every scheme, Whh in all but irnn_xavier's identity.
    random = [0] if name == "irnn_xavier" else [0, 1]
    for i in random:
        assert not np.array_equal(weights(4)[i], weights(5)[i])


def test_np_rnn_model_keras_round_trip(tmp_path):
    model = schemes.get("np_rnn").build_model(2, 8, seed=0)
    configs = load_in_fresh_process(*save_with_reference(model, tmp_path, "np_rnn"))
    name, config = configs["rnn.recurrent_initializer"]
    assert name == "keras_rnninit>NpRNN" and set(config) == {"seed"}


def test_uniform_diag_model_keras_round_trip(tmp_path):
    model = schemes.get("uniform_diag").build_model(2, 8, seed=0)
    configs = load_in_fresh_process(*save_with_reference(model, tmp_path, "diag"))
    name, config = configs["rnn.recurrent_initializer"]
    assert name == "keras_rnninit>UniformDiagonal"
    assert set(config) == {"low", "high", "seed"}


def test_long_range_schemes_in_compare():
    records = compare(
        LONG_RANGE, seeds=[0], progress=None, length=6, units=4, steps=200
    )
    assert [r["scheme"] for r in records] == LONG_RANGE
    assert all(math.isfinite(r["final_test"]) for r in records)


def test_long_range_schemes_from_the_cli(tmp_path):
    out = tmp_path / "cli"
    done = run_python(*tiny_compare_argv(out, ",".join(LONG_RANGE), "0"), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert sorted(r["scheme"] for r in report["records"]) == LONG_RANGE


# ---------------------------------------------------------------- recommend


RECORDS = os.path.join(REPO, "benchmarks", "results", "length_sweep", "records.jsonl")


def committed_cells():
    """The cells of the committed summary (what `recommend` reads)."""
    with open(SUMMARY, encoding="utf-8") as f:
        return json.load(f)["cells"]


def committed_cell(task, length):
    return next(
        c for c in committed_cells() if c["task"] == task and c["length"] == length
    )


def raw_counts(task, length, steps, clipnorm):
    """{scheme: (solved, runs)} read straight from the sweep's records (the
    latest record of each run), not from the summary `recommend` reads."""
    latest = {}
    with open(RECORDS, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if (r["task"], r["length"], r["steps"], r["clipnorm"]) == (
                task,
                length,
                steps,
                clipnorm,
            ):
                latest[r["scheme"], r["seed"]] = r
    counts = {}
    for (scheme, _), r in latest.items():
        solved, runs = counts.get(scheme, (0, 0))
        counts[scheme] = (solved + (r["steps_to_threshold"] is not None), runs + 1)
    return counts


@pytest.mark.parametrize(
    "task,length", [(c["task"], c["length"]) for c in committed_cells()]
)
def test_recommend_rests_on_the_committed_sweep(task, length):
    cell = committed_cell(task, length)
    counts = raw_counts(task, length, cell["steps"], cell["clipnorm"])
    # The committed summary is the committed records' (regenerated with them).
    assert {r["scheme"]: (r["solved"], r["runs"]) for r in cell["rows"]} == counts
    rec = schemes.recommend(task, length)
    # Rows may have run different numbers of seeds: the rule compares fractions.
    best = max(solved / runs for solved, runs in counts.values())
    assert rec.solved / rec.runs == best
    assert rec.runs <= len(cell["seeds"])
    if best:
        assert counts[rec.scheme] == (rec.solved, rec.runs)
        row = next(r for r in cell["rows"] if r["scheme"] == rec.scheme)
        assert rec.seeds == tuple(row["seeds"])
        assert f"{rec.solved}/{rec.runs} seeds" in str(rec)
    else:
        assert rec.scheme is None
        assert f"no scheme solved {task} T={length} in any of {rec.runs}" in str(rec)
    low, high = wilson(rec.solved, rec.runs)
    assert rec.interval == pytest.approx((low, high), abs=1e-9)
    assert rec.steps == cell["steps"] and rec.clipnorm == cell["clipnorm"]


def test_recommend_evidence_ships_in_the_package():
    # recommend() works from an installed package, not only from a checkout:
    # its default evidence is package data that pyproject.toml declares.
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    package = os.path.dirname(schemes.__file__)
    assert os.path.samefile(schemes.EVIDENCE, SUMMARY)
    relative = os.path.relpath(schemes.EVIDENCE, package)
    assert not relative.startswith(os.pardir), relative
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        globs = tomllib.load(f)["tool"]["setuptools"]["package-data"]["keras_rnninit"]
    assert any(fnmatch.fnmatch(relative, glob) for glob in globs), globs


def test_recommend_uses_the_next_longer_measured_length():
    measured = sorted(c["length"] for c in committed_cells() if c["task"] == "adding")
    assert schemes.recommend("adding", 1).measured_length == measured[0]
    with pytest.raises(
        ValueError,
        match=(
            f"`length` must be between 1 and {measured[-1]}, the longest measured "
            f"adding length. Received: length={measured[-1] + 1}"
        ),
    ):
        schemes.recommend("adding", measured[-1] + 1)


def write_evidence(path, cells):
    path.write_text(json.dumps({"cells": cells}))
    return str(path)


def row(scheme, solved, runs, median):
    return {
        "scheme": scheme,
        "solved": solved,
        "runs": runs,
        "interval": list(wilson(solved, runs)),
        "median_steps": median,
    }


def cell(length, rows):
    return {
        "task": "adding",
        "length": length,
        "steps": 1000,
        "clipnorm": 1.0,
        "seeds": list(range(rows[0]["runs"])),
        "rows": rows,
    }


def test_recommend_rule_on_synthetic_evidence(tmp_path):
    path = write_evidence(
        tmp_path / "s.json",
        [
            cell(50, [row("a", 3, 4, 900), row("b", 3, 4, 500), row("c", 2, 4, 100)]),
            cell(150, [row("a", 0, 4, None), row("b", 0, 4, None)]),
        ],
    )
    short = schemes.recommend("adding", 50, evidence=path)
    assert (short.scheme, short.solved, short.median_steps) == ("b", 3, 500)
    between = schemes.recommend("adding", 100, evidence=path)
    assert between.measured_length == 150 and between.scheme is None
    assert (
        str(between)
        == "no scheme solved adding T=150 in any of 4 seeds within 1000 steps"
    )


def test_recommend_compares_fractions_and_names_the_rows_seeds(tmp_path):
    # One cell whose rows ran different seeds: 18/20 loses to 10/10, and the
    # answer's runs and seeds are those of the row it rests on.
    many = {**row("many", 18, 20, 900), "seeds": list(range(20))}
    few = {**row("few", 10, 10, 1500), "seeds": list(range(10))}
    evidence = cell(150, [many, few])
    evidence["seeds"] = list(range(20))
    rec = schemes.recommend(
        "adding", 150, evidence=write_evidence(tmp_path / "s.json", [evidence])
    )
    assert (rec.scheme, rec.solved, rec.runs) == ("few", 10, 10)
    assert rec.seeds == tuple(range(10))
    assert rec.interval == pytest.approx(wilson(10, 10), abs=1e-12)


@pytest.mark.parametrize(
    "task, length, error, message",
    [
        (
            "parity",
            50,
            ValueError,
            "`task` must be one of adding (the measured tasks). "
            "Received: task='parity'",
        ),
        ("adding", 0, ValueError, "`length` must be between 1 and 50"),
        (
            "adding",
            True,
            TypeError,
            "`length` must be a positive int. Received: length=True of type bool",
        ),
        ("adding", 5.0, TypeError, "`length` must be a positive int"),
    ],
)
def test_recommend_bad_input(tmp_path, task, length, error, message):
    path = write_evidence(tmp_path / "s.json", [cell(50, [row("a", 1, 2, 100)])])
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        schemes.recommend(task, length, evidence=path)


def test_recommend_without_evidence(tmp_path):
    with pytest.raises(ValueError, match="`evidence` must be a summary written by"):
        schemes.recommend("adding", 50, evidence=str(tmp_path / "none.json"))


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
    # Every scheme of the cell, ordered by solved fraction, then median step
    # (none: last), then name; each with the counts of its committed row.
    rows = sorted(
        cell["rows"],
        key=lambda r: (
            -r["solved"] / r["runs"],
            r["median_steps"] if r["solved"] else math.inf,
            r["scheme"],
        ),
    )
    table = [line for line in out if line.startswith("| `")]
    assert len(table) == len(rows)
    for line, r in zip(table, rows, strict=True):
        low, high = wilson(r["solved"], r["runs"])
        assert line.startswith(
            f"| `{r['scheme']}` | {r['activation']} | {r['solved']}/{r['runs']} | "
            f"[{low:.2f}, {high:.2f}] | "
        ), line
    assert table[0].startswith(f"| `{schemes.recommend('adding', 120).scheme}` |")


def test_initializers_guide_shows_what_recommend_prints(capsys):
    # The guide's sample output (hand-copied into the ```text block after the
    # command) is the command's, line by line.
    guide = os.path.join(REPO, "docs", "guides", "initializers.md")
    with open(guide, encoding="utf-8") as f:
        page = f.read()
    command = "keras-rnninit recommend --task adding --length 120"
    after = page[page.index(command) :]
    after = after[after.index("```text\n") + len("```text\n") :]
    after = after[: after.index("```")]
    shown = [line for line in after.splitlines() if line != "..."]
    assert len(shown) >= 6, after  # the answer, the protocol and table rows
    assert main(["recommend", "--task", "adding", "--length", "120"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert shown == out[: len(shown)]


def test_recommend_command_json_and_no_solved_scheme(capsys):
    assert main(["recommend", "--task", "copy", "--length", "100", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    cell = committed_cell("copy", 100)
    assert answer["scheme"] is None and answer["solved"] == 0
    assert answer["threshold"] == cell["threshold"]
    assert sorted(r["scheme"] for r in answer["cell"]) == sorted(
        r["scheme"] for r in cell["rows"]
    )
    assert main(["recommend", "--task", "copy", "--length", "100"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no scheme solved copy T=100 in any of 10 seeds")
    assert "| – | 0–9 |" in out  # no median step where nothing solved


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


# ---------------------------------------------------------------- benchmark


def test_per_seed_table_marks_diverged_and_blown_up_runs():
    # A run that diverged before its first evaluation has no best test value
    # (the sweep's summary once crashed on it); one that solved and then
    # diverged keeps its step; one whose test metric blew up to 1e33 without
    # a non-finite loss says where it ended (a rise that stays below the
    # threshold is not marked).
    sweep = load_benchmark("length_sweep")

    def record(seed, hit, best, final, diverged):
        return {
            "task": "adding", "length": 8, "scheme": "irnn_xavier", "seed": seed,
            "steps": 100, "clipnorm": 1.0, "threshold": 0.01,
            "steps_to_threshold": hit, "best_test": best, "final_test": final,
            "diverged": diverged,
        }  # fmt: skip

    runs = [
        record(0, 300, 0.002, 1e35, True),
        record(1, None, None, None, True),
        record(2, None, 0.178, 0.178, True),
        record(3, None, 0.05, 0.07, False),
        record(4, None, 0.167, 2.7e33, False),
        record(5, 200, 0.001, 0.5, False),
        record(6, 200, 0.00001, 0.005, False),  # 500x its best, still solved
    ]
    (cell,) = sweep.summarize({i: r for i, r in enumerate(runs)})
    assert cell["rows"][0]["diverged"] == [True, True, True] + [False] * 4
    assert (
        "| `irnn_xavier` | 300 (diverged later) | – (diverged) | "
        "– (0.178, diverged) | – (0.050) | – (0.167, ended at 2.7e+33) | "
        "200 (ended at 0.5) | 200 |"
    ) in sweep.per_seed(cell)


def test_seed_lists_are_written_as_ranges():
    sweep = load_benchmark("length_sweep")
    assert seed_ranges([0, 1, 2, 3, 5, 7, 8]) == "0–3, 5, 7–8"
    assert seed_ranges([8, 7, 0]) == "0, 7–8"
    rows = [{"seeds": [0, 1]}, {"seeds": [0, 1, 2, 3]}]
    assert sweep._cell_seeds({"seeds": [0, 1, 2, 3], "rows": rows}) == (
        "0–3 (not every row)"
    )
    assert sweep._cell_seeds({"seeds": [0, 1], "rows": rows[:1]}) == "0–1"


def test_length_sweep_quick(tmp_path):
    out = tmp_path / "sweep"
    script = os.path.join(REPO, "benchmarks", "length_sweep.py")
    page = tmp_path / "long_range.md"
    stale = "# x\n<!-- length_sweep:begin -->\nSTALE\n<!-- length_sweep:end -->\n"
    page.write_text(stale)
    done = run_python(script, "--quick", "--out", out, "--page", page, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [
        json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()
    ]
    (summary,) = json.loads((out / "summary.json").read_text())["cells"]
    for r in summary["rows"]:
        mine = [x for x in records if x["scheme"] == r["scheme"]]
        solved = sum(x["steps_to_threshold"] is not None for x in mine)
        assert (r["runs"], r["solved"]) == (len(mine), solved)
        assert r["interval"] == pytest.approx(wilson(solved, len(mine)), abs=1e-9)
    assert (out / f"length_sweep_adding_T{summary['length']}.png").stat().st_size > 0
    assert "| adding | 8 |" in done.stdout
    spliced = page.read_text()
    assert "STALE" not in spliced and spliced.startswith("# x\n<!-- length_sweep:begin")
    assert "| adding | 8 | `" in spliced or "| adding | 8 | none solved" in spliced
    # ... and every run seed by seed: its step to threshold or its best metric.
    assert "adding T=8, steps to threshold per seed" in spliced
    for r in summary["rows"]:
        for seed, hit, best in zip(
            r["seeds"], r["steps_to_threshold"], r["best_test"], strict=True
        ):
            run = next(
                x for x in records if x["scheme"] == r["scheme"] and x["seed"] == seed
            )
            assert (hit, best) == (run["steps_to_threshold"], run["best_test"])
        outcomes = zip(r["steps_to_threshold"], r["best_test"], strict=True)
        shown = [f"{h:g}" if h is not None else f"– ({b:.3f})" for h, b in outcomes]
        assert f"| `{r['scheme']}` | " + " | ".join(shown) + " |" in spliced
    # The plot is linked relative to the page (here the plots are in out/).
    plot = f"(sweep/length_sweep_adding_T{summary['length']}.png)"
    assert plot in spliced
    # A second run resumes: nothing is trained again, nothing is duplicated;
    # `--readme`, the option's old name, still splices the tables.
    old_name = tmp_path / "README.md"
    old_name.write_text(stale)
    again = run_python(
        script, "--quick", "--out", out, "--readme", old_name, timeout=300
    )
    assert again.returncode == 0 and "0 runs to train" in again.stderr
    assert len((out / "records.jsonl").read_text().splitlines()) == len(records)
    assert old_name.read_text() == spliced
