"""Overhead of RNNDiagnostics on fit time, measured side by side.

    .venv/bin/python benchmarks/callbacks_overhead.py           # ~2 minutes
    .venv/bin/python benchmarks/callbacks_overhead.py --quick   # for the tests

Adding problem T=50, SimpleRNN(64), batch 64, epochs of 100 steps, a 64-sequence
probe. Runs with and without the callback alternate (A B A B ...) so machine
noise hits both alike; the figure is the ratio of median fit times. Target
(issue 3): default overhead <= 10%. Writes benchmarks/results/callbacks_overhead.json.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_rnninit import schemes  # noqa: E402
from keras_rnninit.diagnostics.callbacks import RNNDiagnostics  # noqa: E402
from keras_rnninit.tasks import adding_problem  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def fit_seconds(x, y, probe, epochs, with_callback, every):
    model = schemes.get("xavier_rnn").build_model(input_dim=2, units=64, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(x[:64], y[:64], batch_size=64, epochs=1, verbose=0)  # compile + warm
    callbacks = [RNNDiagnostics(probe, every=every)] if with_callback else []
    start = time.perf_counter()
    model.fit(
        x,
        y,
        batch_size=64,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "callbacks_overhead.json")
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.pairs, args.epochs = 1, 1
    x, y = adding_problem(100 * 64, 50, seed=0)
    probe = adding_problem(64, 50, seed=1)
    plain, watched = [], []
    for _ in range(args.pairs):
        plain.append(fit_seconds(x, y, probe, args.epochs, False, args.every))
        watched.append(fit_seconds(x, y, probe, args.epochs, True, args.every))
    ratio = float(np.median(watched) / np.median(plain))
    result = {
        "benchmark": "callbacks_overhead",
        "task": "adding T=50",
        "units": 64,
        "steps_per_epoch": 100,
        "epochs": args.epochs,
        "every": args.every,
        "pairs": args.pairs,
        "fit_seconds_without": plain,
        "fit_seconds_with": watched,
        "overhead_ratio": ratio,
        "target": "<= 1.10",
        "met": ratio <= 1.10,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    print("| fit (median s) without | with RNNDiagnostics | ratio | target |")
    print("|---|---|---|---|")
    print(
        f"| {np.median(plain):.2f} | {np.median(watched):.2f} | {ratio:.3f} | "
        f"<= 1.10 {'met' if result['met'] else 'MISSED'} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
