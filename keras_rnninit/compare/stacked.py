"""Many runs, one compiled program: the stacked engine (JAX).

`train_one` gives each (scheme, seed) run its own Keras model and its own
`fit`, so every run traces and compiles its training step again. Here the
runs of one architecture (same layers and activation; the schemes differ only
in their initial weights) share one program: Keras' own training step,
written through its stateless API (`model.stateless_call`,
`optimizer.stateless_apply`), compiled once and `jax.vmap`-ed over a block of
runs whose variables are stacked. Each run keeps its own weights, optimizer
slots and data stream (batch k of seed s drawn from (s, k), as `train_one`
draws it), so a run's numbers are those of `train_one` to float32 rounding;
the runs of a block never mix.

Everything else is the runner's own code: the models are built and seeded by
`training._build_model`, the callbacks that track convergence and take the
diagnostics (`training._Branch`) are driven at each evaluation with the
logs `fit` would give them (the epoch's mean training loss and metric, the
test loss and metric), on the run's own model with its current weights.
A run whose loss turns non-finite stops at that step, as `NaNGuard` stops
`fit`: the block's evaluation period is replayed from its start up to that
step to recover the run's weights there (its other runs train on), and the
record's `diverged` says where NaN/Inf first appeared.

Only the JAX backend runs it (`jax.vmap`); `compare(..., engine="stacked")`
selects it.
"""

import dataclasses
import math
import time

import keras
import numpy as np

from keras_rnninit.compare import training
from keras_rnninit.compare.own import OwnRuns
from keras_rnninit.diagnostics import first_nonfinite
from keras_rnninit.utils.validation import check_positive_int

__all__ = ["check_config", "train_stacked"]

# Runs per compiled block. One: on XLA:CPU a vmapped block costs more per
# run than the plain program (benchmarks/NOTES.md, section 11).
BLOCK = 1


@dataclasses.dataclass
class _Run:
    """One (scheme, seed) run: its model, callbacks and data stream."""

    scheme: object
    seed: int
    model: object
    branch: object
    probe_x: object
    test: tuple
    batches: object
    diverged: dict | None = None


def _signature(model):
    """What must match for runs to share one compiled step: the model's
    config without its name and its initializers."""

    def strip(value):
        if isinstance(value, dict):
            return {
                k: strip(v)
                for k, v in value.items()
                if not k.endswith("_initializer") and k != "name"
            }
        if isinstance(value, list | tuple):
            return [strip(v) for v in value]
        return value

    return repr(strip(model.get_config()))


