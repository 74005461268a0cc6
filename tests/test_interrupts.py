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
    def __init__(self, raised):
        self.raised = raised

    def __del__(self):
        # raise_signal: delivered to this thread, handled before it returns,
        # so the handler's KeyboardInterrupt is raised inside __del__ ...
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            self.raised.append(KeyboardInterrupt)
            raise  # ... and lost: it cannot leave a finalizer


class _Raises:
    def __init__(self, error):
        self.error = error

    def __del__(self):
        raise self.error


@pytest.fixture
def reported(monkeypatch):
    """What reaches the unraisable hook in place before a block starts
    (Python's default one prints it as "Exception ignored in ...")."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))
    return seen


@pytest.fixture
def swallowed(reported):
    """Ctrl-C pressed while a finalizer runs. Returns the KeyboardInterrupts
    raised inside it (which Python swallows) and what was reported."""

    def press():
        raised = []
        _Finalizer(raised)  # collected at once: its __del__ runs here
        return raised, list(reported)

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
            # Raised inside the finalizer, lost there, and not reported.
            assert swallowed() == ([KeyboardInterrupt], [])
            interrupted()
            pytest.fail("the check did not raise")


def test_raise_now_a_swallowed_ctrl_c_prints_nothing(monkeypatch, capsys):
    # Python's own hook: what it would print ("Exception ignored in ..." and
    # a traceback) once broke a CLI test that asserts no Traceback.
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt(raise_now=True):
            raised = []
            _Finalizer(raised)
            assert raised == [KeyboardInterrupt]
    assert capsys.readouterr().err == ""
    # The same finalizer error without the block is printed by that hook.
    _Raises(ValueError("not a Ctrl-C"))
    assert "Exception ignored in" in capsys.readouterr().err


def test_raise_now_other_unraisable_exceptions_are_still_reported(reported):
    before = sys.unraisablehook
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt(raise_now=True) as interrupted:
            # A KeyboardInterrupt that is not a remembered Ctrl-C is reported.
            _Raises(KeyboardInterrupt())
            _Raises(ValueError("a finalizer bug"))
            assert reported == [KeyboardInterrupt, ValueError]
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass
            # After a Ctrl-C: other errors still are, a KeyboardInterrupt not.
            _Raises(KeyboardInterrupt())
            _Raises(OSError("another"))
            assert reported == [KeyboardInterrupt, ValueError, OSError]
            interrupted()
    assert sys.unraisablehook is before


def test_without_raise_now_the_unraisable_hook_is_left_alone(reported):
    before = sys.unraisablehook
    with deferred_interrupt():
        assert sys.unraisablehook is before
    assert sys.unraisablehook is before


def test_a_hook_installed_inside_the_block_is_not_undone(reported):
    mine = reported.append
    with deferred_interrupt(raise_now=True):
        sys.unraisablehook = mine
    assert sys.unraisablehook is mine


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
            assert swallowed() == ([KeyboardInterrupt], [])

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
        assert swallowed() == ([KeyboardInterrupt], [])

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
