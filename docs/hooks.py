"""MkDocs hook: reference tables written from the code at build time.

- `<!-- cli:reference -->` (docs/reference/cli.md) becomes one section per
  command: its summary, usage and every flag with its help, as
  `keras-rnninit COMMAND --help` prints them.
- `<!-- api:root -->` (docs/reference/api/root.md) becomes the table of the
  names `keras_rnninit` exports, each linked to its documentation.

So neither page can drift from the code. Listed under `hooks:` in mkdocs.yml
and excluded from the pages.
"""

import argparse

MARKER = "<!-- cli:reference -->"
ROOT_MARKER = "<!-- api:root -->"
# The API page of each module the root takes names from.
PAGES = {
    "keras_rnninit.initializers": "initializers.md",
    "keras_rnninit.layers": "layers.md",
}


def _row(formatter, action):
    flags = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.dest}`"
    if action.nargs == 0:
        value = ""
    elif action.choices is not None:
        value = ", ".join(f"`{c}`" for c in action.choices)
    else:
        value = f"`{action.metavar or action.dest.upper()}`"
    text = formatter._expand_help(action) if action.help else ""
    return f"| {flags} | {value} | {' '.join(text.split()).replace('|', '&#124;')} |"


def _table(parser, actions):
    formatter = parser._get_formatter()
    rows = [_row(formatter, a) for a in actions if a.help != argparse.SUPPRESS]
    return ["| option | value | meaning |", "|---|---|---|", *rows] if rows else []


def _groups(parser):
    lines = []
    for group in parser._action_groups:
        actions = [
            a
            for a in group._group_actions
            if not isinstance(a, argparse._SubParsersAction)
        ]
        table = _table(parser, actions)
        if table:
            title = group.title[:1].upper() + group.title[1:]
            lines += ["", f"**{title}**", "", *table]
    return lines


def reference():
    """The markdown of every command of `keras-rnninit`."""
    from keras_rnninit.cli import build_parser

    parser = build_parser()
    (commands,) = [
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ]
    summary = {a.dest: a.help for a in commands._choices_actions}
    lines = [
        "```text",
        parser.format_usage().strip(),
        "```",
        *_groups(parser),
    ]
    for name, sub in commands.choices.items():
        lines += [
            "",
            f"## `{sub.prog}`",
            "",
            summary[name][:1].upper() + summary[name][1:] + ".",
            "",
            "```text",
            sub.format_usage().strip(),
            "```",
            *_groups(sub),
        ]
    return "\n".join(lines) + "\n"


def root_table():
    """The markdown table of `keras_rnninit.__all__`, linked to the pages."""
    import keras_rnninit

    where = keras_rnninit._ATTRIBUTES
    lines = ["| name | defined in |", "|---|---|"]
    for name in keras_rnninit.__all__:
        if name in where:
            module = where[name]
            link = f"[`{name}`]({PAGES[module]}#{module}.{name})"
            lines.append(f"| {link} | `{module}` |")
        elif name == "__version__":
            lines.append("| `__version__` | `keras_rnninit.version` |")
        else:
            lines.append(f"| [`{name}`]({name}.md) | the submodule |")
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown, page, config, files):
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, reference())
    if ROOT_MARKER in markdown:
        markdown = markdown.replace(ROOT_MARKER, root_table())
    return markdown
