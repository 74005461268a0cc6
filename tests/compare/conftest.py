"""The compare tests' shared artifact: one uninterrupted comparison, the
reference that the kill, resume and lock tests compare their records with
(computed once per worker, not once per module)."""

import pytest

from tests.compare.helpers import SCHEMES, SEEDS, STEPS
from tests.helpers import run_python, tiny_compare_argv


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """An uninterrupted comparison."""
    out = tmp_path_factory.mktemp("reference") / "cmp"
    done = run_python(*tiny_compare_argv(out, SCHEMES, SEEDS, STEPS), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return out
