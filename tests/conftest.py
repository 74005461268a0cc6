"""Suite-wide settings: the Hypothesis tests are deterministic like the rest,
and every test gets a fresh budget of XLA-compiled shapes.

With `derandomize=True` Hypothesis draws its examples from a fixed seed (and
keeps no example database), so every run of the suite tries the same inputs.
"""

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True)
def _xla_shape_budget(monkeypatch):
    """Each test starts with FastSimpleRNN's whole budget of XLA-compiled
    shapes, so whether a call runs compiled never depends on the tests that
    ran before it in the same process."""
    from keras_rnninit import recurrence

    monkeypatch.setattr(recurrence, "_compiled", set())
