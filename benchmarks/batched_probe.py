"""Batched probe (issue 39): does stacking models under `jax.vmap` pay on XLA:CPU?

    taskset -c 0 .venv/bin/python benchmarks/batched_probe.py   # ~3 minutes
    .venv/bin/python benchmarks/batched_probe.py --quick        # for the tests

The sweep engine of issue 39 would train many (scheme, seed) models as one
program: their weights stacked, one `jax.vmap` over the training step. This
probe measures the two things that decide whether that route can reach the
issue's 3x, on one core (pin it, as above; JAX, float32, B = 64, H = 64):

- `step`: the comparison runner's own model (`uniform_diag`, FastSimpleRNN(64)
  + Dense(1), adding T) and its own optimizer (Adam 1e-3, clipnorm 1),
  trained through Keras' stateless API (`model.stateless_call`,
  `optimizer.stateless_apply`), one jitted step for one model, and the same
  step `jax.vmap`-ed over M stacked models: ms per model-step.
- `matmul`: the products the recurrence is made of, (M, 64, 64) @ (M, 64, 64)
  batched inside a `lax.scan` of T steps (with a relu, as the layer has):
  microseconds per 64x64x64 product, GFLOP/s, with and without the scan
  stacking each step's state (`ys`), which the backward pass needs.

Each figure is the minimum and median over `--rounds` rounds of `--steps`
calls after a warm-up call. Writes `--out` (JSON, every sample) and prints a
Markdown table; benchmarks/NOTES.md section 11 reads it.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

COMMAND = "taskset -c 0 python benchmarks/batched_probe.py"
# glibc's settings that keep freed buffers in the process (see NOTES.md 11).
MALLOC = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")


def _ints(text):
    return [int(v) for v in text.split(",") if v]


def _timed(call, rounds, steps):
    """Seconds per call, one sample per round (after one warm-up call), and
    the minor page faults per call over all rounds (getrusage)."""
    import jax

    jax.block_until_ready(call())
    samples = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            out = call()
            jax.block_until_ready(out)
        samples.append((time.perf_counter() - start) / steps)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return samples, faults / (rounds * steps)


def runner_models(length, models):
    """The comparison runner's first `models` seeds of `uniform_diag` on adding
    T=`length` (Adam 1e-3, clipnorm 1), built as `train_one` builds them."""
    from keras_rnninit import schemes
    from keras_rnninit.compare import training
    from keras_rnninit.compare.runner import CompareConfig

    config = CompareConfig(task="adding", length=length, clipnorm=1.0, steps=100)
    built = []
    for seed in range(models):
        task, _, _ = training._setup(config, seed)
        built.append(
            training._build_model(schemes.get("uniform_diag"), task, config, seed)
        )
    return config, task, built


def stacked_step(config, task, built):
    """(step, state): one jitted, vmapped training step of the stacked models
    `built` (one architecture) through Keras' stateless API, and the stacked
    [trainable, non-trainable, optimizer] variables it advances."""
    import jax
    import jax.numpy as jnp

    from keras_rnninit.compare import training

    template = built[0]
    optimizer = training._optimizer(config)
    optimizer.build(template.trainable_variables)
    loss = task.loss()

    def loss_of(trainable, frozen, x, y):
        predicted, frozen = template.stateless_call(trainable, frozen, x, training=True)
        return loss(y, predicted), frozen

    gradient = jax.value_and_grad(loss_of, has_aux=True)

    def step(trainable, frozen, slots, x, y):
        (value, frozen), grads = gradient(trainable, frozen, x, y)
        trainable, slots = optimizer.stateless_apply(slots, grads, trainable)
        return trainable, frozen, slots, value

    def stack(variables):
        groups = zip(*variables, strict=True)
        return [jnp.stack([v.value for v in group]) for group in groups]

    state = [
        stack([m.trainable_variables for m in built]),
        stack([m.non_trainable_variables for m in built]),
        [jnp.stack([v.value] * len(built)) for v in optimizer.variables],
    ]
    return jax.jit(jax.vmap(step)), state


def step_samples(length, models, rounds, steps):
    """Seconds per vmapped training step of `models` stacked runner models."""
    import jax.numpy as jnp
    import numpy as np

    config, task, built = runner_models(length, models)
    run, state = stacked_step(config, task, built)
    x, y = task.train_data(config.batch_size, length, 0)
    x = jnp.asarray(np.stack([x] * models))
    y = jnp.asarray(np.stack([y] * models))

    def call():
        state[0], state[1], state[2], value = run(*state, x, y)
        return value

    return _timed(call, rounds, steps)


def peer_samples(length, rounds, steps):
    """Seconds per training step of the peer: one Keras SimpleRNN(64, relu) +
    Dense(1) model, `fit` over `steps` batches of adding T=`length` per round
    (Adam 1e-3, clipnorm 1, batch 64, MSE), after a warm-up fit."""
    import keras
    import numpy as np

    from keras_rnninit.tasks import adding_problem

    model = keras.Sequential(
        [
            keras.Input((length, 2)),
            keras.layers.SimpleRNN(64, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse")
    x, y = adding_problem(64 * steps, length, seed=0)
    x, y = np.asarray(x), np.asarray(y)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    samples = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        start = time.perf_counter()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
        samples.append((time.perf_counter() - start) / steps)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return samples, faults / (rounds * steps)


def shared_samples(length, models, rounds, steps):
    """Seconds per model-step of one compiled (unbatched) training step shared
    by `models` runner models, each advanced in turn: no model recompiles."""
    import jax.numpy as jnp

    config, task, built = runner_models(length, models)
    run, _ = stacked_step(config, task, built[:1])
    states = [stacked_step(config, task, [m])[1] for m in built]
    x, y = task.train_data(config.batch_size, length, 0)
    x, y = jnp.asarray(x[None]), jnp.asarray(y[None])

    def call():
        for state in states:
            state[0], state[1], state[2], value = run(*state, x, y)
        return value

    samples, faults = _timed(call, rounds, steps)
    return [v / models for v in samples], faults / models


def matmul_samples(length, models, stacked, rounds, steps):
    """Seconds per scan of `length` batched (models, 64, 64) products."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax import lax

    rng = np.random.default_rng(0)
    h = jnp.asarray(rng.random((models, 64, 64), dtype=np.float32))
    w = jnp.asarray(rng.random((models, 64, 64), dtype=np.float32) * 0.02)
    p = jnp.asarray(rng.random((length, models, 64, 64), dtype=np.float32) * 0.1)

    def scan(p, h, w):
        def one(s, p_t):
            new = jax.nn.relu(p_t + jnp.einsum("mbh,mhk->mbk", s, w))
            return new, (new if stacked else None)

        last, states = lax.scan(one, h, p)
        return states if stacked else last

    run = jax.jit(scan)
    return _timed(lambda: run(p, h, w), rounds, steps)


