"""Suite-wide settings: the Hypothesis tests are deterministic like the rest,
every test gets a fresh budget of XLA-compiled shapes, and every test starts
from the same random state (Keras' global seed and a module's shared `RNG`),
whatever ran before it in the same worker.

With `derandomize=True` Hypothesis draws its examples from a fixed seed (and
keeps no example database), so every run of the suite tries the same inputs.
"""

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True, scope="session")
def _one_backend_for_every_process():
    """The processes the tests start (the command line, examples, scripts,
    Ray workers) run on this suite's backend: the CLI would otherwise choose
    its own (`keras_rnninit/utils/backends.py`), and a test that compares
    a child's numbers with this process's needs the same arithmetic. Tests
    of that choice clear the variable for their child."""
    import os

    import keras

    os.environ["KERAS_BACKEND"] = keras.backend.backend()


@pytest.fixture(autouse=True)
def _xla_shape_budget(monkeypatch):
    """Each test starts with FastSimpleRNN's whole budget of XLA-compiled
    shapes, so whether a call runs compiled never depends on the tests that
    ran before it in the same process."""
    from keras_rnninit.layers.recurrence import tensorflow as recurrence

    monkeypatch.setattr(recurrence, "_compiled", set())


_RNG_STATES = {}


@pytest.fixture(autouse=True)
def _seeded(request):
    """Every test starts from the same random state: Keras' global seed (which
    unseeded initializers, dropout and shuffling draw from) is reset, and a
    test module's `RNG` (a seeded numpy Generator its tests share) is rewound
    to its state at the module's first test. So the numbers a test sees do not
    depend on which tests ran before it in the same worker (pytest-xdist hands
    tests out in a different order every run). A module-scoped fixture runs
    before this rewind, so it must not draw from `RNG`; a legacy
    `np.random.RandomState` named `RNG` is not rewound."""
    import keras

    keras.utils.set_random_seed(0)
    rng = getattr(request.module, "RNG", None)
    if isinstance(rng, np.random.Generator):
        state = _RNG_STATES.setdefault(request.module.__name__, rng.bit_generator.state)
        rng.bit_generator.state = state


@pytest.fixture(autouse=True, scope="session")
def _ctrl_c_reaches_us():
    """Ctrl-C raises KeyboardInterrupt in this process and in the processes
    its tests start, however the suite was started. A shell starts a
    background job (`make test &`) with SIGINT ignored, and an ignored signal
    stays ignored across fork and exec, so the tests that send Ctrl-C would
    reach nobody (the interrupted comparison would run to its end). A handled
    signal is reset to the default in an exec'd child, where Python installs
    its own handler again."""
    import signal

    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)
