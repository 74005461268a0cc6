"""What every run of a comparison on the user's model shares, and the
value it monitors."""

import dataclasses
import hashlib
import json

import keras

from keras_rnninit.compare.own.data import (
    check_data,
    fingerprint,
    load_source,
    read_batches,
    rows,
    take,
)
from keras_rnninit.schemes.redraw import reinitialize
from keras_rnninit.utils.validation import check_number, check_positive_int

__all__ = ["SETTINGS", "OwnRuns", "check_runs", "monitor_mode", "monitored", "runs_of"]


# The settings of `compare(**overrides)` that runs on the user's model take.
SETTINGS = ("batch_size", "diagnostics_every", "eval_every", "probe_size", "steps")


def monitor_mode(model, monitor, mode=None):
    """ "min" or "max" for `monitor`, inferred as Keras' EarlyStopping infers
    `mode="auto"`: a loss is minimised; a compiled metric of that name goes
    the way its direction says (accuracy, AUC: "up", so max). Anything else
    needs `mode`. The model's metrics must be built (after one `evaluate`)."""
    if mode is not None:
        if mode not in ("max", "min"):
            raise ValueError(
                f"`mode` must be one of max, min or None. Received: mode={mode!r}"
            )
        return mode
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "min"
    metrics = []
    for metric in getattr(model, "metrics", []):
        metrics += getattr(metric, "metrics", [metric])
    for metric in metrics:
        direction = getattr(metric, "_direction", None)
        if metric.name == name and direction in ("up", "down"):
            return "max" if direction == "up" else "min"
    raise ValueError(
        f"`mode` must be 'max' or 'min' for monitor={monitor!r}: its metric says "
        "no direction (as for Keras' EarlyStopping). Received: mode=None"
    )


@dataclasses.dataclass(frozen=True)
class OwnRuns:
    """What every run of a comparison on the user's model and data shares."""

    model: keras.Model
    data: tuple
    validation_data: tuple | None
    steps: int = 1000
    batch_size: int = 32
    eval_every: int = 100
    monitor: str = "val_loss"
    target: float | None = None
    mode: str | None = None
    diagnostics_every: int = 5
    probe_size: int = 64
    source: str = ""

    def __post_init__(self):
        for name in ("steps", "batch_size", "eval_every", "diagnostics_every"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("probe_size", self.probe_size)
        if not (isinstance(self.monitor, str) and self.monitor):
            raise TypeError(
                f"`monitor` must be the name of a logged value, e.g. 'val_loss'. "
                f"Received: monitor={self.monitor!r}"
            )
        if self.target is not None:
            check_number("target", self.target)
        if self.monitor.startswith("val_") and self.validation_data is None:
            raise ValueError(
                "`validation_data` must be given to monitor a validation value. "
                f"Received: monitor={self.monitor!r}, validation_data=None"
            )
        if self.batch_size > rows(self.data):
            raise ValueError(
                f"`batch_size` must be <= the {rows(self.data)} rows of `data`. "
                f"Received: batch_size={self.batch_size}"
            )

    def record_config(self):
        """The plain settings a record keeps (the store compares them on
        resume): the model's name and config hash, the data's fingerprint."""
        config = _json_config(self.model)
        return {
            "task": "own",
            "model": self.model.name,
            "model_config": hashlib.sha256(config.encode()).hexdigest()[:16],
            "source": self.source,
            "data": fingerprint(self.data, self.validation_data),
            "train_size": rows(self.data),
            "validation_size": (
                None if self.validation_data is None else rows(self.validation_data)
            ),
            "steps": self.steps,
            "batch_size": self.batch_size,
            "eval_every": self.eval_every,
            "monitor": self.monitor,
            "target": self.target,
            "mode": self.mode,
            "diagnostics_every": self.diagnostics_every,
            "probe_size": self.probe_size,
        }

    def probe(self):
        """The diagnostics' probe: the first `probe_size` validation rows
        (training rows without validation data)."""
        return take(self.validation_data or self.data, slice(0, self.probe_size))

    def chunks(self):
        """Steps per evaluation: `eval_every` each, the last one shorter when
        `steps` is no multiple of it (the last step is always evaluated)."""
        full, rest = divmod(self.steps, self.eval_every)
        return [self.eval_every] * full + ([rest] if rest else [])


def _json_config(model):
    return json.dumps(model.get_config(), sort_keys=True, default=str)


def monitored(model, runs):
    """The direction of `runs.monitor` on `model` (a fresh copy: one
    `evaluate` on the probe builds its metrics); refuses a monitor the model
    does not log."""
    x, y, sample_weight = (*runs.probe(), None)[:3]
    logged = model.evaluate(
        x, y, sample_weight=sample_weight, return_dict=True, verbose=0
    )
    if runs.monitor.removeprefix("val_") not in logged:
        names = sorted(logged)
        if runs.validation_data is not None:
            names += [f"val_{k}" for k in names]
        raise ValueError(
            f"`monitor` must be a value the model logs: {', '.join(names)}. "
            f"Received: monitor={runs.monitor!r}"
        )
    return monitor_mode(model, runs.monitor, runs.mode)


def runs_of(model, data, validation_data=None, trust_model=False, **settings):
    """The `OwnRuns` of `compare(model=..., data=..., **settings)`, checked."""
    unknown = sorted(set(settings) - {*SETTINGS, "mode", "monitor", "target"})
    if unknown:
        raise TypeError(
            f"`{unknown[0]}` is not a setting of a comparison on your own model "
            f"(those are {', '.join(SETTINGS)}, mode, monitor, target). Received: "
            f"{unknown[0]}={settings[unknown[0]]!r}"
        )
    if data is None:
        raise ValueError("`data` must be given with `model`. Received: data=None")
    model, source = load_source(model, trust_model)
    data, batch_size = read_batches(data)
    if batch_size is not None:  # a dataset's batches, unless batch_size says
        settings.setdefault("batch_size", batch_size)
    data = check_data(data)
    if validation_data is not None:
        validation_data, _ = read_batches(validation_data, "validation_data")
        validation_data = check_data(validation_data, "validation_data")
    return OwnRuns(model, data, validation_data, source=source, **settings)


def check_runs(schemes, seeds, runs):
    """The `Scheme`s and seeds of a comparison on `model`, checked as
    `runner.check_runs` checks them; every scheme must fit every recurrent
    layer of `runs.model` (`schemes.reinitialize` is tried once, nothing
    trains), and the model must log `runs.monitor`."""
    from keras_rnninit.compare.runner import check_runs as check_task_runs

    resolved, seeds = check_task_runs(schemes, seeds, cell=None)
    for scheme in resolved:
        copy = reinitialize(runs.model, scheme, seeds[0]).model
    monitored(copy, runs)
    return resolved, seeds
