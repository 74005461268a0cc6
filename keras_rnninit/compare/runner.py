"""Train one architecture under several schemes and seeds; return run records."""

import dataclasses
import re
import sys

import keras

from keras_rnninit import schemes as scheme_registry
from keras_rnninit import tasks as task_registry
from keras_rnninit.compare import executors, own, stacked
from keras_rnninit.compare.records import as_record
from keras_rnninit.compare.tensorboard import RunWriter, check_tensorboard_dir
from keras_rnninit.compare.training import train_one
from keras_rnninit.utils.validation import check_positive_int, check_positive_number

__all__ = [
    "CompareConfig",
    "check_executor",
    "check_runs",
    "compare",
    "plan",
    "train_one",
]


DEFAULT_LENGTH = 50
DEFAULT_TEST_SIZE = 1000


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    """What every run of a comparison shares.

    The test metric is evaluated every `eval_every` steps on `test_size`
    held-out sequences; diagnostics run on the first `probe_size` of them
    every `diagnostics_every` evaluations (and at the start and the end).
    `threshold` defaults to the task's (adding: test MSE 0.01). `length`
    defaults to 50 and `test_size` to 1000; a dataset task has its own T and
    a fixed test split, which they default to and must equal (digits: 64
    and 599), and its optional data packages must be installed.
    """

    task: str = "adding"
    length: int | None = None
    units: int = 64
    steps: int = 4000
    batch_size: int = 64
    learning_rate: float = 1e-3
    clipnorm: float | None = None
    eval_every: int = 100
    test_size: int | None = None
    threshold: float | None = None
    diagnostics_every: int = 5
    probe_size: int = 64
    cell: str = "simple"

    def __post_init__(self):
        task = task_registry.get(self.task)
        info = task.dataset
        # Defaults that depend on the task, resolved once (records store them).
        for name, default, fixed in (
            ("length", DEFAULT_LENGTH, info and info.length),
            ("test_size", DEFAULT_TEST_SIZE, info and info.test_size),
        ):
            if getattr(self, name) is None:
                object.__setattr__(self, name, fixed or default)
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
            check_positive_int(name, getattr(self, name))
        for name in ("learning_rate", "clipnorm", "threshold"):
            optional = name != "learning_rate"
            check_positive_number(name, getattr(self, name), optional=optional)
        if self.cell not in scheme_registry.CELLS:
            raise ValueError(
                f"`cell` must be one of {', '.join(scheme_registry.CELLS)}. "
                f"Received: cell={self.cell!r}"
            )
        if self.cell != "simple" and keras.backend.backend() != "tensorflow":
            raise ValueError(
                "`cell` must be 'simple' on the "
                f"{keras.backend.backend()} backend (LSTM/GRU diagnostics need "
                f"tensorflow). Received: cell={self.cell!r}"
            )
        if info is not None:
            _check_dataset(self, info)
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
        if task.mode == "max" and self.threshold is not None and self.threshold >= 1:
            raise ValueError(
                f"`threshold` must be < 1 for the {task.name} task (solved: "
                f"{task.metric} above it). Received: threshold={self.threshold!r}"
            )

    @property
    def resolved_threshold(self):
        task = task_registry.get(self.task)
        return (
            self.threshold
            if self.threshold is not None
            else task.threshold(self.length)
        )


def _check_dataset(config, info):
    """A dataset task's fixed sizes; its data packages are importable."""
    for name, value, expected, what in (
        ("length", config.length, info.length, "its sequences' T"),
        ("test_size", config.test_size, info.test_size, "its test split"),
    ):
        if value != expected:
            raise ValueError(
                f"`{name}` must be {expected} for the {info.name} task "
                f"({what}). Received: {name}={value}"
            )
    if config.batch_size > info.train_size:
        raise ValueError(
            f"`batch_size` must be <= {info.train_size} for the {info.name} "
            f"task (its training split). Received: batch_size={config.batch_size}"
        )
    info.require()


