"""The comparison runner and the report writer, on tiny real runs."""

import json
import math

import pytest

from keras_rnninit.compare import CompareConfig, compare
from keras_rnninit.compare.report import jsonable
from tests.helpers import (
    TINY,
)

LONG_RANGE = ["critical_tanh", "irnn_xavier", "np_rnn", "spectral_095", "uniform_diag"]


@pytest.mark.slow
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


@pytest.mark.slow
def test_same_seed_same_curves(records):
    again = compare(["xavier_rnn"], seeds=[0], progress=None, **TINY)[0]
    assert again["curve"] == records[0]["curve"]
    assert (
        again["diagnostics"][0]["grad_norms"]
        == records[0]["diagnostics"][0]["grad_norms"]
    )


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_long_range_schemes_in_compare():
    records = compare(
        LONG_RANGE, seeds=[0], progress=None, length=6, units=4, steps=200
    )
    assert [r["scheme"] for r in records] == LONG_RANGE
    assert all(math.isfinite(r["final_test"]) for r in records)
