"""The comparison runner and the report writer, on tiny real runs."""

import json
import math
import os
import time

import numpy as np
import pytest

from keras_rnninit.compare import CompareConfig, compare
from keras_rnninit.compare.report import jsonable, speedups, summarize, write_report
from tests.helpers import TINY


@pytest.fixture(scope="module")
def timed():
    """The records of a fused comparison and the seconds it took (own clock)."""
    start = time.perf_counter()
    records = compare(["xavier_rnn", "uniform01"], seeds=[0], progress=None, **TINY)
    return records, time.perf_counter() - start


@pytest.fixture(scope="module")
def records(timed):
    return timed[0]


def test_records_are_plain_and_complete(records):
    assert [r["scheme"] for r in records] == ["xavier_rnn", "uniform01"]
    for r in records:
        assert r["curve"]["step"] == [100, 200] and len(r["curve"]["test"]) == 2
        assert r["steps_run"] == 200 and r["diverged"] is None
        assert [d["step"] for d in r["diagnostics"]] == [0, 100, 200]
        assert len(r["diagnostics"][0]["grad_norms"]) == 8
        assert r["threshold"] == 0.01 and math.isclose(r["baseline"], 1 / 6)
        assert r["best_test"] == min(r["curve"]["test"])
        assert r["versions"]["keras"]
        json.dumps(jsonable(r), allow_nan=False)
    uniform = records[1]["diagnostics"][0]
    assert uniform["rnn_saturated_last"] > 0.9  # U[0,1] saturates tanh at init


def test_wall_seconds_share_the_fused_fit_time(timed):
    # Fused, each of the K runs is charged the fit time / K: equal shares
    # that add up to less than the whole call, timed here independently.
    records, elapsed = timed
    shares = [r["wall_seconds"] for r in records]
    assert shares[0] == shares[1] and 0 < sum(shares) < elapsed
    # The fit is most of the call: at least 200 steps of training happened.
    assert sum(shares) > elapsed / 4, (shares, elapsed)


def test_same_seed_same_curves(records):
    again = compare(["xavier_rnn"], seeds=[0], progress=None, **TINY)[0]
    assert again["curve"] == records[0]["curve"]
    assert (
        again["diagnostics"][0]["grad_norms"]
        == records[0]["diagnostics"][0]["grad_norms"]
    )


def test_report_files(records, tmp_path):
    report = write_report(records, tmp_path, command="keras-rnninit compare ...")
    loaded = json.loads((tmp_path / "report.json").read_text())
    assert loaded == report and loaded["command"] == "keras-rnninit compare ..."
    assert [row["scheme"] for row in loaded["summary"]] == ["xavier_rnn", "uniform01"]
    markdown = (tmp_path / "report.md").read_text()
    assert "| `xavier_rnn` |" in markdown and "speed-up vs uniform01" in markdown
    assert "Regenerate: `keras-rnninit compare ...`" in markdown
    for name in (
        "loss_curves",
        "grad_through_time",
        "state_variance",
        "spectral_radius",
        "survival",
    ):
        data = (tmp_path / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        assert f"({name}.png)" in markdown


def test_speedups_and_never():
    def row(name, steps):
        return {"scheme": name, "median_steps": steps}

    rows = [
        row("xavier_rnn", 1000.0),
        row("keras_default", 3000.0),
        row("uniform01", None),
        row("he", None),
    ]
    result = speedups(rows, 4000, ["keras_default", "uniform01"])
    assert result["xavier_rnn"] == {
        "keras_default": "3.00x",
        "uniform01": "> 4.0x (uniform01 never)",
    }
    assert result["he"]["keras_default"] == "never"


def test_summary_median_counts_never_as_infinite():
    def record(seed, steps):
        diag = {
            "rnn_log10_grad_ratio": -1.0,
            "rnn_spectral_radius": 1.0,
            "rnn_saturated_last": 0.0,
        }
        return {
            "scheme": "s",
            "description": "",
            "seed": seed,
            "steps_to_threshold": steps,
            "best_test": 0.1,
            "final_test": 0.1,
            "diagnostics": [diag, diag],
            "diverged": None,
            "wall_seconds": 1.0,
            "config": {"steps": 400},
        }

    # The Kaplan-Meier median: the first step by which half the runs are solved.
    assert (
        summarize([record(0, 100), record(1, None), record(2, 300)])[0]["median_steps"]
        == 300
    )
    assert summarize([record(0, None), record(1, 100)])[0]["median_steps"] == 100
    assert (
        summarize([record(0, None), record(1, 100), record(2, None)])[0]["median_steps"]
        is None
    )


def test_jsonable():
    assert jsonable({"a": float("-inf"), "b": [float("nan"), 1.5]}) == {
        "a": "-inf",
        "b": [None, 1.5],
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"task": "parity"}, "`task` must be one of acsf1, adding, chars, copy, dig"),
        ({"steps": 150}, "`steps` must be a multiple of `eval_every`"),
        ({"units": 0}, "`units` must be a positive int"),
        ({"learning_rate": -1.0}, "`learning_rate` must be a positive finite float"),
        ({"clipnorm": float("nan")}, "`clipnorm` must be a positive finite float"),
    ],
)
def test_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CompareConfig(**kwargs)


