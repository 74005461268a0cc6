"""Training step time of our recurrent layers vs keras.layers.SimpleRNN, side by side.

    .venv/bin/python benchmarks/step_time.py           # a few minutes
    .venv/bin/python benchmarks/step_time.py --quick   # for the tests
    .venv/bin/python benchmarks/step_time.py --padded --cases 100x128 \
        --out benchmarks/results/step_time_padded.json   # padded char batches

Same model (Input -> recurrent layer -> Dense(1)), same weights, adding
problem, batch 64; each round times `fit` over the same 100 batches for every
variant, in rotating order. Figures are ratios of seconds per step (SimpleRNN /
variant: > 1.0 means the variant is faster) from the medians and from the
minima over rounds (the minimum is the least disturbed run on a shared
machine). Variants: RNN(XavierRNNCell), the same computation as SimpleRNN
(target, issue 5: >= 1.0x); FastSimpleRNN, input projection hoisted and a
hand-written backward pass with XLA-compiled time loops (target, issue 7:
>= 1.5x at T=150 and never slower); SimpleRNN and FastSimpleRNN with the whole
train step compiled by XLA (`jit_compile=True`). Writes
benchmarks/results/step_time.json.

`--padded`: a character model instead (Embedding(96, 32, mask_zero=True) ->
layer(return_sequences) -> Dense(96), sparse cross-entropy) on right-padded
batches whose lengths are uniform in [T/2, T], SimpleRNN vs FastSimpleRNN,
each also with dropout = recurrent_dropout = 0.1: masks and dropout on the
fast path against Keras' loop.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_rnninit import FastSimpleRNN, XavierRNN, XavierRNNCell  # noqa: E402
from keras_rnninit.tasks import adding_problem  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = (
    "SimpleRNN",
    "XavierRNNCell",
    "FastSimpleRNN",
    "SimpleRNN+XLA",
    "FastSimpleRNN+XLA",
)
PADDED_KINDS = (
    "SimpleRNN",
    "FastSimpleRNN",
    "SimpleRNN+dropout",
    "FastSimpleRNN+dropout",
)
VOCAB = 96


def build(kind, units):
    inputs = keras.Input((None, 2))
    if kind.startswith("FastSimpleRNN"):
        layer = FastSimpleRNN(units, seed=0)
    elif kind.startswith("SimpleRNN"):
        layer = keras.layers.SimpleRNN(
            units,
            kernel_initializer=XavierRNN(seed=0),
            recurrent_initializer=XavierRNN(seed=1),
        )
    else:
        layer = keras.layers.RNN(XavierRNNCell(units, seed=0))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="mse",
        jit_compile=kind.endswith("+XLA"),
    )
    return model


def build_padded(kind, units):
    """A character model on padded batches (see the module docstring)."""
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(VOCAB, 32, mask_zero=True)(inputs)
    rates = {"dropout": 0.1, "recurrent_dropout": 0.1} if "dropout" in kind else {}
    layer_type = FastSimpleRNN if kind.startswith("Fast") else keras.layers.SimpleRNN
    hidden = layer_type(units, seed=0, return_sequences=True, **rates)(embedded)
    model = keras.Model(inputs, keras.layers.Dense(VOCAB)(hidden))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def padded_batches(count, length, seed=0):
    """Token sequences right-padded with 0, lengths uniform in [T/2, T]; the
    target is the next token."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, VOCAB, size=(count, length + 1))
    lengths = rng.integers(length // 2, length + 1, size=count)
    tokens[np.arange(length + 1)[None, :] >= lengths[:, None]] = 0
    return tokens[:, :-1].astype("int32"), tokens[:, 1:].astype("int32")


def seconds_per_step(model, x, y, batches):
    start = time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    return (time.perf_counter() - start) / batches


def measure(length, units, rounds, batches, padded=False):
    if padded:
        kinds, make = PADDED_KINDS, build_padded
        x, y = padded_batches(batches * 64, length)
    else:
        kinds, make = KINDS, build
        x, y = adding_problem(batches * 64, length, seed=0)
    models = {kind: make(kind, units) for kind in kinds}
    for kind in kinds[1:]:
        models[kind].set_weights(models["SimpleRNN"].get_weights())
    for model in models.values():  # compile and warm up
        seconds_per_step(model, x[:128], y[:128], 2)
    times = {kind: [] for kind in kinds}
    for r in range(rounds):
        for kind in kinds[r % len(kinds) :] + kinds[: r % len(kinds)]:
            times[kind].append(seconds_per_step(models[kind], x, y, batches))
    median = {k: float(np.median(t)) for k, t in times.items()}
    best = {k: float(np.min(t)) for k, t in times.items()}
    return {
        "length": length,
        "units": units,
        "ms_per_step_median": {k: 1e3 * v for k, v in median.items()},
        "ms_per_step_min": {k: 1e3 * v for k, v in best.items()},
        "speedup_median": {k: median["SimpleRNN"] / v for k, v in median.items()},
        "speedup_min": {k: best["SimpleRNN"] / v for k, v in best.items()},
        "samples_s": times,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument(
        "--cases", default="150x64,50x64,20x64,50x512", help="comma-separated TxUNITS"
    )
    parser.add_argument("--padded", action="store_true", help="padded char model")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "step_time.json")
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.batches, args.cases = 1, 5, "10x8"
    kinds = PADDED_KINDS if args.padded else KINDS
    rows = []
    for case in args.cases.split(","):
        length, units = (int(v) for v in case.split("x"))
        rows.append(measure(length, units, args.rounds, args.batches, args.padded))
    result = {
        "benchmark": "step_time_padded" if args.padded else "step_time",
        "batch_size": 64,
        "rounds": args.rounds,
        "batches": args.batches,
        "rows": rows,
        "targets": {
            "XavierRNNCell": ">= 1.0x",
            "FastSimpleRNN": ">= 1.5x at T=150, >= 1.0x elsewhere",
        },
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    print(
        "| T | units | SimpleRNN ms/step | "
        + " | ".join(f"{k} (median / min)" for k in kinds[1:])
        + " |"
    )
    print("|---|---|---|" + "---|" * (len(kinds) - 1))
    for row in rows:
        cells = [
            f"{row['speedup_median'][k]:.2f}x / {row['speedup_min'][k]:.2f}x"
            for k in kinds[1:]
        ]
        print(
            f"| {row['length']} | {row['units']} | "
            f"{row['ms_per_step_median']['SimpleRNN']:.2f} | "
            + " | ".join(cells)
            + " |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