def _prepare(scheme, seed, config):
    """The run as `train_one` starts it: seeded, built and compiled."""
    task, test, probe = training._setup(config, seed)
    model = training._build_model(scheme, task, config, seed)
    model.compile(
        optimizer=training._optimizer(config),
        loss=task.loss(),
        metrics=task.metrics(),
    )
    model.optimizer.build(model.trainable_variables)
    branch = training._Branch(scheme, model, probe, config)
    branch.set_params(
        {"steps": config.eval_every, "epochs": config.steps // config.eval_every}
    )
    branch.set_model(model)
    batches = training._batches(task, config, seed)
    return _Run(scheme, seed, model, branch, probe[0], test, batches)


class _Program:
    """The compiled training step and evaluation of one architecture."""

    def __init__(self, template, task, block):
        import jax
        import jax.numpy as jnp

        self.template = template
        loss = task.loss()
        metrics = task.metrics()
        optimizer = template.optimizer

        def forward(trainable, frozen, x, training_mode):
            return template.stateless_call(trainable, frozen, x, training=training_mode)

        def scores(y, predicted):
            """Loss and each metric's (total, count) on one batch."""
            values = [loss(y, predicted)]
            for metric in metrics:
                slots = [jnp.zeros(v.shape, v.dtype) for v in metric.variables]
                slots = metric.stateless_update_state(slots, y, predicted)
                values.append(metric.stateless_result(slots))
            return jnp.stack(values)

        def objective(trainable, frozen, x, y):
            predicted, frozen = forward(trainable, frozen, x, True)
            values = scores(y, predicted)
            return values[0], (frozen, values)

        gradient = jax.value_and_grad(objective, has_aux=True)

        def step(trainable, frozen, slots, x, y):
            (_, (frozen, values)), grads = gradient(trainable, frozen, x, y)
            trainable, slots = optimizer.stateless_apply(slots, grads, trainable)
            return trainable, frozen, slots, values

        def evaluate(trainable, frozen, x, y):
            predicted, _ = forward(trainable, frozen, x, False)
            return scores(y, predicted)

        if block == 1:  # no vmap: XLA:CPU runs the plain program faster
            self.step = jax.jit(_one(step, 5))
            self.evaluate = jax.jit(_one(evaluate, 2))
        else:
            self.step = jax.jit(jax.vmap(step))
            self.evaluate = jax.jit(jax.vmap(evaluate, in_axes=(0, 0, None, None)))
        self.names = ["loss"] + [m.name for m in metrics]

    def compile(self, run, block, config, task):
        """Compile the step and the evaluation on throwaway data (not the
        run's stream); return the seconds, which the group's runs share."""
        import jax

        start = time.perf_counter()
        state = _stack([run] * block)
        x, y = task.train_data(config.batch_size, config.length, 0)
        x, y = (np.stack([a] * block) for a in (x, y))
        jax.block_until_ready(self.step(*state, x, y))
        jax.block_until_ready(self.evaluate(state[0], state[1], *run.test))
        return time.perf_counter() - start


def _one(function, stacked):
    """`function` on row 0 of its first `stacked` (stacked) arguments, its
    results stacked again: a block of one without `jax.vmap`."""
    import jax

    def run(*args):
        rows = jax.tree.map(lambda a: a[0], args[:stacked])
        out = function(*rows, *args[stacked:])
        return jax.tree.map(lambda a: a[None], out)

    return run


def _stack(runs):
    """[trainable, non-trainable, optimizer] variables of `runs`, stacked."""
    import jax.numpy as jnp

    def stack(groups):
        return [jnp.stack([v.value for v in g]) for g in zip(*groups, strict=True)]

    return [
        stack([r.model.trainable_variables for r in runs]),
        stack([r.model.non_trainable_variables for r in runs]),
        stack([r.model.optimizer.variables for r in runs]),
    ]


def _assign(run, state, k):
    """Run `run`'s model (and optimizer) to row `k` of the stacked `state`."""
    model = run.model
    for variables, values in zip(
        (
            model.trainable_variables,
            model.non_trainable_variables,
            model.optimizer.variables,
        ),
        state,
        strict=True,
    ):
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value[k])


def _running(values, batch):
    """What `fit` logs after each step of an epoch: the running mean of each
    score, as Keras' `Mean` keeps it (a float32 total of value x `batch`
    over a float32 count of samples, so the total overflows where Keras'
    does). `values`: (steps, scores)."""
    with np.errstate(over="ignore", invalid="ignore"):
        weighted = np.asarray(values, dtype=np.float32) * np.float32(batch)
        totals = np.cumsum(weighted, axis=0, dtype=np.float32)
        counts = np.float32(batch) * np.arange(1, len(values) + 1, dtype=np.float32)
        return totals / counts[:, None]


def _epoch_logs(names, running):
    """The logs `fit` gives when an epoch ends after the step whose running
    means (a row of `_running`) are `running`."""
    return {name: float(running[i]) for i, name in enumerate(names)}


def check_config(config):
    """Refuses a comparison on the user's own model (`own.OwnRuns`): the
    stacked engine builds its models from a built-in task."""
    if isinstance(config, OwnRuns):
        raise ValueError(
            "`engine='stacked'` needs a built-in task (not your own model). "
            "Received: model=<your model>"
        )


def train_stacked(
    runs,
    config,
    progress=None,
    save_dir=None,
    interrupted=None,
    block=BLOCK,
    on_block=None,
):
    """Train `runs` [(scheme, seed)] under `config`; return their `RunRecord`s
    in the same order, each as `training.train_one` would return it.

    Runs of one architecture share one compiled program and train `block`
    at a time, vmapped when `block` > 1 (a last, smaller block is padded
    with copies whose results are dropped, so that every block shares one
    compilation). `wall_seconds` is the block's training time split evenly.
    `interrupted()` is called after every evaluation, `on_block(records)`
    with each block's records as it finishes.
    """
    check_config(config)
    if keras.backend.backend() != "jax":
        raise ValueError(
            "`train_stacked` must run on the jax backend. "
            f"Received: backend={keras.backend.backend()!r}"
        )
    block = check_positive_int("block", block)
    prepared = [_prepare(scheme, seed, config) for scheme, seed in runs]
    for run in prepared[1:]:  # the same test set (seed 0) for every run: keep one
        run.test = prepared[0].test
    groups = {}
    for run in prepared:
        groups.setdefault(_signature(run.model), []).append(run)
    records = {}
    task = training.task_registry.get(config.task)
    for group in groups.values():
        program = _Program(group[0].model, task, block)
        compiled = program.compile(group[0], block, config, task) / len(group)
        for start in range(0, len(group), block):
            members = group[start : start + block]
            seconds = _train_block(
                program, members, block, config, task, progress, interrupted
            )
            share = seconds / len(members) + compiled
            finished = [_finish(run, config, share, save_dir) for run in members]
            records.update(zip(map(id, members), finished, strict=True))
            if on_block is not None:
                on_block(finished)
    return [records[id(run)] for run in prepared]


