"""The compare-folder tests' background jobs: a seconds-long `compare`
started as a user starts it, and how to wait on it."""

import os
import signal
import subprocess
import sys
import threading
import time

from tests.helpers import REPO, python_env, tiny_compare_argv

SCHEMES, SEEDS, STEPS = "xavier_rnn,uniform01", "0,1", 100


RUNS = [f"{s}-seed{n}" for s in SCHEMES.split(",") for n in SEEDS.split(",")]


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


def kill(process):
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    process.reader.join(timeout=60)


def names(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def without_time(record):
    return {k: v for k, v in record.items() if k != "wall_seconds"}
