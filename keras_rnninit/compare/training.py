"""Training the runs of a comparison: one model per run, or all schemes of a
seed fused into one graph.

Fused: K schemes are independent branches of one Keras model fed the same
batches; the loss is the sum of the branch losses, so each branch gets exactly
its own gradients, Adam and `clipnorm` act per variable, and a branch that
diverges only ever produces NaN in its own weights. Each branch keeps its own
callbacks (a `_Branch`), fed its own loss keys.
"""

import contextlib
import dataclasses
import math
import os
import platform
import time

import keras
import numpy as np

from keras_rnninit import tasks as task_registry
from keras_rnninit.compare.records import RunRecord
from keras_rnninit.diagnostics import first_nonfinite
from keras_rnninit.diagnostics.callbacks import (
    ConvergenceTracker,
    NaNGuard,
    RNNDiagnostics,
)
from keras_rnninit.layers import FastSimpleRNN
from keras_rnninit.schemes import ModelSpec
from keras_rnninit.utils.files import atomic_write
from keras_rnninit.utils.seeding import derive_seed
from keras_rnninit.version import __version__

__all__ = ["train_fused", "train_one", "versions"]


def versions():
    """Versions that a comparison's numbers depend on (TensorFlow's read from
    its installed metadata: a run on JAX does not import it)."""
    import sys

    loaded = getattr(sys.modules.get("tensorflow"), "__version__", None)
    return {
        "keras_rnninit": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "tensorflow": loaded or _installed("tensorflow", "tensorflow-cpu"),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _installed(*names):
    """The version of the first of `names` installed, or None."""
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return None


def _batches(task, config, seed, names=None):
    """Fresh training batches forever, batch k drawn from seed (seed, k); with
    `names`, the target is repeated for each named output."""
    k = 0
    while True:
        x, y = task.train_data(config.batch_size, config.length, derive_seed(seed, k))
        yield (x, y) if names is None else (x, {name: y for name in names})
        k += 1


class _Progress(keras.callbacks.Callback):
    """A one-line progress bar: steps done and the best test value so far
    (`best`: min for a loss, max for accuracy)."""

    def __init__(self, label, total, stream, keys=("val_loss",), best=min):
        super().__init__()
        self.label, self.total, self.stream, self.keys = label, total, stream, keys
        self.best = best
        self.step = 0

    def on_epoch_end(self, epoch, logs=None):
        self.step += self.params.get("steps") or 0
        done = int(30 * self.step / self.total)
        values = [float((logs or {}).get(k, math.nan)) for k in self.keys]
        finite = [v for v in values if math.isfinite(v)]
        test = self.best(finite) if finite else math.nan
        self.stream.write(
            f"\r  {self.label:<28} [{'#' * done}{'.' * (30 - done)}] "
            f"{self.step:>6}/{self.total} test {test:.4g}   "
        )
        self.stream.flush()

    def on_train_end(self, logs=None):
        self.stream.write("\n")


class _Branch(keras.callbacks.Callback):
    """One run's diagnostics and convergence tracking.

    `branch_model` is what the inner callbacks see (the whole model, or one
    branch of a fused model); with `key`, the branch's own `{key}_loss` and
    `val_{key}_loss` (and `{key}_accuracy`, ... for a task that monitors
    accuracy) are passed on as `loss` and `val_loss` (`accuracy`, ...). The
    tracker follows the task's `val_{monitor}` in the task's `mode`. The
    first non-finite loss marks the branch diverged; it then stops listening.
    """

    def __init__(self, scheme, branch_model, probe, config, key=None):
        super().__init__()
        self.scheme, self.branch_model, self.key = scheme, branch_model, key
        self.probe_x = probe[0]
        task = task_registry.get(config.task)
        # The task's loss, given explicitly: a fused branch is never compiled.
        self.diagnostics = RNNDiagnostics(
            probe, every=config.diagnostics_every, loss=task.loss()
        )
        self.monitor = task.monitor
        self.tracker = ConvergenceTracker(
            config.resolved_threshold, monitor=f"val_{task.monitor}", mode=task.mode
        )
        self.inner = (self.diagnostics, self.tracker)
        self.names = tuple(dict.fromkeys(("loss", task.monitor)))
        self.history = {"train": [], "test": []}
        self.diverged = None

    def set_params(self, params):
        super().set_params(params)
        for callback in self.inner:
            callback.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        for callback in self.inner:
            callback.set_model(self.branch_model)

    def _own(self, logs):
        logs = logs or {}
        own = {}
        for name in self.names:
            for prefix in ("", "val_"):
                if self.key is None:
                    if prefix + name in logs:
                        own[prefix + name] = logs[prefix + name]
                else:
                    own[prefix + name] = logs.get(
                        f"{prefix}{self.key}_{name}", math.nan
                    )
        return own

    def on_train_begin(self, logs=None):
        for callback in self.inner:
            callback.on_train_begin()

    def on_epoch_begin(self, epoch, logs=None):
        if self.diverged is None:
            for callback in self.inner:
                callback.on_epoch_begin(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged is not None:
            return
        own = self._own(logs)
        if not all(math.isfinite(float(v)) for v in own.values()):
            found = first_nonfinite(self.branch_model, self.probe_x) or {}
            self.diverged = {
                # The runner always fits with steps_per_epoch = eval_every.
                "step": self.tracker.step + self.params["steps"],
                "epoch": epoch,
                "loss": float(own.get("loss", math.nan)),
                "where": found.get("where", "loss"),
                "name": found.get("name"),
                "time_step": found.get("step"),
                "resolution": "evaluation",
            }
            return
        for curve, prefix in (("train", ""), ("test", "val_")):
            self.history[curve].append(float(own[prefix + self.monitor]))
        for callback in self.inner:
            callback.on_epoch_end(epoch, own)


def _best(task):
    """The best of a task's test values: max for accuracy, min for a loss."""
    return max if task.mode == "max" else min


def _record(branch, seed, config, seconds, strategy, model_path, diverged):
    task = task_registry.get(config.task)
    tracker, diagnostics = branch.tracker, branch.diagnostics
    if not diagnostics.records or diagnostics.records[-1]["step"] != tracker.step:
        diagnostics.record_now(step=tracker.step)
    test = branch.history["test"]
    finite = [v for v in test if math.isfinite(v)]
    best = _best(task)
    return RunRecord(
        scheme=branch.scheme.name,
        description=branch.scheme.description,
        seed=seed,
        config=dataclasses.asdict(config),
        threshold=config.resolved_threshold,
        metric=task.metric,
        mode=task.mode,
        baseline=task.baseline(config.length),
        curve={
            "step": [s for s, _ in tracker.values],
            "test": test,
            "train": branch.history["train"],
        },
        steps_to_threshold=tracker.crossed_step,
        best_test=best(finite) if finite else None,
        final_test=test[-1] if test else None,
        steps_run=diverged["step"] if diverged else tracker.step,
        diverged=diverged,
        diagnostics=[
            {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in r.items()}
            for r in diagnostics.records
        ],
        wall_seconds=seconds,
        model_path=model_path,
        replicas=strategy.num_replicas_in_sync if strategy is not None else 1,
        versions=versions(),
    )


def _setup(config, seed):
    task = task_registry.get(config.task)
    keras.utils.set_random_seed(seed)
    x_test, y_test = task.test_data(config.test_size, config.length, seed=0)
    return (
        task,
        (x_test, y_test),
        (x_test[: config.probe_size], y_test[: config.probe_size]),
    )


def _spec(config, task):
    """The architecture of every run of a comparison. SimpleRNN runs train on
    FastSimpleRNN (same numbers, faster); LSTM and GRU runs on Keras' own
    layers."""
    return ModelSpec(
        config.units,
        task.output_units,
        cell=config.cell,
        return_sequences=task.return_sequences,
        rnn_layer=FastSimpleRNN if config.cell == "simple" else None,
    )


def _sequence_input(task):
    """The model's input `sequence`, and what its RNN reads: the input, or
    for a `masked` task `Masking(0.0)` of it (all-zero steps are padding)."""
    inputs = keras.Input((None, task.input_dim), name="sequence")
    if not task.masked:
        return inputs, inputs
    return inputs, keras.layers.Masking(0.0, name="padding")(inputs)


def _build_model(scheme, task, config, seed):
    """One run's model: `scheme.apply` on `_sequence_input(task)`, as
    `scheme.build_model` builds it (same layers and names) plus the mask."""
    inputs, features = _sequence_input(task)
    outputs = scheme.apply(features, _spec(config, task), seed=seed)
    suffix = "rnn" if config.cell == "simple" else config.cell
    return keras.Model(inputs, outputs, name=f"{scheme.name}_{suffix}")


def _optimizer(config):
    # clipnorm clips each variable's gradient on its own (not a global norm),
    # so fused branches never clip each other.
    return keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm)


def _save(model, save_dir, name, seed):
    if save_dir is None:
        return None
    return _place_model(save_dir, name, seed, model.save)


def _place_model(save_dir, name, seed, write):
    """`<name>-seed<seed>.keras` in `save_dir`, written by `write(path)` under
    a temporary name, synced to disk and renamed, so that neither a kill nor
    a power cut mid-save leaves a truncated model under the final name
    (`store.is_temporary` names the temporary)."""
    path = os.path.join(save_dir, f"{name}-seed{seed}.keras")
    temporary = os.path.join(save_dir, f"{name}-seed{seed}.tmp.keras")
    return atomic_write(path, write, temporary)


def _interrupt_checks(interrupted):
    """`interrupted()` after every evaluation, as a callback (none without it)."""
    if interrupted is None:
        return []
    return [keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: interrupted())]


