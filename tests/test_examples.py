"""Smoke test: every example runs in --quick mode and writes what it claims."""

import os

import pytest

from tests.helpers import REPO, run_python

CLAIMS = {
    "quickstart.py": ["quickstart_simple_rnn.keras", "quickstart_cell.keras"],
    "char_rnn.py": [
        "char_rnn/report.md",
        "char_rnn/loss_curves.png",
        "char_rnn/models/xavier_rnn-seed0.keras",
    ],
    "adding_problem.py": ["adding_grad_through_time.png"],
    "copy_task.py": ["copy_task/report.md", "copy_task/grad_through_time.png"],
    "export_to_tflite.py": [
        "adding.keras",
        "adding_f32.tflite",
        "adding_f16.tflite",
        "adding_f32.json",
        "export_parity.png",
    ],
    "your_own_data.py": ["your_own_data/report.md", "your_own_data/loss_curves.png"],
}
PRINTS = {
    "quickstart.py": "reloaded predictions identical: True",
    "char_rnn.py": "uniform01: test loss",
    "adding_problem.py": "test MSE < 0.01 first at step",
    "copy_task.py": "| `irnn` |",
    "export_to_tflite.py": "adding_f16.tflite",
    "your_own_data.py": "keras_default seed 0: best val_loss",
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(CLAIMS))
def test_example_quick(script, tmp_path):
    done = run_python(
        os.path.join(REPO, "examples", script), "--quick", "--out", tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for claim in CLAIMS[script]:
        assert (tmp_path / claim).stat().st_size > 0, claim
    assert PRINTS[script] in done.stdout
    if script == "adding_problem.py":
        assert_adding_solved(done.stdout)


def assert_adding_solved(stdout):
    """The quick adding run (seeded) reaches test MSE < 0.01, and the step it
    reports is the end of the first epoch whose printed test MSE is < 0.01."""
    lines = stdout.splitlines()
    reached = next(line for line in lines if "first at step" in line)
    step = reached.rsplit(":", 1)[1].strip()
    assert step.isdigit(), reached  # not 'never'
    table = [line.split() for line in lines]
    mse = [float(row[1]) for row in table if len(row) == 5 and row[0].isdigit()]
    first = next(epoch for epoch, value in enumerate(mse, 1) if value < 0.01)
    assert int(step) == 100 * first, (step, mse)  # 100 steps per epoch
    assert mse[0] > 0.1  # it started unsolved: the baseline MSE is 1/6
