"""The suite is deterministic: Hypothesis draws the same examples every run."""

from hypothesis import given, settings
from hypothesis import strategies as st


def test_hypothesis_profile_is_derandomized():
    assert settings.default.derandomize and settings.default.database is None


def test_hypothesis_draws_the_same_examples_twice():
    seen = []

    @settings(max_examples=10, deadline=None)
    @given(st.integers(0, 2**31 - 1))
    def draw(seed):
        seen.append(seed)

    draw()
    first = list(seen)
    seen.clear()
    draw()
    assert seen == first and len(first) == 10