def summary(samples, per):
    """min and median of `samples` divided by `per`."""
    return min(samples) / per, statistics.median(samples) / per


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=150)
    parser.add_argument("--models", type=_ints, default=[1, 10, 45])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "batched_probe.json")
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.models, args.rounds, args.steps = 8, [1, 3], 2, 2
    rows = []
    seconds, faults = peer_samples(args.length, args.rounds, args.steps * 5)
    rows.append({"what": "peer", "models": 1, "seconds": seconds, "faults": faults})
    seconds, faults = shared_samples(
        args.length, max(args.models), args.rounds, args.steps
    )
    rows.append(
        {
            "what": "shared",
            "models": max(args.models),
            "seconds": seconds,
            "faults": faults,
        }
    )
    for models in args.models:
        seconds, faults = step_samples(args.length, models, args.rounds, args.steps)
        rows.append(
            {"what": "step", "models": models, "seconds": seconds, "faults": faults}
        )
        for stacked in (False, True):
            seconds, faults = matmul_samples(
                args.length, models, stacked, args.rounds, args.steps
            )
            rows.append(
                {
                    "what": "matmul+ys" if stacked else "matmul",
                    "models": models,
                    "seconds": seconds,
                    "faults": faults,
                }
            )
    heap = {k: os.environ[k] for k in MALLOC if k in os.environ}
    print(f"T={args.length}, one core, malloc settings {heap or 'default'}\n")
    print(
        "| what | M | per model-step ms (min / median) | per product µs "
        "(min / median) | GFLOP/s | page faults per call |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        m = row["models"]
        if row["what"] in ("peer", "shared"):  # already per model-step
            low, mid = summary(row["seconds"], 1)
            row["ms_per_model_step"] = [low * 1e3, mid * 1e3]
            cells = f"{low * 1e3:.2f} / {mid * 1e3:.2f} | | "
        elif row["what"] == "step":
            low, mid = summary(row["seconds"], m)
            row["ms_per_model_step"] = [low * 1e3, mid * 1e3]
            cells = f"{low * 1e3:.2f} / {mid * 1e3:.2f} | | "
        else:
            low, mid = summary(row["seconds"], m * args.length)
            row["us_per_product"] = [low * 1e6, mid * 1e6]
            row["gflops"] = 2 * 64**3 / low / 1e9
            cells = f" | {low * 1e6:.1f} / {mid * 1e6:.1f} | {row['gflops']:.0f}"
        print(f"| {row['what']} | {m} | {cells} | {row['faults']:.0f} |")
    result = {"command": COMMAND, "malloc": heap, "length": args.length, "rows": rows}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