def _get_strategy(distribute):
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


def compare(
    schemes: list,
    seeds=(0,),
    config: "CompareConfig | None" = None,
    progress=True,
    on_record=None,
    save_dir: str | None = None,
    completed: dict | None = None,
    distribute=None,
    fused: bool = True,
    executor: str = "local",
    ray_address: str | None = None,
    model=None,
    data=None,
    validation_data=None,
    trust_model: bool = False,
    tensorboard_dir=None,
    engine: str = "keras",
    **overrides,
) -> list[dict]:
    """Train the same model under every scheme x seed with equal budgets.

    By default the schemes of each seed train fused, as independent branches
    of one model fed the same batches (see `training.train_fused`): the same
    curves as one model per run to float32 tolerance, at a fraction of the
    time. `fused=False` trains one model per run.

    Args:
        schemes: Scheme names (or `Scheme` objects), no repeats.
        seeds: Int seeds, no repeats; seed s gives every scheme the same data stream and
            the same test set, and each scheme its own seeded weights.
        config: A `CompareConfig` (or, for your own model, the
            `own.OwnRuns` that `own.runs_of` checked); keyword `overrides`
            replace its fields.
        progress: True for a progress bar on stderr, a stream for one there,
            or None/False for silence.
        on_record: Called with each record as soon as its run finishes.
        save_dir: Folder to save each trained model in.
        completed: {(scheme name, seed): record} of runs already done (an
            interrupted comparison's, `RunRecord`s or their dicts); they are
            returned as they are (fused,
            the other schemes of their seed are trained with them again).
        distribute: None, "mirrored" (`tf.distribute.MirroredStrategy` over
            the local devices) or a `tf.distribute.Strategy`.
        fused: Train the schemes of a seed as branches of one model.
        executor: "local" (this process) or "ray" (each seed's runs, or
            each run with `fused=False`, as a Ray task; with
            `engine="stacked"` each seed's pending runs as one block; see
            `executors.py`).
        ray_address: "HOST:PORT" of a running Ray cluster; None starts a
            local Ray instance (executor "ray" only).
        model: Your own model instead of a built-in task's: a compiled
            `keras.Model`, a `.keras` path (Keras' safe mode unless
            `trust_model`) or a zero-argument builder. Each run trains
            `schemes.reinitialize(model, scheme, seed)` with the model's
            compile settings and a fresh optimizer (`own.py`); the
            `overrides` are then steps, batch_size, eval_every,
            diagnostics_every, probe_size, `monitor` (default "val_loss")
            and `target` (solved: the monitored value gets past it, in the
            direction Keras' EarlyStopping infers).
        data: `(x, y)` or `(x, y, sample_weight)` arrays (x: an array, or a
            list or dict of them), a finite `tf.data.Dataset` or a
            `keras.utils.PyDataset` to train `model` on. A dataset is read
            once into memory and its batch size is the default
            `batch_size` (`own.data.read_batches`: what its pipeline draws at
            random is drawn once). The batches of a seed are the same for
            every scheme.
        validation_data: The same kinds, evaluated every `eval_every` steps
            and after the last step.
        trust_model: Load a `.keras` `model` outside Keras' safe mode.
        engine: "keras" (each run, or each fused seed, through its own
            `fit`) or "stacked" (JAX only, built-in tasks: the runs of one
            architecture share one compiled training step,
            `compare/stacked.py`; the same records to float32 rounding, no
            model compiled twice). With `executor="ray"` each seed's runs
            are one block, one Ray task.
        tensorboard_dir: A folder (str or os.PathLike) to write every run
            into as the TensorBoard run `<scheme>/seed<k>` once it finishes
            (`completed` runs too): its curves and diagnostics as scalars,
            and scheme, seed and cell with steps to target, best and final
            monitored value in the HParams table (steps to target left out
            when the target is never reached). A run folder written before
            is replaced. Needs `keras_rnninit[tensorboard]`; see
            `compare/tensorboard.py`.

    Returns:
        A list of `RunRecord`s (`keras_rnninit/compare/records.py`),
        scheme-major: `record.final_test`, `record.steps_to_threshold`,
        `record.to_dict()` for JSON.

    Example:

        records = compare(["xavier_rnn", "uniform01"], seeds=[0, 1],
                          task="adding", length=50, steps=4000)
    """
    if tensorboard_dir is not None:
        check_tensorboard_dir(tensorboard_dir)
    if model is not None or data is not None or isinstance(config, own.OwnRuns):
        config = _own_runs(config, model, data, validation_data, trust_model, overrides)
        resolved, seeds = own.check_runs(schemes, seeds, config)
        check_executor(executor, ray_address, distribute)
        if distribute is not None:
            raise ValueError(
                "`distribute` must be None for a comparison on your own model. "
                f"Received: distribute={distribute!r}"
            )
        fused = False  # the user's model is never fused
    else:
        # Without a config, the task's defaults apply (length, test_size).
        config = (
            CompareConfig(**overrides)
            if config is None
            else dataclasses.replace(config, **overrides)
        )
        resolved, seeds = check_runs(schemes, seeds, config.cell, config.length)
        check_executor(executor, ray_address, distribute)
    check_engine(engine, distribute, config)
    names = [s.name for s in resolved]
    stream = sys.stderr if progress is True else (progress or None)
    strategy = _get_strategy(distribute)
    done = {key: as_record(value) for key, value in (completed or {}).items()}
    # A stacked run's numbers do not depend on the runs beside it: resume
    # trains only the pending ones, a seed's pending runs as one block.
    if engine == "stacked":
        units = blocks(resolved, seeds, done)
    else:
        units = plan(resolved, seeds, done, fused)
    board = None
    if tensorboard_dir is not None:
        board = RunWriter(tensorboard_dir, names, seeds, getattr(config, "cell", None))
        for key in [(name, seed) for name in names for seed in seeds]:
            if key in done:
                board.write(done[key])

    def keep(records):
        """Keep the records of runs not done before; return how many."""
        kept = 0
        for record in records:
            key = (record.scheme, record.seed)
            if key in done:
                continue
            done[key] = record
            kept += 1
            if board is not None:
                board.write(record)
            if on_record is not None:
                on_record(record)
        return kept

    total = len(names) * len(seeds)
    tally = executors.Tally(total, len(done), stream)
    if executor == "ray":
        executors.run_ray(
            units,
            config,
            keep,
            tally,
            save_dir,
            address=ray_address,
            fused=fused,
            engine=engine,
        )
    elif engine == "stacked":
        executors.run_stacked(units, config, keep, tally, stream, save_dir)
    else:
        executors.run_local(
            units, config, keep, tally, fused, stream, save_dir, strategy
        )
    return [done[(name, seed)] for name in names for seed in seeds]


