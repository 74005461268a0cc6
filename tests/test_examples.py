"""Smoke test: every example runs in --quick mode and writes what it claims."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, out):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, "examples", name), "--quick", "--out", out],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_quickstart(tmp_path):
    out = run_example("quickstart.py", str(tmp_path))
    for kind in ("simple_rnn", "cell"):
        assert os.path.getsize(tmp_path / f"quickstart_{kind}.keras") > 0
    assert out.count("reloaded predictions identical: True") == 2
