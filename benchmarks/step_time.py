"""Training step time: RNN(XavierRNNCell) vs keras.layers.SimpleRNN, side by side.

    .venv/bin/python benchmarks/step_time.py           # ~1 minute
    .venv/bin/python benchmarks/step_time.py --quick   # for the tests

Same model (Input -> recurrent layer (64) -> Dense(1)), same weights, adding
problem, batch 64; each round times `fit` over the same 100 batches for both
layers in alternating order, and the figure is the ratio of median seconds per
step (SimpleRNN / cell: >= 1.0 means the cell is at least as fast). Target
(issue 5): >= 1.0x. Writes benchmarks/results/step_time.json.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_rnninit import XavierRNN, XavierRNNCell  # noqa: E402
from keras_rnninit.tasks import adding_problem  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def build(kind, units):
    inputs = keras.Input((None, 2))
    if kind == "SimpleRNN":
        layer = keras.layers.SimpleRNN(
            units,
            kernel_initializer=XavierRNN(seed=0),
            recurrent_initializer=XavierRNN(seed=1),
        )
    else:
        layer = keras.layers.RNN(XavierRNNCell(units, seed=0))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def seconds_per_step(model, x, y, batches):
    start = time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    return (time.perf_counter() - start) / batches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument(
        "--cases", default="50x64,150x64,20x64,50x512", help="comma-separated TxUNITS"
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "step_time.json")
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.batches, args.cases = 1, 5, "10x8"
    rows = []
    for case in args.cases.split(","):
        length, units = (int(v) for v in case.split("x"))
        x, y = adding_problem(args.batches * 64, length, seed=0)
        models = {kind: build(kind, units) for kind in ("SimpleRNN", "XavierRNNCell")}
        models["XavierRNNCell"].set_weights(models["SimpleRNN"].get_weights())
        times = {kind: [] for kind in models}
        for model in models.values():  # compile and warm up
            seconds_per_step(model, x[:128], y[:128], 2)
        for r in range(args.rounds):
            order = list(models) if r % 2 == 0 else list(models)[::-1]
            for kind in order:
                times[kind].append(seconds_per_step(models[kind], x, y, args.batches))
        median = {kind: float(np.median(t)) for kind, t in times.items()}
        rows.append(
            {
                "length": length,
                "units": units,
                "ms_per_step": {k: 1e3 * v for k, v in median.items()},
                "samples_s": times,
                "speed_ratio": median["SimpleRNN"] / median["XavierRNNCell"],
            }
        )
    result = {
        "benchmark": "step_time",
        "batch_size": 64,
        "rounds": args.rounds,
        "batches": args.batches,
        "rows": rows,
        "target": ">= 1.0",
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    print("| T | units | SimpleRNN ms/step | RNN(XavierRNNCell) ms/step | ratio |")
    print("|---|---|---|---|---|")
    for row in rows:
        ms = row["ms_per_step"]
        print(
            f"| {row['length']} | {row['units']} | {ms['SimpleRNN']:.2f} | "
            f"{ms['XavierRNNCell']:.2f} | {row['speed_ratio']:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