def _own_runs(config, model, data, validation_data, trust_model, overrides):
    if isinstance(config, own.OwnRuns) and model is None and data is None:
        return dataclasses.replace(config, **overrides)
    if config is not None:
        raise ValueError(
            "`config` (a CompareConfig) is for the built-in tasks; with `model`, "
            "pass its settings as keywords. Received: config and model"
        )
    if model is None:
        raise ValueError("`model` must be given with `data`. Received: model=None")
    return own.runs_of(model, data, validation_data, trust_model, **overrides)


def plan(resolved, seeds, done, fused=True):
    """The units of work [(schemes, seed)] for the runs not in `done`.

    Fused, a seed with any run pending trains all its schemes again, so that
    its records are those of an uninterrupted comparison (only new ones are
    kept); otherwise each pending run is its own unit.
    """
    units = []
    for pending, seed in blocks(resolved, seeds, done):
        if fused and len(resolved) > 1:
            units.append((list(resolved), seed))
        else:
            units += [([s], seed) for s in pending]
    return units


def blocks(resolved, seeds, done):
    """The stacked engine's units [(schemes, seed)]: each seed's runs not in
    `done`, as one block (one Ray task; locally every block of one
    architecture shares one compiled step)."""
    units = []
    for seed in seeds:
        pending = [s for s in resolved if (s.name, seed) not in done]
        if pending:
            units.append((pending, seed))
    return units


