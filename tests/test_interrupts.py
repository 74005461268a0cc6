"""`executors.deferred_interrupt`: Ctrl-C during a Ray comparison is raised
where the driver loop checks for it, not inside Ray's calls."""

import os
import signal
import threading

import pytest

from keras_rnninit.compare.executors import deferred_interrupt


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
