"""A comparison's folder under kills, stray files and a second job (real CLI
subprocesses, seconds-long runs)."""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

import keras_rnninit  # noqa: F401  (registers the layers the saved models use)
from tests.helpers import REPO, python_env, run_python, tiny_compare_argv

# One worker under pytest-xdist, so the module's uninterrupted reference run
# (`reference`) is computed once, not once per worker.
pytestmark = pytest.mark.xdist_group("compare_folder")


SCHEMES, SEEDS, STEPS = "xavier_rnn,uniform01", "0,1", 100


def start(out, *extra):
    """A compare job in the background; its stderr collects in `.err`."""
    process = subprocess.Popen(
        [sys.executable, *tiny_compare_argv(out, SCHEMES, SEEDS, STEPS, *extra)],
        env=python_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.err = []
    process.reader = threading.Thread(
        target=lambda: process.err.extend(process.stderr), daemon=True
    )
    process.reader.start()
    return process


def started(process):
    """True once the job holds its folder (it prints `Comparing ...`)."""
    return any(line.startswith("Comparing") for line in process.err)


def wait_for(condition, process, what, timeout=240):
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"exited before {what}: {''.join(process.err)}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def without_time(record):
    return {k: v for k, v in record.items() if k != "wall_seconds"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted comparison."""
    out = tmp_path_factory.mktemp("reference") / "cmp"
    done = run_python(*tiny_compare_argv(out, SCHEMES, SEEDS, STEPS), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def test_second_job_on_a_running_folder_is_refused(reference, tmp_path):
    out = tmp_path / "cmp"
    first = start(out)
    lock = tmp_path / "cmp.lock"
    wait_for(lambda: started(first), first, "the lock")
    assert lock.read_text().strip() == str(first.pid)
    first.send_signal(signal.SIGSTOP)  # holds its lock, trains nothing
    try:
        for extra in ([], ["--force"], ["--resume"]):
            second = run_python(
                *tiny_compare_argv(out, SCHEMES, SEEDS, STEPS, *extra), timeout=300
            )
            assert second.returncode == 2, (extra, second.stderr[-2000:])
            assert (
                f"`out` is in use by a running comparison (pid {first.pid})"
                in second.stderr
            ), second.stderr
            assert second.stderr.count("keras-rnninit:") == 1, second.stderr
            assert (tmp_path / "cmp.partial" / "runs").is_dir()  # not deleted
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=300) == 0, "".join(first.err)[-2000:]
    report = json.loads((out / "report.json").read_text())
    for record in report["records"]:
        assert (out / record["model_path"]).is_file()
    assert not lock.exists()
    assert [without_time(r) for r in report["records"]] == [
        without_time(r)
        for r in json.loads((reference / "report.json").read_text())["records"]
    ]
