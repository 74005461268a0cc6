"""KeyedFields: a dataclass's `to_dict()` and its deprecated dict reading."""

import dataclasses

import pytest

from keras_rnninit.utils.records import KeyedFields


@dataclasses.dataclass
class Point(KeyedFields):
    _OPTIONAL = frozenset({"label"})
    _EXAMPLE = "point.x"

    x: int
    label: str | None = None


def test_to_dict_leaves_out_optional_fields_that_do_not_apply():
    assert Point(3).to_dict() == {"x": 3}
    assert Point(3, "a").to_dict() == {"x": 3, "label": "a"}


def test_every_dict_reading_warns_names_the_attribute_and_gives_the_value():
    point = Point(3)
    with pytest.warns(
        DeprecationWarning,
        match=r"^Point is a dataclass since 0\.2: "
        r"`point\['x'\]` goes in 0\.3; .*`point\.x`.*`point\.to_dict\(\)`",
    ):
        assert point["x"] == 3
    readings = [
        lambda: "x" in point and "label" not in point,
        lambda: point.get("label", 0) == 0,
        lambda: list(point.keys()) == ["x"],
        lambda: list(point.items()) == [("x", 3)],
        lambda: list(point.values()) == [3],
        lambda: list(point) == ["x"],
    ]
    for read in readings:
        with pytest.warns(DeprecationWarning, match="goes in 0.3"):
            assert read()
    with pytest.warns(DeprecationWarning), pytest.raises(KeyError):
        point["label"]


@dataclasses.dataclass
class Stored(KeyedFields):
    x: int
    extra: dict = dataclasses.field(default_factory=dict)


def test_item_assignment_warns_and_sets_the_field_or_an_extra_key():
    stored = Stored(1)
    with pytest.warns(DeprecationWarning, match=r"\['x'\] = \.\.\.` goes in 0\.3"):
        stored["x"] = 2
    with pytest.warns(DeprecationWarning):
        stored["dataset"] = "digits"
    assert stored.x == 2 and stored.extra == {"dataset": "digits"}
    with pytest.warns(DeprecationWarning), pytest.raises(KeyError):
        Point(1)["y"] = 0  # no such field and no `extra`
