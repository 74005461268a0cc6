"""Long-range schemes (np_rnn, critical_tanh, spectral_095, irnn_xavier,
uniform_diag), NpRNN, UniformDiagonal, recommend."""

import json
import lzma
import math
import os

import pytest

from keras_rnninit import schemes
from keras_rnninit.cli import main
from tests.helpers import (
    REPO,
)

SUMMARY = os.path.join(
    REPO, "keras_rnninit", "schemes", "evidence", "length_sweep.json"
)


def wilson(k, n, z=1.959963984540054):
    """The Wilson score interval, from its closed form (not scipy)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


RECORDS = os.path.join(REPO, "benchmarks", "results", "length_sweep", "records.jsonl")


def record_lines(path):
    """The JSON lines of a sweep's records as committed: the archive
    `path`.xz (benchmarks/archive.py --records) if there is one, then `path`."""
    lines = []
    if os.path.exists(path + ".xz"):
        with lzma.open(path + ".xz", "rt", encoding="utf-8") as f:
            lines += f.read().splitlines()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            lines += f.read().splitlines()
    assert lines, f"no records at {path}"
    return [json.loads(line) for line in lines]


def committed_cells():
    """The cells of the committed summary (what `recommend` reads)."""
    with open(SUMMARY, encoding="utf-8") as f:
        return json.load(f)["cells"]


def committed_cell(task, length):
    return next(
        c for c in committed_cells() if c["task"] == task and c["length"] == length
    )


def raw_counts(task, length, steps, clipnorm):
    """{(scheme, cell): (solved, runs)} read straight from the sweep's records
    (the latest record of each run; records without a cell are SimpleRNN's),
    not from the summary `recommend` reads."""
    latest = {}
    for r in record_lines(RECORDS):
        if (r["task"], r["length"], r["steps"], r["clipnorm"]) == (
            task,
            length,
            steps,
            clipnorm,
        ):
            latest[r["scheme"], r.get("cell", "simple"), r["seed"]] = r
    counts = {}
    for (scheme, cell, _), r in latest.items():
        solved, runs = counts.get((scheme, cell), (0, 0))
        counts[scheme, cell] = (
            solved + (r["steps_to_threshold"] is not None),
            runs + 1,
        )
    return counts


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


@pytest.mark.parametrize(
    "task,length", [(c["task"], c["length"]) for c in committed_cells()]
)
def test_recommend_rests_on_the_committed_sweep(task, length):
    cell = committed_cell(task, length)
    counts = raw_counts(task, length, cell["steps"], cell["clipnorm"])
    # The committed summary is the committed records' (regenerated with them).
    assert {
        (r["scheme"], r["cell_type"]): (r["solved"], r["runs"]) for r in cell["rows"]
    } == counts
    rec = schemes.recommend(task, length)
    # Rows may have run different numbers of seeds: the rule compares fractions.
    best = max(solved / runs for solved, runs in counts.values())
    assert rec.solved / rec.runs == best
    assert rec.runs <= len(cell["seeds"])
    if best:
        assert counts[rec.scheme, rec.cell_type] == (rec.solved, rec.runs)
        row = next(
            r
            for r in cell["rows"]
            if (r["scheme"], r["cell_type"]) == (rec.scheme, rec.cell_type)
        )
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

    import keras_rnninit

    package = os.path.dirname(keras_rnninit.__file__)
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


REAL_RECORDS = os.path.join(REPO, "benchmarks", "results", "real_data", "records.jsonl")


def real_data_rows():
    """{task: {(scheme, cell, lr): [final test accuracy per seed]}} straight
    from the real-data sweep's records (the latest record of each run), not
    from the evidence `recommend` reads."""
    latest = {}
    for r in record_lines(REAL_RECORDS):
        c = r["config"]
        key = (c["task"], r["scheme"], c["cell"], c["learning_rate"])
        latest[key + (r["seed"], c["steps"])] = r
    rows = {}
    for (task, scheme, cell, lr, _, _), r in sorted(latest.items()):
        rows.setdefault(task, {}).setdefault((scheme, cell, lr), []).append(r)
    return rows


@pytest.mark.parametrize("task", sorted(real_data_rows()))
def test_recommend_on_a_real_dataset_is_its_most_accurate_measured_run(task):
    # The rule for a real dataset: the highest mean final test accuracy over
    # every (scheme, cell, learning rate) of its grid, recomputed here.
    rows = real_data_rows()[task]
    means = {
        key: sum(r["final_test"] for r in runs) / len(runs)
        for key, runs in rows.items()
    }
    best = max(means, key=means.get)
    rec = schemes.recommend(task)
    assert (rec.scheme, rec.cell_type, rec.learning_rate) == best
    assert rec.final_test_mean == pytest.approx(means[best], rel=1e-9)
    runs = rows[best]
    solved = sum(r["steps_to_threshold"] is not None for r in runs)
    assert (rec.solved, rec.runs) == (solved, len(runs))
    assert rec.interval == pytest.approx(wilson(solved, len(runs)), abs=1e-9)
    assert rec.length == rec.measured_length == runs[0]["config"]["length"]
    assert rec.steps == runs[0]["config"]["steps"] and rec.metric == "accuracy"
    assert rec.command == (
        f"keras-rnninit compare --task {task} --length {rec.length} --clipnorm 1 "
        f"--steps {rec.steps} --lr {rec.learning_rate:g} --schemes {rec.scheme}"
        + ("" if rec.cell_type == "simple" else f" --cell {rec.cell_type}")
    )
    assert len(rec.cell) == len(rows)  # every (scheme, cell, rate) measured
    with pytest.raises(
        ValueError,
        match=rf"^`length` must be {rec.length} for the {task} task \(its "
        rf"sequences' T\)\. Received: length={rec.length + 1}$",
    ):
        schemes.recommend(task, rec.length + 1)


def test_recommend_needs_a_length_for_a_synthetic_task():
    with pytest.raises(
        ValueError,
        match=r"^`length` must be given for the adding task \(a positive int\)\. "
        r"Received: length=None$",
    ):
        schemes.recommend("adding")


def test_recommend_chooses_across_cells_and_breaks_ties_by_parameters(tmp_path):
    def gated(scheme, cell_type, solved, median):
        return {**row(scheme, solved, 4, median), "cell_type": cell_type}

    path = write_evidence(
        tmp_path / "s.json",
        [
            # A gated row that solves more wins over every SimpleRNN row.
            cell(50, [row("a", 2, 4, 300), gated("c", "lstm", 4, 900)]),
            # Same fraction and median: the cell with fewer parameters wins,
            # SimpleRNN over GRU over LSTM, whatever the names.
            cell(
                100,
                [gated("a", "lstm", 4, 500), gated("b", "gru", 4, 500)],
            ),
            cell(150, [gated("a", "lstm", 3, 500), row("z", 3, 4, 500)]),
        ],
    )
    lstm = schemes.recommend("adding", 40, evidence=path)
    assert (lstm.scheme, lstm.cell_type) == ("c", "lstm")
    assert str(lstm).startswith("c (LSTM): solved 4/4 seeds of adding T=50 ")
    assert lstm.command == (
        "keras-rnninit compare --task adding --length 40 --clipnorm 1 "
        "--steps 1000 --schemes c --cell lstm"
    )
    tie = schemes.recommend("adding", 100, evidence=path)
    assert (tie.scheme, tie.cell_type) == ("b", "gru")
    simple = schemes.recommend("adding", 150, evidence=path)
    assert (simple.scheme, simple.cell_type) == ("z", "simple")
    assert "--cell" not in simple.command and str(simple).startswith("z: solved")


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
    # A row on a cell recommend does not know: the same one line, saying why.
    odd = {**row("a", 1, 2, 100), "cell_type": "rnn"}
    with pytest.raises(ValueError, match=r"\(a has cell_type='rnn'\)$"):
        schemes.recommend(
            "adding",
            50,
            evidence=write_evidence(tmp_path / "s.json", [cell(50, [odd])]),
        )


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
