"""Fused comparison: 6 schemes as branches of one model vs training one model.

    .venv/bin/python benchmarks/fused_compare.py           # ~3 minutes
    .venv/bin/python benchmarks/fused_compare.py --quick   # for the tests

Adding problem T=50, 64 units (FastSimpleRNN, as every comparison run), batch
64, 1000 steps, evaluation every 100 steps, seed 0. Times, in one run and
alternating: one model (xavier_rnn), the 6 schemes fused, and (once) the 6
schemes one after another. Target (issue 7): fused 6 schemes <= 2x the wall
time of one model.

Also timed once: the same 6 runs as `compare(model=..., data=...)` trains your
own model (never fused; issue 37): the task's architecture built as a user
would (Keras' SimpleRNN, compiled with the same Adam), on the same batches
drawn into arrays up front and evaluated on the same test set. Its ratio to
the fused row is what training one model per run costs. Writes
benchmarks/results/fused_compare.json.
"""

import argparse
import itertools
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from keras_rnninit.compare import CompareConfig, compare  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SIX = [
    "xavier_rnn",
    "orthogonal",
    "he",
    "keras_default",
    "pytorch_default",
    "uniform01",
]


def seconds(schemes, config, fused):
    start = time.perf_counter()
    compare(schemes, seeds=[0], config=config, progress=None, fused=fused)
    return time.perf_counter() - start


def own_seconds(schemes, config):
    """The 6 runs through the own-model path, on the task's data as arrays."""
    import keras

    from keras_rnninit.compare.training import _batches
    from keras_rnninit.tasks import registry

    task = registry.get(config.task)
    rows = list(itertools.islice(_batches(task, config, 0), config.steps))
    x = np.concatenate([b[0] for b in rows])
    y = np.concatenate([b[1] for b in rows])
    test = task.test_data(config.test_size, config.length, seed=0)

    def builder():
        inputs = keras.Input((None, task.input_dim), name="sequence")
        hidden = keras.layers.SimpleRNN(config.units, name="rnn")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="output")(hidden))
        model.compile(
            keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm),
            loss="mse",
        )
        return model

    start = time.perf_counter()
    compare(
        schemes,
        seeds=[0],
        model=builder,
        data=(x, y),
        validation_data=test,
        steps=config.steps,
        batch_size=config.batch_size,
        eval_every=config.eval_every,
        progress=None,
    )
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "fused_compare.json")
    )
    args = parser.parse_args(argv)
    length, units = 50, 64
    if args.quick:
        args.steps, args.rounds, length, units = 100, 1, 6, 4
    config = CompareConfig(length=length, units=units, steps=args.steps, test_size=256)
    one, fused = [], []
    for _ in range(args.rounds):
        one.append(seconds(["xavier_rnn"], config, fused=False))
        fused.append(seconds(SIX, config, fused=True))
    sequential = seconds(SIX, config, fused=False)
    own = own_seconds(SIX, config)
    ratio = float(np.median(fused) / np.median(one))
    result = {
        "benchmark": "fused_compare",
        "length": length,
        "units": units,
        "steps": args.steps,
        "schemes": SIX,
        "one_model_s": one,
        "six_fused_s": fused,
        "six_sequential_s": sequential,
        "six_own_model_s": own,
        "fused_vs_one": ratio,
        "sequential_vs_one": sequential / float(np.median(one)),
        "own_model_vs_fused": own / float(np.median(fused)),
        "target": "six fused <= 2x one model",
        "met": ratio <= 2.0,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    print(
        "| one model s | 6 schemes fused s | 6 sequential s | 6 own-model s "
        "| fused / one | own-model / fused | target |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {np.median(one):.1f} | {np.median(fused):.1f} | {sequential:.1f} | "
        f"{own:.1f} | {ratio:.2f}x | {result['own_model_vs_fused']:.2f}x | "
        f"<= 2x {'met' if result['met'] else 'MISSED'} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
