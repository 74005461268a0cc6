"""Public names that moved keep their old import path for one minor version,
with a DeprecationWarning naming the new one (CHANGELOG.md's policy)."""

import importlib
import sys

import pytest

from keras_rnninit._moved import MOVED as MOVED_MODULES

# (old module, name, new module): one row per moved name.
MOVED = [
    ("keras_rnninit.initializers.base", "derive_seed", "keras_rnninit.utils.seeding"),
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


# The modules that moved in 0.2 (keras_rnninit/_moved.py).
@pytest.mark.parametrize("old", sorted(MOVED_MODULES))
def test_old_module_path_warns_and_is_the_new_module(old, monkeypatch):
    new = importlib.import_module(MOVED_MODULES[old])
    parent, _, leaf = old.rpartition(".")
    for _ in range(2):  # `import old` and `from parent import leaf`, each fresh
        if leaf in vars(sys.modules[parent]):  # (hasattr would import it)
            monkeypatch.delattr(sys.modules[parent], leaf)
        monkeypatch.delitem(sys.modules, old, raising=False)
        with pytest.warns(DeprecationWarning, match=rf"`{MOVED_MODULES[old]}`") as seen:
            namespace = {}
            exec(f"import {old} as moved; from {parent} import {leaf}", namespace)  # noqa: S102
        assert namespace["moved"] is new and namespace[leaf] is new
        assert new.__spec__.name == MOVED_MODULES[old]  # not the alias'
        # The warning points at the user's import line, not at importlib.
        lines = {w.filename for w in seen if w.category is DeprecationWarning}
        assert lines == {"<string>"}
