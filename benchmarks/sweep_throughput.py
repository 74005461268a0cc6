"""Sweep throughput (issue 39): model-steps per second of a comparison, end to end.

    .venv/bin/python benchmarks/sweep_throughput.py            # issue 39's G1 size
    .venv/bin/python benchmarks/sweep_throughput.py --schemes irnn,uniform_diag \
        --seeds 0,1 --steps 500 --rounds 2                     # a smaller one
    .venv/bin/python benchmarks/sweep_throughput.py --quick    # for the tests

What a sweep costs, measured as a user runs it: each variant in a fresh
process, timed by this script from the process' start to its exit (imports,
model building and compiling, training, evaluation, diagnostics, the run
store, the report and the saved models included), the variants alternating
round by round:

- `peer`: one Keras-on-JAX SimpleRNN(64, relu) + Dense(1) model, built,
  compiled and fit for `--steps` steps on adding T (Adam 1e-3, clipnorm 1,
  batch 64): what a sweep of single Keras models pays per run, one process
  each; the same process then fits the same steps again, timed inside it
  (`peer_steady`: the peer's training rate once compiled, the stricter
  reading of issue 39's "one model's model-steps per second"), and the
  `peer` row is the process' time without that second fit;
- `keras`: `keras-rnninit compare` on JAX with the default engine (each
  seed's schemes fused into one model, one `fit` per seed);
- `stacked`: the same command with `--engine stacked` (one compiled training
  step per architecture shared by all runs, compare/stacked.py);
- `stacked_ray`: the same with `--executor ray` too: a local Ray instance
  (one CPU per core, on 127.0.0.1, its start inside the clock) trains each
  seed's runs as one stacked block, one task per core at a time.

Each variant's rate is model-steps per second: runs x steps / seconds (the
peer: steps / seconds). Ratios are to the peer (> 1: faster than the peer),
minimum and median over `--rounds`. The floor is arithmetic only: one
64x64 @ 64x64 float32 product timed here (numpy, best of 20 x 2000 calls)
times the 3T products a training step needs. Writes `--out` (JSON with every
sample) and prints a Markdown table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from peer_step_time import matmul_seconds  # noqa: E402  (the same floor)

VARIANTS = ("peer", "keras", "stacked", "stacked_ray")
# What each `compare` variant adds to the shared command line.
FLAGS = {
    "keras": [],
    "stacked": ["--engine", "stacked"],
    "stacked_ray": ["--engine", "stacked", "--executor", "ray"],
}
SCHEMES = (
    "critical_tanh,irnn,irnn_xavier,keras_default,np_rnn,orthogonal,"
    "spectral_095,uniform_diag,xavier_rnn"
)


def _ints(text):
    return [int(v) for v in text.split(",") if v]


def peer(length, steps):
    """Child: build, compile and fit the peer model for `steps` steps."""
    os.environ["KERAS_BACKEND"] = "jax"
    sys.path.insert(0, ROOT)
    import keras
    import numpy as np

    from keras_rnninit.tasks import adding_problem

    x, y = adding_problem(64 * steps, length, seed=0)
    model = keras.Sequential(
        [
            keras.Input((length, 2)),
            keras.layers.SimpleRNN(64, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse")
    x, y = np.asarray(x), np.asarray(y)
    model.fit(x, y, batch_size=64, verbose=0, shuffle=False)
    # Then the same steps again, compiled: the peer's steady training rate.
    start = time.perf_counter()
    model.fit(x, y, batch_size=64, verbose=0, shuffle=False)
    print(json.dumps({"steady_seconds": time.perf_counter() - start}))


def command(variant, args, out):
    """The argv of one timed variant."""
    if variant == "peer":
        return [
            sys.executable,
            os.path.abspath(__file__),
            "--peer-child",
            "--length",
            str(args.length),
            "--steps",
            str(args.steps),
        ]
    argv = [
        sys.executable,
        "-m",
        "keras_rnninit",
        "compare",
        "--backend",
        "jax",
        "--task",
        "adding",
        "--length",
        str(args.length),
        "--clipnorm",
        "1",
        "--steps",
        str(args.steps),
        "--schemes",
        args.schemes,
        "--seeds",
        ",".join(map(str, args.seeds)),
        "--out",
        out,
    ]
    return argv + FLAGS[variant]


def timed(argv):
    """Seconds from the process' start to its exit, and its stdout."""
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=150)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--schemes", default=SCHEMES)
    parser.add_argument("--seeds", type=_ints, default=list(range(10)))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--variants",
        help=f"comma-separated, among {', '.join(VARIANTS)} (default: all; "
        "with --quick all but stacked_ray, whose Ray start the cluster tests "
        "cover)",
    )
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "sweep_throughput.json")
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--peer-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer_child:
        peer(args.length, args.steps)
        return 0
    if args.quick:
        args.length, args.steps, args.rounds = 8, 200, 1
        args.schemes, args.seeds = "irnn,xavier_rnn", [0]
        args.variants = args.variants or "peer,keras,stacked"
    args.variants = args.variants or ",".join(VARIANTS)
    variants = [v for v in args.variants.split(",") if v]
    for variant in variants:
        if variant not in VARIANTS:
            parser.error(
                f"`--variants` must name some of {', '.join(VARIANTS)}. "
                f"Received: {variant!r}"
            )
    runs = len(args.schemes.split(",")) * len(args.seeds)
    samples = {v: [] for v in variants}
    steady = []
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(args.rounds):
            order = variants[r % len(variants) :] + variants[: r % len(variants)]
            for variant in order:
                out = os.path.join(scratch, f"{variant}-{r}")
                seconds, stdout = timed(command(variant, args, out))
                if variant == "peer":  # the process also timed a second fit
                    steady.append(json.loads(stdout.splitlines()[-1]))
                    seconds -= steady[-1]["steady_seconds"]  # one run's cost
                samples[variant].append(seconds)
                print(f"round {r} {variant}: {seconds:.1f} s", file=sys.stderr)
    floor = 3 * args.length * matmul_seconds()
    rows = {}
    for variant, seconds in samples.items():
        steps = args.steps * (1 if variant == "peer" else runs)
        rates = [steps / s for s in seconds]
        rows[variant] = {
            "seconds": seconds,
            "model_steps": steps,
            "rate_max": max(rates),
            "rate_median": statistics.median(rates),
        }
    if "peer" in rows:
        rates = [args.steps / s["steady_seconds"] for s in steady]
        rows["peer_steady"] = {
            "seconds": [s["steady_seconds"] for s in steady],
            "model_steps": args.steps,
            "rate_max": max(rates),
            "rate_median": statistics.median(rates),
        }
    for row in rows.values():
        if "peer" in rows:
            peer_run, steady_peer = rows["peer"], rows["peer_steady"]
            row["vs_peer_best"] = row["rate_max"] / peer_run["rate_max"]
            row["vs_peer_median"] = row["rate_median"] / peer_run["rate_median"]
            row["vs_steady_best"] = row["rate_max"] / steady_peer["rate_max"]
            row["vs_steady_median"] = row["rate_median"] / steady_peer["rate_median"]
    result = {
        "length": args.length,
        "steps": args.steps,
        "schemes": args.schemes,
        "seeds": args.seeds,
        "runs": runs,
        "floor_ms_per_model_step": floor * 1e3,
        "rows": rows,
    }
    print(
        f"adding T={args.length}, {runs} runs x {args.steps} steps; floor "
        f"{floor * 1e3:.2f} ms per model-step\n"
    )
    print(
        "| variant | seconds (min / median) | model-steps/s (best / median) "
        "| vs peer run | vs peer's steady fit |"
    )
    print("|---|---|---|---|---|")
    for variant, row in rows.items():
        ratios = [
            f"{row[k + '_best']:.2f}x / {row[k + '_median']:.2f}x"
            if k + "_best" in row
            else ""
            for k in ("vs_peer", "vs_steady")
        ]
        print(
            f"| {variant} | {min(row['seconds']):.1f} / "
            f"{statistics.median(row['seconds']):.1f} | {row['rate_max']:.0f} / "
            f"{row['rate_median']:.0f} | {ratios[0]} | {ratios[1]} |"
        )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
