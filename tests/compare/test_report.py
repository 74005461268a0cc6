"""The comparison runner and the report writer, on tiny real runs."""

import json

import pytest

from keras_rnninit.compare.report import jsonable, speedups, summarize, write_report


@pytest.mark.slow
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