def test_compare_argument_errors():
    with pytest.raises(
        ValueError, match="`name` must be one of critical_tanh, he, irnn"
    ):
        compare(["xavier"], progress=None, **TINY)
    with pytest.raises(ValueError, match="`seeds` must be a non-empty list"):
        compare(["xavier_rnn"], seeds=[], progress=None, **TINY)
    with pytest.raises(ValueError, match="`schemes` must name at least one"):
        compare([], progress=None, **TINY)
    with pytest.raises(ValueError, match=r"`seeds` must not repeat a seed"):
        compare(["xavier_rnn"], seeds=[0, 0, 1], progress=None, **TINY)


@pytest.mark.parametrize("task", ["copy", "chars"])
def test_sequence_tasks_run(task):
    record = compare(
        ["orthogonal", "xavier_rnn"],
        seeds=[0],
        progress=None,
        **{**TINY, "task": task, "length": 5},
    )[0]
    assert record["fused_with"] == ["orthogonal", "xavier_rnn"]  # fused path
    assert record["metric"].startswith("test cross-entropy")
    assert all(math.isfinite(v) for v in record["curve"]["test"])
    assert math.isfinite(record["diagnostics"][-1]["rnn_log10_grad_ratio"])
    assert len(record["diagnostics"][-1]["grad_norms"]) == (25 if task == "copy" else 5)


def test_diverging_run_is_recorded_and_others_go_on():
    from keras_rnninit import SpectralRadius, XavierRNN, schemes

    exploding = schemes.Scheme(
        "exploding",
        "SpectralRadius(3) with relu",
        kernel=lambda u, s: XavierRNN(gain=3.0, seed=s),
        recurrent=lambda u, s: SpectralRadius(3.0, seed=s),
        output=lambda u, s: XavierRNN(seed=s),
        activation="relu",
    )
    records = compare(
        [exploding, "xavier_rnn"],
        seeds=[0],
        progress=None,
        **{**TINY, "length": 60, "learning_rate": 1.0},
    )
    bad, good = records
    assert bad["diverged"] is not None and bad["steps_run"] <= 200
    assert bad["diverged"]["where"] in {"weight", "state", "loss"}
    assert good["scheme"] == "xavier_rnn" and len(good["curve"]["test"]) == 2
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "3"


def test_fused_gives_the_same_curves_as_sequential_runs():
    names = ["xavier_rnn", "uniform01", "irnn"]
    fused = compare(names, seeds=[0], progress=None, **TINY)
    sequential = compare(names, seeds=[0], progress=None, fused=False, **TINY)
    for a, b in zip(fused, sequential, strict=True):
        assert a["scheme"] == b["scheme"] and a["fused_with"] == names
        assert "fused_with" not in b
        np.testing.assert_allclose(a["curve"]["test"], b["curve"]["test"], rtol=1e-5)
        np.testing.assert_allclose(a["curve"]["train"], b["curve"]["train"], rtol=1e-5)
        np.testing.assert_allclose(
            a["diagnostics"][0]["grad_norms"],
            b["diagnostics"][0]["grad_norms"],
            rtol=1e-6,
        )


def test_fused_diverging_branch_cannot_poison_the_others():
    from keras_rnninit import SpectralRadius, XavierRNN, schemes

    exploding = schemes.Scheme(
        "exploding_fused",
        "SpectralRadius(3) with relu",
        kernel=lambda u, s: XavierRNN(gain=3.0, seed=s),
        recurrent=lambda u, s: SpectralRadius(3.0, seed=s),
        output=lambda u, s: XavierRNN(seed=s),
        activation="relu",
    )
    settings = {**TINY, "length": 60, "learning_rate": 1.0, "clipnorm": 1.0}
    bad, good = compare([exploding, "xavier_rnn"], seeds=[0], progress=None, **settings)
    alone = compare(["xavier_rnn"], seeds=[0], progress=None, **settings)[0]
    assert bad["diverged"] is not None and bad["diverged"]["step"] <= 200
    assert good["diverged"] is None
    np.testing.assert_allclose(good["curve"]["test"], alone["curve"]["test"], rtol=1e-5)


def test_repeated_scheme_names_are_refused():
    with pytest.raises(ValueError, match="`schemes` must not repeat a name"):
        compare(["he", "he"], progress=None, **TINY)
