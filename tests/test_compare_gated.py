"""Comparisons of LSTM and GRU schemes: the same runner, store and report."""

import keras
import numpy as np
import pytest

from keras_rnninit.compare import CompareConfig, compare
from keras_rnninit.compare.report import write_report
from keras_rnninit.compare.runner import check_runs

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="gated diagnostics: TensorFlow"
)
TINY = {"length": 6, "units": 4, "steps": 200, "eval_every": 100, "test_size": 64}


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fused_gated_comparison_trains_the_named_cell(tmp_path, cell):
    schemes = ["keras_default", "chrono", "orthogonal"]
    records = compare(
        schemes, seeds=[0], progress=False, save_dir=str(tmp_path), cell=cell, **TINY
    )
    assert [r["scheme"] for r in records] == schemes
    layer_type = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    for record in records:
        assert record["config"]["cell"] == cell
        assert len(record["curve"]["test"]) == 2
        model = keras.saving.load_model(record["model_path"])
        rnn = model.get_layer(f"{record['scheme']}_rnn")
        assert type(rnn) is layer_type
        # The recorded final test metric is the saved model's.
        x, y = _test_set(cell)
        mse = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
        assert mse == pytest.approx(record["final_test"], rel=1e-4)
    # The report names the layer that trained, not SimpleRNN.
    (tmp_path / "report").mkdir()
    write_report(records, str(tmp_path / "report"))
    text = (tmp_path / "report" / "report.md").read_text()
    layer = {"lstm": "LSTM", "gru": "GRU"}[cell]
    assert f"\n{layer}(4) + Dense, Adam 0.001" in text and "SimpleRNN" not in text


def _test_set(cell):
    from keras_rnninit import tasks

    task = tasks.get("adding")
    return task.test_data(TINY["test_size"], TINY["length"], seed=0)


def test_fused_gated_runs_equal_one_model_per_run():
    options = dict(seeds=[1], progress=False, cell="lstm", **TINY)
    fused = compare(["keras_default", "chrono"], **options)
    alone = compare(["keras_default", "chrono"], fused=False, **options)
    for a, b in zip(fused, alone, strict=True):
        np.testing.assert_allclose(a["curve"]["test"], b["curve"]["test"], rtol=1e-4)


def test_a_scheme_without_the_cell_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="'irnn' supports simple"):
        check_runs(["keras_default", "irnn"], [0], cell="lstm")
    with pytest.raises(ValueError, match="`schemes` must support cell 'gru'"):
        compare(["irnn"], seeds=[0], save_dir=str(tmp_path), cell="gru", **TINY)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="`cell` must be one of gru, lstm, simple"):
        CompareConfig(cell="rnn")


def test_resumed_fused_seed_counts_only_new_runs():
    import io
    import re

    options = dict(seeds=[0], length=6, units=4, steps=100, eval_every=100)
    first = compare(["xavier_rnn", "uniform01"], progress=False, **options)
    stream = io.StringIO()
    again = compare(
        ["xavier_rnn", "uniform01"],
        progress=stream,
        completed={("xavier_rnn", 0): first[0]},
        **options,
    )
    assert again[0] is first[0]
    counts = re.findall(r"runs (\d+)/(\d+) done", stream.getvalue())
    assert counts[-1] == ("2", "2")


def test_cli_compares_lstm_schemes_and_refuses_a_simple_only_scheme(tmp_path):
    from tests.helpers import run_python, tiny_compare_argv

    out = tmp_path / "lstm"
    argv = tiny_compare_argv(out, "keras_default,chrono", "0,1", 100, "--cell", "lstm")
    done = run_python(*argv, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    report = json.loads((out / "report.json").read_text())
    assert {r["config"]["cell"] for r in report["records"]} == {"lstm"}
    bad = run_python(
        *tiny_compare_argv(tmp_path / "bad", "irnn", "0", 100, "--cell", "gru")
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "'irnn' supports simple" in bad.stderr
    assert not (tmp_path / "bad").exists() and not (tmp_path / "bad.partial").exists()