def _train_block(program, members, block, config, task, progress, interrupted):
    """Train `members` (padded to `block` runs) together; return seconds."""
    import jax.numpy as jnp

    padded = members + [members[0]] * (block - len(members))
    x_test, y_test = members[0].test
    state = _stack(padded)
    alive = [True] * len(members)
    epochs = config.steps // config.eval_every
    bar = None
    if progress is not None:
        keys = [f"val_{k}_{task.monitor}" for k in range(len(members))]
        first = members[0]
        label = (
            f"{first.scheme.name} seed {first.seed}"
            if len(members) == 1
            else f"{len(members)} runs stacked"
        )
        bar = training._Progress(
            label,
            config.steps,
            progress,
            keys=keys,
            best=training._best(task),
        )
        bar.set_params({"steps": config.eval_every})
    start = time.perf_counter()  # fit's clock covers on_train_begin too
    for run in members:
        run.branch.on_train_begin()
    for epoch in range(epochs):
        for run in members:
            run.branch.on_epoch_begin(epoch)
        snapshot, batches, values = list(state), [], []
        for _ in range(config.eval_every):
            pairs = [next(run.batches) for run in members]
            pairs += [pairs[0]] * (block - len(members))
            x = jnp.asarray(np.stack([p[0] for p in pairs]))
            y = jnp.asarray(np.stack([p[1] for p in pairs]))
            batches.append((x, y))
            *state, scored = program.step(*state, x, y)
            values.append(scored)
        values = np.asarray(jnp.stack(values))  # (steps, runs, scores)
        tested = np.asarray(program.evaluate(state[0], state[1], x_test, y_test))
        shown = {}
        for k, run in enumerate(members):
            if not alive[k]:
                continue
            # NaNGuard reads the logged loss: the epoch's running mean.
            running = _running(values[:, k], config.batch_size)
            bad = np.flatnonzero(~np.isfinite(running[:, 0]))
            if bad.size:
                alive[k] = False
                step = int(bad[0])
                loss = float(running[step, 0])
                replayed = batches[: step + 1]
                _diverge(program, run, k, snapshot, replayed, epoch, config, loss)
                logs = _epoch_logs(program.names, running[step])
                nan = {f"val_{n}": math.nan for n in program.names}
                run.branch.on_epoch_end(epoch, logs | nan)
                continue
            _assign(run, state, k)
            logs = _epoch_logs(program.names, running[-1])
            logs.update(
                {f"val_{n}": float(tested[k, i]) for i, n in enumerate(program.names)}
            )
            run.branch.on_epoch_end(epoch, logs)
            shown[f"val_{k}_{task.monitor}"] = logs[f"val_{task.monitor}"]
        if bar is not None:
            bar.on_epoch_end(epoch, shown)
        if interrupted is not None:
            interrupted()
        if not any(alive):
            break
    if bar is not None:
        bar.on_train_end()
    return time.perf_counter() - start


def _diverge(program, run, k, snapshot, batches, epoch, config, loss):
    """Run `k` logged the non-finite `loss` at the last of `batches` (this
    epoch's, up to that step): replay them from the epoch's start for its
    weights there and diagnose as NaNGuard does."""
    state = list(snapshot)
    for x, y in batches:
        *state, _ = program.step(*state, x, y)
    _assign(run, state, k)
    found = first_nonfinite(run.model, run.probe_x) or {}
    run.diverged = {
        "step": epoch * config.eval_every + len(batches),
        "epoch": epoch,
        "loss": loss,
        "where": found.get("where", "loss"),
        "name": found.get("name"),
        "time_step": found.get("step"),
    }


def _finish(run, config, seconds, save_dir):
    path = training._save(run.model, save_dir, run.scheme.name, run.seed)
    diverged = run.diverged or run.branch.diverged
    return training._record(run.branch, run.seed, config, seconds, None, path, diverged)
