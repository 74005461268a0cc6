"""The suite's own rules: Hypothesis draws the same examples every run, the
tests mirror the package and share code only through helpers.py and
conftest.py, and the package's rooms import only lower floors (docs/design.md)."""

import ast

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


# Where the modules without a test module of their own are tested.
TESTED_ELSEWHERE = {
    "keras_rnninit/__main__.py": "tests/cli/test_parser.py",  # python -m keras_rnninit
    "keras_rnninit/_registration.py": "tests/test_package.py",
    "keras_rnninit/version.py": "tests/test_package.py",
    "keras_rnninit/compare/plots.py": "tests/compare/test_report.py",  # its PNGs
    "keras_rnninit/export/flatbuffer.py": "tests/export/test_fused.py",
    # The recurrence package: one test module for its dispatch and both kernels.
    "keras_rnninit/layers/recurrence/jax.py": "tests/layers/test_recurrence.py",
    "keras_rnninit/layers/recurrence/tensorflow.py": "tests/layers/test_recurrence.py",
}


def _repo_files(folder, suffix=".py"):
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path, _, names in os.walk(os.path.join(root, folder)):
        for name in names:
            if name.endswith(suffix):
                yield os.path.relpath(os.path.join(path, name), root).replace(
                    os.sep, "/"
                )


def test_the_tests_mirror_the_package():
    """keras_rnninit/a/b.py is tested in tests/a/test_b.py (a leading
    underscore dropped), a package's __init__ by its folder's tests."""
    import os

    tests = set(_repo_files("tests"))
    missing = []
    for module in sorted(_repo_files("keras_rnninit")):
        folder, name = os.path.split(module[len("keras_rnninit/") :])
        if name == "__init__.py":
            continue
        expected = "/".join(filter(None, ["tests", folder, "test_" + name.lstrip("_")]))
        where = TESTED_ELSEWHERE.get(module, expected)
        if where not in tests:
            missing.append(f"{module} -> {where}")
    assert not missing, missing
    assert all(v in tests for v in TESTED_ELSEWHERE.values())


def test_test_modules_share_helpers_only_through_helpers_and_conftest():
    import ast

    wrong = []
    for path in _repo_files("tests"):
        tree = ast.parse(open(path, encoding="utf-8").read())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                last = name.split(".")[-1]
                if name.startswith("tests") and last.startswith("test_"):
                    wrong.append(f"{path}: {name}")
    assert not wrong, wrong


# The floors of docs/design.md: a room imports only rooms on lower floors
# (inside functions too); the root's plumbing may import anything.
FLOORS = {
    "utils": 0,
    "initializers": 1,
    "tasks": 1,
    "export": 1,
    "layers": 2,
    "schemes": 2,
    "diagnostics": 3,
    "compare": 4,
    "cli": 5,
}


def _imported_modules(path, tree):
    """(line, dotted module) for every import in `path`'s source: import
    statements anywhere (inside functions too), relative ones resolved, the
    root's lazy names (`from keras_rnninit import FastSimpleRNN`) mapped to
    the module that defines them, and `importlib.import_module` / `__import__`
    calls with a literal name."""
    import keras_rnninit  # lazy: imports no Keras

    package = path[: -len(".py")].split("/")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                above = package[: len(package) - node.level + 1]
                base = ".".join(filter(None, [*above, base]))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if base == "keras_rnninit":
                    full = keras_rnninit._ATTRIBUTES.get(alias.name, full)
                yield node.lineno, full
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def test_rooms_import_only_lower_floors():
    import os

    upward = []
    for path in _repo_files("keras_rnninit"):
        parts = path.split("/")
        if len(parts) < 3:  # the root's own modules
            continue
        room = parts[1]
        tree = ast.parse(open(path, encoding="utf-8").read())
        for line, target in _imported_modules(path, tree):
            bits = target.split(".")
            if bits[0] != "keras_rnninit" or len(bits) < 2:
                continue
            other = bits[1]
            if other in FLOORS and other != room and FLOORS[other] >= FLOORS[room]:
                upward.append(f"{path}:{line} {room} -> {other}")
    package = os.path.join(os.path.dirname(os.path.dirname(__file__)), "keras_rnninit")
    assert FLOORS.keys() == {
        d for d in os.listdir(package) if os.path.isfile(f"{package}/{d}/__init__.py")
    }
    assert not upward, upward
