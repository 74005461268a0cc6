"""`executors.deferred_interrupt`: Ctrl-C during a Ray comparison is raised
where the driver loop checks for it, not inside Ray's calls; during a local
comparison it raises at once, and a KeyboardInterrupt that Python swallowed
(raised inside a finalizer) still stops the comparison at the next check."""

import os
import signal
import sys
import threading

import pytest

from keras_rnninit import schemes
from keras_rnninit.compare import CompareConfig, compare
from keras_rnninit.compare.executors import deferred_interrupt
from keras_rnninit.compare.training import train_one
from tests.helpers import TINY


class _Finalizer:
    def __del__(self):
        # raise_signal: delivered to this thread, handled before it returns,
        # so the handler's KeyboardInterrupt is raised inside __del__.
        signal.raise_signal(signal.SIGINT)


@pytest.fixture
def swallowed(monkeypatch):
    """Ctrl-C pressed while a finalizer runs; returns what Python swallowed."""
    lost = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: lost.append(u.exc_type))

    def press():
        _Finalizer()  # collected at once: its __del__ runs here
        return lost

    return press


def test_ctrl_c_is_raised_only_where_checked():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt() as interrupted:
            interrupted()  # nothing pending: no-op
            os.kill(os.getpid(), signal.SIGINT)
            reached = True  # the signal did not raise here ...
            interrupted()  # ... but here
    assert reached
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_after_the_last_check_still_interrupts():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_no_signal_no_interrupt_and_off_the_main_thread_nothing_changes():
    with deferred_interrupt() as interrupted:
        interrupted()
    seen = []

    def worker():
        with deferred_interrupt() as interrupted:
            interrupted()
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGINT)]


def test_raise_now_raises_at_once_and_restores_the_handler():
    before = signal.getsignal(signal.SIGINT)
    reached = False
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt(raise_now=True):
            signal.raise_signal(signal.SIGINT)
            reached = True
    assert not reached
    assert signal.getsignal(signal.SIGINT) is before


def test_raise_now_a_swallowed_ctrl_c_raises_at_the_next_check(swallowed):
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt(raise_now=True) as interrupted:
            lost = swallowed()
            assert lost == [KeyboardInterrupt]  # Python printed it and went on
            interrupted()
            pytest.fail("the check did not raise")


def test_an_ignored_sigint_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with deferred_interrupt(raise_now=True) as interrupted:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            signal.raise_signal(signal.SIGINT)
            interrupted()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_swallowed_ctrl_c_stops_a_local_comparison_after_the_finished_seed(
    swallowed,
):
    # Before this check existed, the comparison trained seed 1 as well and
    # returned as if nothing had happened (then a save could hang).
    kept = []

    def on_record(record):
        kept.append((record["scheme"], record["seed"]))
        if len(kept) == 1:
            assert swallowed() == [KeyboardInterrupt]

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        compare(
            ["xavier_rnn", "uniform01"],
            seeds=[0, 1],
            progress=None,
            on_record=on_record,
            **TINY,
        )
    assert kept == [("xavier_rnn", 0), ("uniform01", 0)]
    assert signal.getsignal(signal.SIGINT) is before


def test_a_ctrl_c_swallowed_after_the_last_check_still_interrupts(swallowed):
    kept = []

    def on_record(record):
        kept.append(record["seed"])
        assert swallowed() == [KeyboardInterrupt]

    with pytest.raises(KeyboardInterrupt):
        compare(["xavier_rnn"], seeds=[0], progress=None, on_record=on_record, **TINY)
    assert kept == [0]


def test_training_checks_for_ctrl_c_after_every_evaluation():
    calls = []

    def interrupted():
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    config = CompareConfig(**{**TINY, "steps": 400})
    with pytest.raises(KeyboardInterrupt):
        train_one(schemes.get("xavier_rnn"), 0, config, interrupted=interrupted)
    assert len(calls) == 2  # evaluations at steps 100 and 200; 300 never came
