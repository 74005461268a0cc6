"""The documentation: every Python block runs, and the site builds strictly.

A page's ```python blocks run in order in one namespace (a later block may
use what an earlier one made), in a fresh temporary folder, on the backend
the suite runs. A block that needs minutes of training says so on the line
just before its fence, and is then only compiled:

    <!-- docs-test: skip (trains for minutes) -->
"""

import argparse
import os
import re
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import REPO

# A fenced block (``` or ~~~, indented inside a list too) and its language.
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>```|~~~)[ \t]*\{?\.?(?P<lang>[\w+-]*)[^\n]*\n"
    r"(?P<code>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.S | re.M,
)
PYTHON = {"python", "py", "python3", "pycon"}
SKIP = re.compile(r"<!-- docs-test: skip \((?P<reason>[^)]+)\) -->[ \t]*\n[ \t]*$")


def pages():
    found = [os.path.join(REPO, "README.md")]
    for folder, _, files in os.walk(os.path.join(REPO, "docs")):
        found += [os.path.join(folder, f) for f in files if f.endswith(".md")]
    return sorted(p for p in found if blocks(open(p, encoding="utf-8").read()))


def blocks(text):
    """[(line number, code, skip reason or None)] of the Python blocks."""
    out = []
    for match in FENCE.finditer(text):
        if match.group("lang").lower() not in PYTHON:
            continue
        before = text[: match.start()]
        line = before.count("\n") + 1
        skip = SKIP.search(before[-200:])
        code = textwrap.dedent(match.group("code"))
        out.append((line, code, skip and skip.group("reason")))
    return out


def test_blocks_are_found_with_their_skip_marks():
    text = (
        "# t\n\n```python\nx = 1\n```\n\nsome text\n"
        "<!-- docs-test: skip (trains for minutes) -->\n```python\nfit()\n```\n"
        "```bash\nmake test\n```\n```python\ny = x + 1\n```\n"
    )
    assert blocks(text) == [
        (3, "x = 1\n", None),
        (9, "fit()\n", "trains for minutes"),
        (15, "y = x + 1\n", None),
    ]
    # Other spellings of a Python fence count too; other languages do not.
    more = (
        "1. a step:\n\n    ```py\n    z = 2\n    ```\n\n"
        "~~~python\nw = 3\n~~~\n\n``` {.python}\nv = 4\n```\n\n```text\nno\n```\n"
    )
    assert [code for _, code, _ in blocks(more)] == ["z = 2\n", "w = 3\n", "v = 4\n"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", pages(), ids=lambda p: os.path.relpath(p, REPO).replace(os.sep, "/")
)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open(page, encoding="utf-8") as f:
        found = blocks(f.read())
    assert found
    namespace = {"__name__": "__docs__"}
    for line, code, skip in found:
        where = f"{os.path.relpath(page, REPO)}:{line}"
        compiled = compile(code, where, "exec")
        if skip is None:
            exec(compiled, namespace)  # noqa: S102 - the page's own code


@pytest.mark.slow
@pytest.mark.xdist_group("docs_site")
def test_site_builds_strictly_with_every_command_and_flag(tmp_path):
    """`mkdocs build --strict` passes, the API pages name every public symbol
    of their module, and the CLI page every command and flag of the parser."""
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    from keras_rnninit.cli import build_parser

    cli = (site / "reference" / "cli" / "index.html").read_text()
    parser = build_parser()
    (commands,) = [
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ]
    for name, sub in commands.choices.items():
        assert f"keras-rnninit {name}</code>" in cli, name
        for action in sub._actions:
            for flag in action.option_strings:
                assert f"<code>{flag}</code>" in cli, (name, flag)

    import importlib

    for page, modules in {
        "root": ["keras_rnninit"],
        "initializers": ["keras_rnninit.initializers"],
        "layers": ["keras_rnninit.layers"],
        "schemes": ["keras_rnninit.schemes"],
        "diagnostics": ["keras_rnninit.diagnostics"],
        "callbacks": ["keras_rnninit.diagnostics.callbacks"],
        "compare": ["keras_rnninit.compare"],
        "tasks": ["keras_rnninit.tasks"],
        "export": ["keras_rnninit.export"],
    }.items():
        html = (site / "reference" / "api" / page / "index.html").read_text()
        for module in modules:
            for name in importlib.import_module(module).__all__:
                if page == "root":  # a table of links to the other pages
                    assert f"<code>{name}</code>" in html, name
                else:
                    assert f'id="{module}.{name}"' in html, (page, name)
