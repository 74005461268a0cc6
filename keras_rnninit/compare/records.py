"""A comparison's run record: one (scheme, seed) run, as named data.

`compare` returns a list of `RunRecord`s, the run store keeps each as
`runs/<scheme>-seed<seed>.json` (`to_dict()`), and the statistics, the
report, the plots and TensorBoard read them back (`as_record`). Every reader
also takes the plain dicts of 0.1 and of stored JSON; reading a `RunRecord`
by key (`record["final_test"]`) still works for one minor version and warns.

Example:

    >>> record = as_record({"scheme": "xavier_rnn", "seed": 0,
    ...                     "config": {"steps": 100}, "final_test": 0.01})
    >>> record.scheme, record.final_test, record.to_dict()["config"]
    ('xavier_rnn', 0.01, {'steps': 100})
"""

import dataclasses
from typing import Any

from keras_rnninit.utils.records import KeyedFields

__all__ = ["RunRecord", "as_record", "as_records"]


@dataclasses.dataclass(eq=False, kw_only=True)
class RunRecord(KeyedFields):
    """One trained (scheme, seed) run of a comparison.

    Attributes:
        scheme, description: The scheme's name and one-line description.
        seed: The run's seed (weights and batches).
        config: The comparison's settings (`CompareConfig`, or the own-model
            runs' settings), as stored; `config["steps"]` is the budget.
        threshold: The target of the monitored value ("solved"), or None.
        metric, mode: The monitored value's name and direction ("min" for a
            loss, "max" for accuracy).
        baseline: The trivial predictor's value (built-in tasks), or None.
        curve: {"step": [...], "test": [...], "train": [...]}, one entry per
            evaluation.
        steps_to_threshold: The first evaluated step that reached the
            threshold, or None.
        best_test, final_test: The best finite and the last test value.
        steps_run: Steps trained (the step of the first non-finite value when
            the run diverged).
        diverged: None, or where NaN/Inf first appeared.
        diagnostics: The recurrent layer's diagnostics over training (a
            list of per-evaluation dicts; an own model's first layer).
        wall_seconds: Training time (a fused seed's time split evenly).
        model_path: The saved `.keras` file, or None.
        replicas: Devices the run trained on.
        versions: The versions its numbers depend on.
        fused_with: The schemes trained with it as one fused model.
        layer_diagnostics, undiagnosed, changes: Own-model runs: the
            diagnostics of every recurrent layer (each direction its own), the
            layers diagnostics refused and why, and what the scheme changed
            (activations), layer by layer.
        extra: Keys of a stored record that are none of these, kept as read.
    """

    _OPTIONAL = frozenset({"fused_with", "layer_diagnostics", "undiagnosed", "changes"})
    _EXAMPLE = "record.final_test"

    scheme: str
    description: str | None = None
    seed: int
    config: dict
    threshold: float | None = None
    metric: str | None = None
    mode: str | None = None
    baseline: float | None = None
    curve: dict = dataclasses.field(default_factory=dict)
    steps_to_threshold: int | None = None
    best_test: float | None = None
    final_test: float | None = None
    steps_run: int | None = None
    diverged: dict | None = None
    diagnostics: list = dataclasses.field(default_factory=list)
    layer_diagnostics: dict | None = None
    undiagnosed: dict | None = None
    changes: list | None = None
    wall_seconds: float | None = None
    model_path: str | None = None
    replicas: int = 1
    versions: dict = dataclasses.field(default_factory=dict)
    fused_with: list | None = None
    extra: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self._absent, self._order = frozenset(), ()

    @property
    def untargeted(self) -> bool:
        """True when the run had no target (`threshold` None); a dict read
        without a `threshold` says nothing and counts as targeted."""
        return self.threshold is None and "threshold" not in self._absent

    def to_dict(self) -> dict:
        """The record as stored: its fields (those it was read without, and
        optional ones that do not apply, left out) and its `extra` keys, in
        the order it was read in."""
        fields = {
            k: v
            for k, v in super().to_dict().items()
            if k != "extra" and k not in self._absent
        }
        value = {**fields, **self.extra}
        rank = {k: i for i, k in enumerate(self._order)}
        return dict(sorted(value.items(), key=lambda kv: rank.get(kv[0], len(rank))))

    @classmethod
    def from_dict(cls, value):
        """A record from its stored dict; `to_dict()` gives the dict back."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        # A partial dict (a hand-made one) reads as None where it says nothing.
        known = {"scheme": None, "seed": None, "config": None}
        known.update((k, v) for k, v in value.items() if k in names)
        record = cls(**known, extra={k: v for k, v in value.items() if k not in names})
        record._absent = frozenset(names - set(value) - cls._OPTIONAL)
        record._order = tuple(value)  # to_dict keeps the stored key order
        return record


def as_record(value: Any) -> RunRecord:
    """`value` as a `RunRecord`: a record is returned as is, a dict (0.1's
    records, stored JSON) is read with `RunRecord.from_dict`."""
    if isinstance(value, RunRecord):
        return value
    if isinstance(value, dict):
        return RunRecord.from_dict(value)
    raise TypeError(
        f"`records` must hold RunRecords or their dicts. Received: {value!r:.80}"
    )


def as_records(values) -> list:
    """Each of `values` through `as_record`."""
    return [as_record(value) for value in values]
