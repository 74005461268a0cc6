"""A comparison's folder under kills, stray files and a second job: the
running job is a real CLI subprocess (seconds long); the second job, refused
by its lock, is the command line in this process."""

import json
import signal

import pytest

import keras_rnninit  # noqa: F401  (registers the layers the saved models use)
from tests.compare.helpers import (
    SCHEMES,
    SEEDS,
    STEPS,
    start,
    started,
    wait_for,
    without_time,
)
from tests.helpers import run_main, tiny_compare_argv

# One worker under pytest-xdist, so the module's uninterrupted reference run
# (`reference`) is computed once, not once per worker.
pytestmark = pytest.mark.xdist_group("compare_folder")


@pytest.mark.slow
def test_second_job_on_a_running_folder_is_refused(reference, tmp_path, capsys):
    out = tmp_path / "cmp"
    first = start(out)
    lock = tmp_path / "cmp.lock"
    wait_for(lambda: started(first), first, "the lock")
    assert lock.read_text().strip() == str(first.pid)
    first.send_signal(signal.SIGSTOP)  # holds its lock, trains nothing
    try:
        # The second job is the command line in this process: the refusal
        # comes from the lock file, whoever asks.
        for extra in ([], ["--force"], ["--resume"]):
            argv = tiny_compare_argv(out, SCHEMES, SEEDS, STEPS, *extra)[2:]
            code, _, err = run_main(capsys, *argv)
            assert code == 2, (extra, err[-2000:])
            assert f"`out` is in use by a running comparison (pid {first.pid})" in err
            assert err.count("keras-rnninit:") == 1, err
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
