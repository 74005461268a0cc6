"""The one place that checks positive numbers given to our public API.

Pure Python (no Keras import), so the command line can use it too. A wrong
type raises `TypeError`, a wrong value `ValueError`, each in one line:
"`name` must be a positive int. Received: name=0".
"""

import math
import numbers

__all__ = [
    "check_int",
    "check_number",
    "check_positive_int",
    "check_positive_number",
]


def _check(name, value, optional, what, types, valid, convert):
    if value is None and optional:
        return None
    what += " or None" if optional else ""
    if isinstance(value, bool) or not isinstance(value, types):
        raise TypeError(
            f"`{name}` must be {what}. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if not valid(value):
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return convert(value)


def check_int(name: str, value, minimum: int) -> int:
    """`value` as an int >= `minimum`, else raise."""
    return _check(
        name,
        value,
        False,
        f"an int >= {minimum}",
        numbers.Integral,
        lambda v: v >= minimum,
        int,
    )


def check_positive_int(name: str, value, optional: bool = False) -> int | None:
    """`value` as an int >= 1 (or None if `optional`), else raise."""
    return _check(
        name, value, optional, "a positive int", numbers.Integral, lambda v: v >= 1, int
    )


def check_positive_number(name: str, value, optional: bool = False) -> float | None:
    """`value` as a finite float > 0 (or None if `optional`), else raise."""
    return _check(
        name,
        value,
        optional,
        "a positive finite float",
        numbers.Real,
        lambda v: math.isfinite(v) and v > 0,
        float,
    )


def check_number(name: str, value, minimum=None, exclusive: bool = False) -> float:
    """`value` as a finite float, >= `minimum` (> with `exclusive`) if given,
    else raise: "`name` must be a finite number >= 0. Received: name=-1"."""
    bound = "" if minimum is None else f" {'>' if exclusive else '>='} {minimum:g}"
    return _check(
        name,
        value,
        False,
        f"a finite number{bound}",
        numbers.Real,
        lambda v: (
            math.isfinite(v)
            and (minimum is None or (v > minimum if exclusive else v >= minimum))
        ),
        float,
    )
