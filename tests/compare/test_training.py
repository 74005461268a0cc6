"""The comparison runner and the report writer, on tiny real runs."""

import os

import keras
import numpy as np
import pytest

from keras_rnninit import schemes
from keras_rnninit.compare import CompareConfig, compare
from keras_rnninit.compare.report import write_report
from keras_rnninit.compare.runner import check_runs
from tests.helpers import (
    TINY,
)

# The LSTM and GRU comparisons diagnose gated cells: TensorFlow only.
gated_tf_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="gated diagnostics: TensorFlow"
)


GATED_TINY = {"length": 6, "units": 4, "steps": 200, "eval_every": 100, "test_size": 64}


def _test_set(cell):
    from keras_rnninit import tasks

    task = tasks.get("adding")
    return task.test_data(GATED_TINY["test_size"], GATED_TINY["length"], seed=0)


@pytest.mark.slow
def test_wall_seconds_share_the_fused_fit_time(timed):
    # Fused, each of the K runs is charged the fit time / K: equal shares
    # that add up to less than the whole call, timed here independently.
    records, elapsed = timed
    shares = [r["wall_seconds"] for r in records]
    assert shares[0] == shares[1] and 0 < sum(shares) < elapsed
    # The fit is most of the call: at least 200 steps of training happened.
    assert sum(shares) > elapsed / 4, (shares, elapsed)


@pytest.mark.slow
def test_diverging_run_is_recorded_and_others_go_on():
    from keras_rnninit import SpectralRadius, XavierRNN

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_fused_diverging_branch_cannot_poison_the_others():
    from keras_rnninit import SpectralRadius, XavierRNN

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


@pytest.mark.slow
@gated_tf_only
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fused_gated_comparison_trains_the_named_cell(tmp_path, cell):
    schemes = ["keras_default", "chrono", "orthogonal"]
    records = compare(
        schemes,
        seeds=[0],
        progress=False,
        save_dir=str(tmp_path),
        cell=cell,
        **GATED_TINY,
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


@pytest.mark.slow
@gated_tf_only
def test_fused_gated_runs_equal_one_model_per_run():
    options = dict(seeds=[1], progress=False, cell="lstm", **GATED_TINY)
    fused = compare(["keras_default", "chrono"], **options)
    alone = compare(["keras_default", "chrono"], fused=False, **options)
    for a, b in zip(fused, alone, strict=True):
        np.testing.assert_allclose(a["curve"]["test"], b["curve"]["test"], rtol=1e-4)


def test_a_length_aware_scheme_is_set_for_the_task_length():
    resolved, _ = check_runs(["chrono_length", "chrono"], [0], cell="lstm", length=40)
    assert [s.name for s in resolved] == ["chrono_length", "chrono"]
    biases = [s.initializers(4, 0, cell="lstm").bias for s in resolved]
    assert [b.max_length for b in biases] == [60.0, 100.0]  # 3T/2; chrono's own
    # Without a task length (a comparison on your own model): refused.
    with pytest.raises(
        ValueError,
        match=r"^`schemes` must not hold a length-aware scheme \('chrono_length' "
        r"takes T from a built-in task's `length`\).*"
        r"Received: schemes=\['chrono', 'chrono_length'\]$",
    ):
        check_runs(["chrono", "chrono_length"], [0], cell=None)


@gated_tf_only
def test_a_scheme_without_the_cell_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="'irnn' supports simple"):
        check_runs(["keras_default", "irnn"], [0], cell="lstm")
    with pytest.raises(ValueError, match="`schemes` must support cell 'gru'"):
        compare(["irnn"], seeds=[0], save_dir=str(tmp_path), cell="gru", **GATED_TINY)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="`cell` must be one of gru, lstm, simple"):
        CompareConfig(cell="rnn")
