"""`executors._deferred_interrupt`: Ctrl-C during a Ray comparison is raised
where the driver loop checks for it, not inside Ray's calls; during a local
comparison it raises at once, and a KeyboardInterrupt that Python swallowed
(raised inside a finalizer) still stops the comparison at the next check."""

import contextlib
import os
import signal
import sys
import threading

import pytest

from keras_rnninit import schemes
from keras_rnninit.compare import CompareConfig, compare
from keras_rnninit.compare.executors import _deferred_interrupt
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


@contextlib.contextmanager
def unraisable_hook(hook=None):
    """`sys.unraisablehook` is `hook` for the `with` body; yields the types
    of what reached it (with `hook=None`, a hook that only records them).
    Python's default hook prints them as "Exception ignored in ...". Set in
    the test body, not in a fixture: older pytest versions swap their own
    hook in around each test phase, which would undo a fixture's."""
    seen = []

    def record(unraisable):
        seen.append(unraisable.exc_type)
        if hook is not None:
            hook(unraisable)

    before, sys.unraisablehook = sys.unraisablehook, record
    try:
        yield seen
    finally:
        sys.unraisablehook = before


def press_ctrl_c_in_a_finalizer():
    """The KeyboardInterrupts raised inside the finalizer (Python swallows
    them: they cannot leave it)."""
    raised = []
    _Finalizer(raised)  # collected at once: its __del__ runs here
    return raised


def test_ctrl_c_is_raised_only_where_checked():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with _deferred_interrupt() as interrupted:
            interrupted()  # nothing pending: no-op
            os.kill(os.getpid(), signal.SIGINT)
            reached = True  # the signal did not raise here ...
            interrupted()  # ... but here
    assert reached
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_after_the_last_check_still_interrupts():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with _deferred_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_no_signal_no_interrupt_and_off_the_main_thread_nothing_changes():
    with _deferred_interrupt() as interrupted:
        interrupted()
    seen = []

    def worker():
        with _deferred_interrupt() as interrupted:
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
        with _deferred_interrupt(raise_now=True):
            signal.raise_signal(signal.SIGINT)
            reached = True
    assert not reached
    assert signal.getsignal(signal.SIGINT) is before


def test_raise_now_a_swallowed_ctrl_c_raises_at_the_next_check():
    with unraisable_hook() as reported, pytest.raises(KeyboardInterrupt):
        with _deferred_interrupt(raise_now=True) as interrupted:
            assert press_ctrl_c_in_a_finalizer() == [KeyboardInterrupt]
            assert reported == []  # lost there, and not reported
            interrupted()
            pytest.fail("the check did not raise")


def test_raise_now_a_swallowed_ctrl_c_prints_nothing(capsys):
    # Python's own hook: what it would print ("Exception ignored in ..." and
    # a traceback) once broke a CLI test that asserts no Traceback.
    with unraisable_hook(sys.__unraisablehook__) as reported:
        with pytest.raises(KeyboardInterrupt):
            with _deferred_interrupt(raise_now=True):
                assert press_ctrl_c_in_a_finalizer() == [KeyboardInterrupt]
        assert capsys.readouterr().err == "" and reported == []
        # A finalizer's error outside the block is printed by that hook.
        _Raises(ValueError("not a Ctrl-C"))
        assert "Exception ignored in" in capsys.readouterr().err
        assert reported == [ValueError]


def test_raise_now_other_unraisable_exceptions_are_still_reported():
    with unraisable_hook() as reported:
        before = sys.unraisablehook
        with pytest.raises(KeyboardInterrupt):
            with _deferred_interrupt(raise_now=True) as interrupted:
                # A KeyboardInterrupt that is not a remembered Ctrl-C is.
                _Raises(KeyboardInterrupt())
                _Raises(ValueError("a finalizer bug"))
                assert reported == [KeyboardInterrupt, ValueError]
                with pytest.raises(KeyboardInterrupt):
                    signal.raise_signal(signal.SIGINT)
                # After a Ctrl-C other errors still are, a KeyboardInterrupt
                # not (the check below raises it).
                _Raises(KeyboardInterrupt())
                _Raises(OSError("another"))
                assert reported == [KeyboardInterrupt, ValueError, OSError]
                interrupted()
        assert sys.unraisablehook is before


def test_without_raise_now_the_unraisable_hook_is_left_alone():
    with unraisable_hook():
        before = sys.unraisablehook
        with _deferred_interrupt():
            assert sys.unraisablehook is before
        assert sys.unraisablehook is before


def test_a_hook_installed_inside_the_block_is_not_undone_nor_kept_dropping():
    with unraisable_hook() as reported:
        with pytest.raises(KeyboardInterrupt):
            with _deferred_interrupt(raise_now=True):
                ours = sys.unraisablehook
                sys.unraisablehook = mine = lambda u: ours(u)  # chains to ours
                signal.raise_signal(signal.SIGINT)
        assert sys.unraisablehook is mine
        # The block is over: a KeyboardInterrupt from a finalizer is reported
        # again, though `mine` still calls the block's hook.
        _Raises(KeyboardInterrupt())
        assert reported == [KeyboardInterrupt]


def test_an_ignored_sigint_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _deferred_interrupt(raise_now=True) as interrupted:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            signal.raise_signal(signal.SIGINT)
            interrupted()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.slow
def test_a_swallowed_ctrl_c_stops_a_local_comparison_after_the_finished_seed():
    # Before this check existed, the comparison trained seed 1 as well and
    # returned as if nothing had happened (then a save could hang).
    kept = []

    def on_record(record):
        kept.append((record["scheme"], record["seed"]))
        if len(kept) == 1:
            assert press_ctrl_c_in_a_finalizer() == [KeyboardInterrupt]

    before = signal.getsignal(signal.SIGINT)
    with unraisable_hook() as reported, pytest.raises(KeyboardInterrupt):
        compare(
            ["xavier_rnn", "uniform01"],
            seeds=[0, 1],
            progress=None,
            on_record=on_record,
            **TINY,
        )
    assert kept == [("xavier_rnn", 0), ("uniform01", 0)]
    assert KeyboardInterrupt not in reported  # not printed either
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.slow
def test_a_ctrl_c_swallowed_after_the_last_check_still_interrupts():
    kept = []

    def on_record(record):
        kept.append(record["seed"])
        assert press_ctrl_c_in_a_finalizer() == [KeyboardInterrupt]

    with unraisable_hook() as reported, pytest.raises(KeyboardInterrupt):
        compare(["xavier_rnn"], seeds=[0], progress=None, on_record=on_record, **TINY)
    assert kept == [0] and KeyboardInterrupt not in reported


@pytest.mark.slow
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