ENGINES = ("keras", "stacked")


def check_engine(engine, distribute=None, config=None):
    """Refuses an unknown engine, and a stacked one where it cannot run
    (either executor runs it; a Ray worker checks its own backend)."""
    if engine not in ENGINES:
        raise ValueError(
            f"`engine` must be one of {', '.join(ENGINES)}. Received: engine={engine!r}"
        )
    if engine == "keras":
        return
    backend = keras.backend.backend()
    for ok, what, value in (
        (backend == "jax", "the jax backend", f"backend={backend!r}"),
        (distribute is None, "no `distribute`", f"distribute={distribute!r}"),
    ):
        if not ok:
            raise ValueError(f"`engine='stacked'` needs {what}. Received: {value}")
    stacked.check_config(config)


def check_executor(executor, ray_address=None, distribute=None):
    """Refuses an unknown executor, and options the executor cannot use."""
    if executor not in executors.EXECUTORS:
        raise ValueError(
            f"`executor` must be one of {', '.join(sorted(executors.EXECUTORS))}. "
            f"Received: executor={executor!r}"
        )
    if ray_address is not None and executor != "ray":
        raise ValueError(
            "`ray_address` needs `executor='ray'`. "
            f"Received: executor={executor!r}, ray_address={ray_address!r}"
        )
    if ray_address is not None and not (
        isinstance(ray_address, str) and re.fullmatch(r"[^\s:]+:\d{1,5}", ray_address)
    ):
        raise ValueError(
            f"`ray_address` must be HOST:PORT. Received: ray_address={ray_address!r}"
        )
    if executor == "ray" and distribute is not None:
        raise ValueError(
            "`distribute` cannot be combined with `executor='ray'` (each Ray "
            f"task trains on one CPU). Received: distribute={distribute!r}"
        )


def check_runs(schemes, seeds, cell="simple", length=None):
    """The `Scheme`s and the seeds of a comparison, checked; nothing is trained.

    Refuses an empty or repeating list of schemes or seeds, unknown scheme
    names, schemes that do not support `cell` (None: any cell), and seeds
    that are not ints >= 0. A length-aware scheme (`chrono_length`) is
    returned for the task's `length` (`Scheme.for_length`); without a
    length (a comparison on your own model) it is refused.
    """
    resolved = [scheme_registry.get(s) for s in schemes]
    for scheme in resolved:
        if scheme.needs_length and length is None:
            raise ValueError(
                f"`schemes` must not hold a length-aware scheme ({scheme.name!r} "
                "takes T from a built-in task's `length`) for a comparison "
                "without a task length; in Python pass "
                f"`schemes.get({scheme.name!r}).for_length(T)`, on the command "
                "line `chrono` (T_max 100). "
                f"Received: schemes={[s.name for s in resolved]}"
            )
    if length is not None:
        resolved = [scheme.for_length(length) for scheme in resolved]
    for scheme in resolved:
        if cell is not None and cell not in scheme.cells:
            raise ValueError(
                f"`schemes` must support cell {cell!r}; {scheme.name!r} supports "
                f"{', '.join(sorted(scheme.cells))}. Received: schemes="
                f"{[s.name for s in resolved]}"
            )
    if not resolved:
        raise ValueError("`schemes` must name at least one scheme. Received: []")
    names = [s.name for s in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"`schemes` must not repeat a name. Received: {names}")
    seeds = list(seeds)
    if not seeds or any(
        isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds
    ):
        raise ValueError(
            f"`seeds` must be a non-empty list of ints >= 0. Received: seeds={seeds!r}"
        )
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"`seeds` must not repeat a seed. Received: seeds={seeds}")
    return resolved, seeds
