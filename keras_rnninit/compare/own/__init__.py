"""Comparing schemes on the user's own model and data.

`compare(schemes, seeds, model=..., data=...)` trains, for each scheme and
seed, `schemes.reinitialize(model, scheme, seed)`: the user's architecture,
layer names and compile settings (a fresh optimizer), every recurrent layer
drawn by the scheme and every other weight re-drawn from its own
initializer. The runs of a seed are paired: every scheme sees the same
batches in the same order (`paired_batches`), so a difference between two
schemes of a seed is the initialization's alone. The monitored value is
evaluated every `eval_every` steps and after the last step; its direction
(min for a loss, max for accuracy) is found as Keras' `EarlyStopping`
finds it. Records have the fields of the built-in tasks' records, so the
statistics, the store and the report take them as they are.


The parts: `data.py` (the user's arrays and model, checked; the paired
batches), `runs.py` (the settings every run shares, the monitored value and
its direction), `training.py` (one run: train, diagnose, record).
"""

from keras_rnninit.compare.own.data import check_data, load_source, paired_batches
from keras_rnninit.compare.own.runs import (
    SETTINGS,
    OwnRuns,
    check_runs,
    monitor_mode,
    monitored,
    runs_of,
)
from keras_rnninit.compare.own.training import train_own

__all__ = [
    "SETTINGS",
    "OwnRuns",
    "check_data",
    "check_runs",
    "load_source",
    "monitor_mode",
    "monitored",
    "paired_batches",
    "runs_of",
    "train_own",
]
