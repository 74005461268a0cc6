"""The benchmark scripts run at a tiny size, so they cannot rot."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_compare_adding_quick(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
    out = tmp_path / "adding"
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO, "benchmarks", "compare_adding.py"),
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert [row["scheme"] for row in report["summary"]] == ["xavier_rnn", "uniform01"]
    assert "| `xavier_rnn` |" in done.stdout


def test_callbacks_overhead_quick(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
    out = tmp_path / "overhead.json"
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO, "benchmarks", "callbacks_overhead.py"),
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["overhead_ratio"] > 0 and len(result["fit_seconds_with"]) == 1


def run_quick(script, tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
    out = tmp_path / "result.json"
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO, "benchmarks", script),
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


def test_step_time_quick(tmp_path):
    result, stdout = run_quick("step_time.py", tmp_path)
    row = result["rows"][0]
    assert set(row["speedup_median"]) == {
        "SimpleRNN",
        "XavierRNNCell",
        "FastSimpleRNN",
        "FastSimpleRNN+XLA",
    }
    assert row["speedup_median"]["SimpleRNN"] == 1.0 and "| 10 | 8 |" in stdout


def test_export_latency_quick(tmp_path):
    result, stdout = run_quick("export_latency.py", tmp_path)
    assert set(result["rows"]) == {
        "keras_eager",
        "tf_function",
        "litert_while",
        "litert_unrolled",
        "litert_float16",
    }
    assert result["rows"]["litert_while"]["max_abs_error"] <= 1e-5


def test_fused_compare_quick(tmp_path):
    result, stdout = run_quick("fused_compare.py", tmp_path)
    assert result["fused_vs_one"] > 0 and len(result["schemes"]) == 6
    assert "6 schemes fused" in stdout
