"""Named data that still reads like the dict it replaced.

Results that crossed layers as plain dicts in 0.1 (`diagnose`'s report,
`signal_propagation`'s, the comparison's run records) are dataclasses since
0.2. Each mixes in `KeyedFields`: `to_dict()` for JSON, and access by key
(`record["scheme"]`, `record["model_path"] = ...`, `"scheme" in record`,
`.get`, `.keys()`, iteration) that still works for one minor version and
warns (`DeprecationWarning`, CHANGELOG.md's policy).

Example:

    >>> import dataclasses
    >>> @dataclasses.dataclass
    ... class Point(KeyedFields):
    ...     x: int
    ...     label: str | None = None
    ...     _OPTIONAL = frozenset({"label"})
    >>> Point(3).to_dict()
    {'x': 3}
"""

import dataclasses
import warnings

__all__ = ["KeyedFields"]


class KeyedFields:
    """`to_dict()` and the deprecated read access by key of a dataclass."""

    # Fields absent from `to_dict()` (and from key access) while None.
    _OPTIONAL: frozenset = frozenset()
    # How the warning shows attribute access, e.g. "report.log10_ratio".
    _EXAMPLE = "report.log10_ratio"

    def to_dict(self) -> dict:
        """The fields as a dict (optional fields that do not apply left out)."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not (f.name in self._OPTIONAL and getattr(self, f.name) is None)
        }

    def _keyed(self, what):
        name = self._EXAMPLE.split(".")[0]
        warnings.warn(
            f"{type(self).__name__} is a dataclass since 0.2: "
            f"{what.format(name=name)} goes in 0.3; read its attributes "
            f"(`{self._EXAMPLE}`) or `{name}.to_dict()`.",
            DeprecationWarning,
            stacklevel=3,
        )
        return self.to_dict()

    def __getitem__(self, key):
        return self._keyed(f"`{{name}}[{key!r}]`")[key]

    def __setitem__(self, key, value):
        self._keyed(f"`{{name}}[{key!r}] = ...`")
        if key in {f.name for f in dataclasses.fields(self)}:
            setattr(self, key, value)
        elif isinstance(getattr(self, "extra", None), dict):
            self.extra[key] = value
        else:
            raise KeyError(key)

    def __contains__(self, key):
        return key in self._keyed("`key in {name}`")

    def get(self, key, default=None):
        return self._keyed("`{name}.get(...)`").get(key, default)

    def keys(self):
        return self._keyed("`{name}.keys()`").keys()

    def items(self):
        return self._keyed("`{name}.items()`").items()

    def values(self):
        return self._keyed("`{name}.values()`").values()

    def __iter__(self):
        return iter(self._keyed("iterating over a {name}"))
