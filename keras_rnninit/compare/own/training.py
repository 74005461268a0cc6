"""One run of a comparison on the user's model: re-initialize, train on the
paired batches, diagnose every recurrent layer, record."""

import math
import time

import keras
import numpy as np

from keras_rnninit.compare.own.data import paired_batches
from keras_rnninit.compare.own.runs import monitored
from keras_rnninit.compare.records import RunRecord
from keras_rnninit.diagnostics.callbacks import (
    ConvergenceTracker,
    NaNGuard,
    RNNDiagnostics,
)
from keras_rnninit.schemes.redraw import reinitialize

__all__ = ["train_own"]


def _directions(model):
    """The recurrent layers the diagnostics can take apart, by name: each
    `keras.layers.RNN` in `model.layers`, each direction of a Bidirectional."""
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            names += [layer.forward_layer.name, layer.backward_layer.name]
        elif isinstance(layer, keras.layers.RNN):
            names.append(layer.name)
    return names


class _Diagnosed(keras.callbacks.Callback):
    """An `RNNDiagnostics` per recurrent layer (each direction its own). A
    layer the diagnostics refuse (at its first diagnosis) is kept in
    `refused` with the reason, and training goes on without it."""

    def __init__(self, probe, names, every):
        super().__init__()
        self.layers = {
            name: RNNDiagnostics(probe, every=every, layer=name, prefix=f"{name}_")
            for name in names
        }
        self.refused = {}

    def _each(self, hook, *args):
        for name, callback in list(self.layers.items()):
            try:
                getattr(callback, hook)(*args)
            except ValueError as error:
                if callback.records:
                    raise
                self.refused[name] = str(error).splitlines()[0]
                del self.layers[name]

    def set_params(self, params):
        super().set_params(params)
        for callback in self.layers.values():
            callback.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        for callback in self.layers.values():
            callback.set_model(model)

    def on_train_begin(self, logs=None):
        self._each("on_train_begin", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._each("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._each("on_epoch_end", epoch, logs)

    def finish(self, step):
        """A last record at `step` for each layer not recorded there."""
        for callback in self.layers.values():
            if callback.records[-1]["step"] != step:
                callback.record_now(step=step)

    def records(self):
        return {name: c.records for name, c in self.layers.items()}


def _plain(records):
    return [
        {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in r.items()}
        for r in records
    ]


def _first_layer(records):
    """The first diagnosed layer's records with the keys of a built-in task's
    records (`rnn_` prefix), which the report's plots read."""
    if not records:
        return []
    name, rows = next(iter(records.items()))
    prefix = f"{name}_"
    return [
        {
            ("rnn_" + k[len(prefix) :] if k.startswith(prefix) else k): v
            for k, v in r.items()
        }
        for r in rows
    ]


def train_own(scheme, seed, runs, progress=None, save_dir=None, interrupted=None):
    """Train `schemes.reinitialize(runs.model, scheme, seed)` on `runs.data`;
    return one `RunRecord` (the fields of `training.train_one`'s, plus
    `changes`, `layer_diagnostics` and `undiagnosed`)."""
    from keras_rnninit.compare.training import (
        _interrupt_checks,
        _place_model,
        _Progress,
    )

    keras.utils.set_random_seed(seed)
    result = reinitialize(runs.model, scheme, seed)
    model = result.model
    probe = runs.probe()
    mode = monitored(model, runs)
    name = runs.monitor.removeprefix("val_")
    tracker = ConvergenceTracker(runs.target, monitor=runs.monitor, mode=mode)
    diagnosed = _Diagnosed(probe, _directions(model), runs.diagnostics_every)
    guard = NaNGuard(probe, verbose=False)
    callbacks = [tracker, diagnosed, guard, *_interrupt_checks(interrupted)]
    if progress is not None:
        best = max if mode == "max" else min
        label = f"{scheme if isinstance(scheme, str) else scheme.name} seed {seed}"
        callbacks.append(_Progress(label, runs.steps, progress, [runs.monitor], best))
    history = {"train": [], "test": []}

    def remember(epoch, logs):
        history["test"].append(float(logs.get(runs.monitor, math.nan)))
        history["train"].append(float(logs.get(name, math.nan)))

    callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=remember))
    chunks = runs.chunks()
    full = len(chunks) - (chunks[-1] != runs.eval_every)
    start = time.perf_counter()
    done = 0
    for count, size, first in (
        (full, runs.eval_every, 0),
        (len(chunks) - full, chunks[-1], full),
    ):
        if count == 0 or model.stop_training:
            continue
        model.fit(
            paired_batches(runs.data, runs.batch_size, seed, start=done),
            steps_per_epoch=size,
            epochs=first + count,
            initial_epoch=first,
            validation_data=runs.validation_data,
            shuffle=False,
            callbacks=callbacks,
            verbose=0,
        )
        done += count * size
    seconds = time.perf_counter() - start
    step = tracker.step
    diagnosed.finish(step)
    path = None
    if save_dir is not None:
        path = _place_model(save_dir, result.scheme, seed, model.save)
    test = [v for v in history["test"] if math.isfinite(v)]
    best = max if mode == "max" else min
    layers = {k: _plain(v) for k, v in diagnosed.records().items()}
    return RunRecord(
        scheme=result.scheme,
        description=_description(scheme),
        seed=seed,
        config=runs.record_config(),
        threshold=runs.target,
        metric=runs.monitor,
        mode=mode,
        baseline=None,
        curve={
            "step": [s for s, _ in tracker.values],
            "test": history["test"],
            "train": history["train"],
        },
        steps_to_threshold=tracker.crossed_step,
        best_test=best(test) if test else None,
        final_test=history["test"][-1] if history["test"] else None,
        steps_run=guard.diagnosis["step"] if guard.diagnosis else step,
        diverged=guard.diagnosis,
        diagnostics=_first_layer(layers),
        layer_diagnostics=layers,
        undiagnosed=dict(diagnosed.refused),
        changes=[list(change) for change in result.changes],
        wall_seconds=seconds,
        model_path=path,
        replicas=1,
        versions=_versions(),
    )


def _description(scheme):
    from keras_rnninit import schemes

    return (
        schemes.get(scheme).description
        if isinstance(scheme, str)
        else scheme.description
    )


def _versions():
    from keras_rnninit.compare.training import versions

    return versions()
