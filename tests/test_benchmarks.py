"""The benchmark scripts run at a tiny size, so they cannot rot."""

import json
import os

from tests.helpers import REPO, run_python


def run_quick(script, tmp_path, out_name="result.json"):
    out = tmp_path / out_name
    done = run_python(os.path.join(REPO, "benchmarks", script), "--quick", "--out", out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout


def test_compare_adding_quick(tmp_path):
    out, stdout = run_quick("compare_adding.py", tmp_path, "adding")
    report = json.loads((out / "report.json").read_text())
    assert [row["scheme"] for row in report["summary"]] == ["xavier_rnn", "uniform01"]
    assert "| `xavier_rnn` |" in stdout


def test_callbacks_overhead_quick(tmp_path):
    out, _ = run_quick("callbacks_overhead.py", tmp_path)
    result = json.loads(out.read_text())
    assert result["overhead_ratio"] > 0 and len(result["fit_seconds_with"]) == 1


def test_step_time_quick(tmp_path):
    out, stdout = run_quick("step_time.py", tmp_path)
    row = json.loads(out.read_text())["rows"][0]
    assert set(row["speedup_median"]) == {
        "SimpleRNN",
        "XavierRNNCell",
        "FastSimpleRNN",
        "SimpleRNN+XLA",
        "FastSimpleRNN+XLA",
    }
    assert row["speedup_median"]["SimpleRNN"] == 1.0 and "| 10 | 8 |" in stdout


def test_export_latency_quick(tmp_path):
    out, _ = run_quick("export_latency.py", tmp_path)
    result = json.loads(out.read_text())
    assert set(result["rows"]) == {
        "keras_eager",
        "tf_function",
        "litert_while",
        "litert_unrolled",
        "litert_float16",
    }
    assert result["rows"]["litert_while"]["max_abs_error"] <= 1e-5


def test_fused_compare_quick(tmp_path):
    out, stdout = run_quick("fused_compare.py", tmp_path)
    result = json.loads(out.read_text())
    assert result["fused_vs_one"] > 0 and len(result["schemes"]) == 6
    assert "6 schemes fused" in stdout
