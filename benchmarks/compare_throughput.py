"""Comparison throughput (issue G3): the CLI's wall time against the peer's step.

    .venv/bin/python benchmarks/compare_throughput.py           # ~5 minutes
    .venv/bin/python benchmarks/compare_throughput.py --quick   # for the tests

Times the exact command a user runs,

    keras-rnninit compare --task adding --length 50 \
        --schemes xavier_rnn,keras_default,uniform01,he,orthogonal,irnn \
        --seeds 0,1 --steps 2000 -o DIR

from process start to exit (the report, plots and models are written before
it exits; evaluation every 100 steps and the diagnostics included), once per
backend (TensorFlow, JAX) per round, the backends alternating. Between
rounds, one Keras-on-JAX SimpleRNN model (the peer, see peer_step_time.py)
times `fit` over 100 batches of the same shape in a warm worker process, so
the budget comes from the same run:

    budget = 1.5 x runs x steps x (peer ms per step, minimum over rounds)

Figures: wall seconds (minimum and median over rounds), ms per model-step
(wall / (runs x steps)) and wall / budget (<= 1.0 meets the target).
Writes benchmarks/results/compare_throughput.json and prints a table.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peer_step_time  # noqa: E402

from keras_rnninit.cli.parser import _seed_list  # noqa: E402

SCHEMES = "xavier_rnn,keras_default,uniform01,he,orthogonal,irnn"
BACKENDS = ("tensorflow", "jax")
FACTOR = 1.5


def compare_command(out, length, schemes, seeds, steps):
    return [
        sys.executable,
        "-m",
        "keras_rnninit",
        "compare",
        "--task",
        "adding",
        "--length",
        str(length),
        "--schemes",
        schemes,
        "--seeds",
        seeds,
        "--steps",
        str(steps),
        "-o",
        out,
    ]


def time_compare(backend, command):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.path.dirname(HERE)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"compare on {backend} failed:\n{done.stderr[-2000:]}")
    return wall


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--schemes", default=SCHEMES)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "compare_throughput.json")
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.schemes, args.seeds = 8, "xavier_rnn,irnn", "0"
        args.steps, args.rounds = 100, 1
    schemes = args.schemes.split(",")
    runs = len(schemes) * len(_seed_list(args.seeds))
    peer_batches = 5 if args.quick else 100

    peer = peer_step_time.start_worker("jax", [args.length], peer_batches)
    if peer.stdout.readline().strip() != "ready":
        sys.exit("the JAX peer worker failed to start")
    peer_ms, walls = [], {b: [] for b in BACKENDS}
    scratch = tempfile.mkdtemp(prefix="compare_throughput-")
    try:
        for r in range(args.rounds):
            peer_ms.append(peer_step_time.ask(peer, args.length, "SimpleRNN"))
            order = BACKENDS if r % 2 == 0 else BACKENDS[::-1]
            for backend in order:
                out = os.path.join(scratch, f"{backend}-{r}")
                command = compare_command(
                    out, args.length, args.schemes, args.seeds, args.steps
                )
                walls[backend].append(time_compare(backend, command))
                if not os.path.exists(os.path.join(out, "report.json")):
                    sys.exit(f"compare on {backend} wrote no report.json")
        peer_ms.append(peer_step_time.ask(peer, args.length, "SimpleRNN"))
    finally:
        peer.stdin.close()
        peer.wait(timeout=120)
        shutil.rmtree(scratch, ignore_errors=True)

    budget = FACTOR * runs * args.steps * min(peer_ms) / 1e3
    rows = {}
    for backend, times in walls.items():
        times = sorted(times)
        rows[backend] = {
            "wall_s_min": times[0],
            "wall_s_median": statistics.median(times),
            "model_step_ms_min": 1e3 * times[0] / (runs * args.steps),
            "vs_budget_min": times[0] / budget,
            "met": times[0] <= budget,
            "samples_s": walls[backend],
        }
    command = compare_command("DIR", args.length, args.schemes, args.seeds, args.steps)
    result = {
        "benchmark": "compare_throughput",
        "command": "keras-rnninit " + " ".join(command[3:]),
        "runs": runs,
        "steps": args.steps,
        "rounds": args.rounds,
        "peer_ms_samples": peer_ms,
        "peer_ms_min": min(peer_ms),
        "factor": FACTOR,
        "budget_s": budget,
        "backends": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    print(f"command: {result['command']}")
    print(
        f"peer (Keras-on-JAX SimpleRNN, T={args.length}): {min(peer_ms):.2f} ms/step;"
        f" budget {FACTOR} x {runs} x {args.steps} x peer = {budget:.1f} s"
    )
    print("| backend | wall s (min / median) | ms per model-step | wall / budget |")
    print("|---|---|---|---|")
    for backend, row in rows.items():
        print(
            f"| {backend} | {row['wall_s_min']:.1f} / {row['wall_s_median']:.1f} | "
            f"{row['model_step_ms_min']:.2f} | {row['vs_budget_min']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
