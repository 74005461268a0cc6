"""The compare tests' shared artifacts, computed once per worker (not once
per module): a fused in-process comparison and its records, which the runner,
training and report tests read, and one uninterrupted command-line
comparison (run in this process), the reference that the kill, resume and
lock tests compare their records with."""

import time

import pytest

from keras_rnninit.compare import compare
from tests.compare.helpers import SCHEMES, SEEDS, STEPS
from tests.helpers import TINY, tiny_compare_argv


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """An uninterrupted comparison: the command line, run in this process
    (the interrupted jobs it is compared with are real processes, so the
    comparison also checks that records do not depend on the process)."""
    from keras_rnninit.cli import main

    out = tmp_path_factory.mktemp("reference") / "cmp"
    assert main(tiny_compare_argv(out, SCHEMES, SEEDS, STEPS)[2:]) == 0
    return out


@pytest.fixture(scope="session")
def timed():
    """The records of a fused comparison and the seconds it took (own clock)."""
    start = time.perf_counter()
    records = compare(["xavier_rnn", "uniform01"], seeds=[0], progress=None, **TINY)
    return records, time.perf_counter() - start


@pytest.fixture(scope="session")
def records(timed):
    return timed[0]
