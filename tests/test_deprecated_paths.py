"""Public names that moved keep their old import path for one minor version,
with a DeprecationWarning naming the new one (CHANGELOG.md's policy)."""

import importlib

import pytest

# (old module, name, new module): one row per moved name.
MOVED = [
    ("keras_rnninit.initializers.base", "derive_seed", "keras_rnninit.seeding"),
]


def test_the_old_claim_bounds_still_read_with_a_warning():
    from keras_rnninit.compare import Claim, statistics

    with pytest.warns(DeprecationWarning, match=r"claim=Claim\("):
        bounds = statistics.CLAIM
    default = Claim("a", ["b"])
    assert bounds == (default.low, default.high)


@pytest.mark.parametrize("old, name, new", MOVED)
def test_old_path_warns_and_gives_the_same_object(old, name, new):
    with pytest.warns(DeprecationWarning, match=rf"{new}\.{name}"):
        moved = getattr(importlib.import_module(old), name)
    assert moved is getattr(importlib.import_module(new), name)


@pytest.mark.parametrize("old, name, new", MOVED)
def test_from_import_of_the_old_path_works(old, name, new):
    namespace = {}
    with pytest.warns(DeprecationWarning):
        exec(f"from {old} import {name}", namespace)  # noqa: S102
    assert namespace[name] is getattr(importlib.import_module(new), name)
