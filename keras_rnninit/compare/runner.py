"""Train one architecture under several schemes and seeds; return plain records."""

import contextlib
import dataclasses
import math
import os
import platform
import sys
import time

import keras
import numpy as np

from keras_rnninit import schemes as scheme_registry
from keras_rnninit import tasks as task_registry
from keras_rnninit.callbacks import ConvergenceTracker, NaNGuard, RNNDiagnostics
from keras_rnninit.initializers.base import derive_seed
from keras_rnninit.version import __version__

__all__ = ["CompareConfig", "compare", "train_one"]


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    """What every run of a comparison shares.

    The test metric is evaluated every `eval_every` steps on `test_size`
    held-out sequences; diagnostics run on the first `probe_size` of them
    every `diagnostics_every` evaluations (and at the start and the end).
    `threshold` defaults to the task's (adding: test MSE 0.01).
    """

    task: str = "adding"
    length: int = 50
    units: int = 64
    steps: int = 4000
    batch_size: int = 64
    learning_rate: float = 1e-3
    clipnorm: float | None = None
    eval_every: int = 100
    test_size: int = 1000
    threshold: float | None = None
    diagnostics_every: int = 5
    probe_size: int = 64

    def __post_init__(self):
        task = task_registry.get(self.task)
        for name in (
            "length",
            "units",
            "steps",
            "batch_size",
            "eval_every",
            "test_size",
            "diagnostics_every",
            "probe_size",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{name}` must be a positive int. Received: {name}={value!r}"
                )
        for name in ("learning_rate", "clipnorm", "threshold"):
            value = getattr(self, name)
            if value is None and name != "learning_rate":
                continue
            if not (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
                and value > 0
            ):
                raise ValueError(
                    f"`{name}` must be a positive number. Received: {name}={value!r}"
                )
        if self.length < task.min_length:
            raise ValueError(
                f"`length` must be >= {task.min_length} for the "
                f"{task.name} task. Received: length={self.length}"
            )
        if self.steps % self.eval_every:
            raise ValueError(
                f"`steps` must be a multiple of `eval_every` "
                f"({self.eval_every}). Received: steps={self.steps}"
            )

    @property
    def resolved_threshold(self):
        task = task_registry.get(self.task)
        return (
            self.threshold
            if self.threshold is not None
            else task.threshold(self.length)
        )


def _batches(task, config, seed):
    """Fresh training batches forever, batch k drawn from seed (seed, k)."""
    k = 0
    while True:
        yield task.train_data(config.batch_size, config.length, derive_seed(seed, k))
        k += 1


class _Progress(keras.callbacks.Callback):
    def __init__(self, label, total, stream):
        super().__init__()
        self.label, self.total, self.stream = label, total, stream
        self.step = 0

    def on_epoch_end(self, epoch, logs=None):
        self.step += self.params.get("steps") or 0
        done = int(30 * self.step / self.total)
        test = (logs or {}).get("val_loss", float("nan"))
        self.stream.write(
            f"\r  {self.label:<28} [{'#' * done}{'.' * (30 - done)}] "
            f"{self.step:>6}/{self.total} test {test:.4g}   "
        )
        self.stream.flush()

    def on_train_end(self, logs=None):
        self.stream.write("\n")


def _jsonable_diagnostics(record):
    out = {}
    for key, value in record.items():
        out[key] = value.tolist() if isinstance(value, np.ndarray) else value
    return out


def versions():
    """Versions that a comparison's numbers depend on."""
    import tensorflow as tf

    return {
        "keras_rnninit": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def get_strategy(distribute):
    """None, or a `tf.distribute` strategy for `distribute` ("mirrored": all
    local devices; a strategy object is returned as is)."""
    if distribute is None or not isinstance(distribute, str):
        return distribute
    if distribute != "mirrored":
        raise ValueError(
            f"`distribute` must be one of mirrored. Received: distribute={distribute!r}"
        )
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "`distribute='mirrored'` needs the tensorflow backend. "
            f"Received: backend={keras.backend.backend()!r}"
        )
    import tensorflow as tf

    return tf.distribute.MirroredStrategy()


def train_one(scheme, seed, config, progress=None, save_dir=None, strategy=None):
    """Train `scheme` with `seed` under `config`; return one plain record.

    With `save_dir`, the trained model is saved there as
    `<scheme>-seed<seed>.keras` and the record's `model_path` names it. With a
    `tf.distribute` `strategy`, the model is built and compiled in its scope
    (each replica gets a slice of every batch).
    """
    scheme = scheme_registry.get(scheme)
    task = task_registry.get(config.task)
    keras.utils.set_random_seed(seed)
    x_test, y_test = task.test_data(config.test_size, config.length, seed=0)
    probe = (x_test[: config.probe_size], y_test[: config.probe_size])
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = scheme.build_model(
            input_dim=task.input_dim,
            units=config.units,
            output_units=task.output_units,
            seed=seed,
            return_sequences=task.return_sequences,
        )
        optimizer = keras.optimizers.Adam(
            config.learning_rate, clipnorm=config.clipnorm
        )
        model.compile(optimizer=optimizer, loss=task.loss())
    threshold = config.resolved_threshold
    diagnostics = RNNDiagnostics(probe, every=config.diagnostics_every)
    tracker = ConvergenceTracker(threshold, monitor="val_loss")
    guard = NaNGuard(probe, verbose=False)
    callbacks = [diagnostics, tracker, guard]
    if progress is not None:
        callbacks.append(
            _Progress(f"{scheme.name} seed {seed}", config.steps, progress)
        )
    epochs = config.steps // config.eval_every
    start = time.perf_counter()
    history = model.fit(
        _batches(task, config, seed),
        steps_per_epoch=config.eval_every,
        epochs=epochs,
        validation_data=(x_test, y_test),
        shuffle=False,  # the generator's order is the seeded data stream
        callbacks=callbacks,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    steps_run = tracker.step if guard.diagnosis is None else guard.diagnosis["step"]
    if not diagnostics.records or diagnostics.records[-1]["step"] != tracker.step:
        diagnostics.record_now(step=tracker.step)
    test = [float(v) for v in history.history.get("val_loss", [])]
    finite = [v for v in test if math.isfinite(v)]
    model_path = None
    if save_dir is not None:
        model_path = os.path.join(save_dir, f"{scheme.name}-seed{seed}.keras")
        model.save(model_path)
    return {
        "scheme": scheme.name,
        "description": scheme.description,
        "seed": seed,
        "config": dataclasses.asdict(config),
        "threshold": threshold,
        "metric": task.metric,
        "baseline": task.baseline(config.length),
        "curve": {
            "step": [s for s, _ in tracker.values],
            "test": test,
            "train": [float(v) for v in history.history.get("loss", [])],
        },
        "steps_to_threshold": tracker.crossed_step,
        "best_test": min(finite) if finite else None,
        "final_test": test[-1] if test else None,
        "steps_run": steps_run,
        "diverged": guard.diagnosis,
        "diagnostics": [_jsonable_diagnostics(r) for r in diagnostics.records],
        "wall_seconds": seconds,
        "model_path": model_path,
        "replicas": strategy.num_replicas_in_sync if strategy is not None else 1,
        "versions": versions(),
    }


def compare(
    schemes,
    seeds=(0,),
    config=None,
    progress=True,
    on_record=None,
    save_dir=None,
    completed=None,
    distribute=None,
    **overrides,
):
    """Train the same model under every scheme x seed with equal budgets.

    Args:
        schemes: Scheme names (or `Scheme` objects).
        seeds: Int seeds; seed s gives every scheme the same data stream and
            the same test set, and each scheme its own seeded weights.
        config: A `CompareConfig`; keyword `overrides` replace its fields.
        progress: True for a progress bar on stderr, a stream for one there,
            or None/False for silence.
        on_record: Called with each record as soon as its run finishes.
        save_dir: Folder to save each trained model in (see `train_one`).
        completed: {(scheme name, seed): record} of runs already done (an
            interrupted comparison's); they are returned as they are.
        distribute: None, "mirrored" (`tf.distribute.MirroredStrategy` over
            the local devices) or a `tf.distribute.Strategy`.

    Returns:
        A list of plain records (see `train_one`), scheme-major.

    Example:

        records = compare(["xavier_rnn", "uniform01"], seeds=[0, 1],
                          task="adding", length=50, steps=4000)
    """
    config = dataclasses.replace(config or CompareConfig(), **overrides)
    resolved = [scheme_registry.get(s) for s in schemes]
    if not resolved:
        raise ValueError("`schemes` must name at least one scheme. Received: []")
    seeds = list(seeds)
    if not seeds or any(
        isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds
    ):
        raise ValueError(
            f"`seeds` must be a non-empty list of ints >= 0. Received: seeds={seeds!r}"
        )
    stream = sys.stderr if progress is True else (progress or None)
    strategy = get_strategy(distribute)
    records = []
    completed = completed or {}
    for scheme in resolved:
        for seed in seeds:
            if (scheme.name, seed) in completed:
                records.append(completed[(scheme.name, seed)])
                continue
            record = train_one(
                scheme,
                seed,
                config,
                progress=stream,
                save_dir=save_dir,
                strategy=strategy,
            )
            records.append(record)
            if on_record is not None:
                on_record(record)
    return records
