import os
import re
import subprocess
import sys

import pytest

from keras_rnninit import __version__
from keras_rnninit.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_main(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_help_and_version(capsys):
    code, out, _ = run_main(capsys, "--help")
    assert code == 0 and "demo" in out
    code, out, _ = run_main(capsys, "--version")
    assert code == 0 and out.strip() == __version__


@pytest.mark.parametrize("argv, fragment", [
    ([], "the following arguments are required: COMMAND"),
    (["nope"], "invalid choice: 'nope'"),
    (["demo", "--steps", "0"], "must be a positive int. Received: '0'"),
    (["demo", "--steps", "ten"], "must be a positive int. Received: 'ten'"),
    (["demo", "--seed", "-1"], "must be an int >= 0. Received: '-1'"),
    (["demo", "--length", "1"], "`length` must be an int >= 2. Received: length=1"),
])
def test_usage_errors_are_one_line_exit_2(capsys, argv, fragment):
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1
    assert re.match(r"keras-rnninit( demo)?: error: ", err)
    assert fragment in err


def test_demo_trains_and_reports(capsys):
    code, out, err = run_main(
        capsys, "demo", "--steps", "100", "--length", "6", "--units", "8", "--quiet")
    assert code == 0, err
    assert "scheme            xavier_rnn" in out
    assert "best_test_mse" in out and "baseline_mse      0.1667" in out


def test_python_dash_m_entry_point():
    env = dict(os.environ, PYTHONPATH=REPO)
    done = subprocess.run([sys.executable, "-m", "keras_rnninit", "--version"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == __version__