def train_one(
    scheme, seed, config, progress=None, save_dir=None, strategy=None, interrupted=None
):
    """Train `scheme` with `seed` under `config`; return its `RunRecord`.

    With `save_dir`, the trained model is saved there as
    `<scheme>-seed<seed>.keras` and the record's `model_path` names it. With a
    `tf.distribute` `strategy`, the model is built and compiled in its scope.
    Training stops at the first non-finite loss (`NaNGuard`, exact step).
    `interrupted()`, if given, is called after every evaluation; it stops
    training by raising.
    """
    task, test, probe = _setup(config, seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = _build_model(scheme, task, config, seed)
        model.compile(
            optimizer=_optimizer(config), loss=task.loss(), metrics=task.metrics()
        )
    branch = _Branch(scheme, model, probe, config)
    guard = NaNGuard(probe, verbose=False)
    callbacks = [branch, guard]
    if progress is not None:
        callbacks.append(
            _Progress(
                f"{scheme.name} seed {seed}",
                config.steps,
                progress,
                keys=[f"val_{task.monitor}"],
                best=_best(task),
            )
        )
    callbacks += _interrupt_checks(interrupted)
    start = time.perf_counter()
    model.fit(
        _batches(task, config, seed),
        steps_per_epoch=config.eval_every,
        epochs=config.steps // config.eval_every,
        validation_data=test,
        shuffle=False,
        callbacks=callbacks,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    diverged = guard.diagnosis or branch.diverged
    path = _save(model, save_dir, scheme.name, seed)
    return _record(branch, seed, config, seconds, strategy, path, diverged)


def train_fused(
    schemes, seed, config, progress=None, save_dir=None, strategy=None, interrupted=None
):
    """Train every scheme of `schemes` with `seed` as branches of one model.

    Returns one record per scheme, as `train_one` would, with
    `wall_seconds` = the fused fit time / K and `fused_with` naming the
    branches. A diverging branch is recorded at the evaluation where its loss
    first turns non-finite and the others train on. `interrupted` as in
    `train_one`.
    """
    names = [s.name for s in schemes]
    if len(set(names)) != len(names):
        raise ValueError(f"`schemes` must not repeat a name. Received: {names}")
    task, (x_test, y_test), probe = _setup(config, seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        inputs, features = _sequence_input(task)
        outputs = [
            s.apply(
                features,
                _spec(config, task),
                seed=seed,
                rnn_name=f"{s.name}_rnn",
                output_name=s.name,
            )
            for s in schemes
        ]
        model = keras.Model(inputs, outputs, name="fused")
        model.compile(
            optimizer=_optimizer(config),
            loss={name: task.loss() for name in names},
            metrics={name: task.metrics() for name in names},
        )
    branches = [
        _Branch(
            s, keras.Model(inputs, out, name=f"{s.name}_rnn"), probe, config, key=s.name
        )
        for s, out in zip(schemes, outputs, strict=True)
    ]
    callbacks = list(branches)
    if progress is not None:
        callbacks.append(
            _Progress(
                f"{len(names)} schemes seed {seed}",
                config.steps,
                progress,
                keys=[f"val_{n}_{task.monitor}" for n in names],
                best=_best(task),
            )
        )
    callbacks += _interrupt_checks(interrupted)
    start = time.perf_counter()
    model.fit(
        _batches(task, config, seed, names),
        steps_per_epoch=config.eval_every,
        epochs=config.steps // config.eval_every,
        validation_data=(x_test, {n: y_test for n in names}),
        shuffle=False,
        callbacks=callbacks,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    records = []
    for branch in branches:
        path = _save(branch.branch_model, save_dir, branch.scheme.name, seed)
        record = _record(
            branch, seed, config, seconds / len(names), strategy, path, branch.diverged
        )
        record.fused_with = names
        records.append(record)
    return records
