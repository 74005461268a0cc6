"""Training step time against the best peer: Keras on JAX, and the matmul floor.

    .venv/bin/python benchmarks/peer_step_time.py           # ~5 minutes
    .venv/bin/python benchmarks/peer_step_time.py --quick   # for the tests

Model for every variant: Input((None, 2)) -> layer(64) -> Dense(1), Adam 1e-3,
MSE, batch 64, adding-problem data, `compile()` defaults unless the variant
says otherwise. One worker process per backend (TensorFlow, JAX), each
holding its models warm; every round asks each variant for `fit` over the
same 100 batches, the variants in rotating order, so the backends alternate.
Figures: ms per training step, minimum and median over rounds, and ratios to
Keras-on-JAX SimpleRNN (> 1.0: faster than the peer). `NoRecurrence` is the
same `fit` with the recurrent layer replaced by a mean over time (one tiny
Dense): what Keras' training loop itself costs per step on that backend, a
floor no recurrent layer can go below.

The floor: one 64x64 @ 64x64 float32 matmul timed in the same run (numpy,
best of 20 x 2000 calls); a training step needs about 3T such products
(forward, dL/dh, and dW as one large product), so floor = 3T x that time.
Writes benchmarks/results/peer_step_time.json and prints a Markdown table.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# (backend, variant): the variant names the layer and any compile flag.
VARIANTS = (
    ("tensorflow", "SimpleRNN"),
    ("tensorflow", "FastSimpleRNN"),
    ("tensorflow", "FastSimpleRNN+jit_compile"),
    ("tensorflow", "NoRecurrence"),
    ("jax", "SimpleRNN"),
    ("jax", "FastSimpleRNN"),
    ("jax", "NoRecurrence"),
)
PEER = ("jax", "SimpleRNN")


def worker(backend, lengths, batches):
    """Child: build every variant of this backend for every T, then answer
    'T variant' lines with one timing each (ms per step)."""
    os.environ["KERAS_BACKEND"] = backend
    import keras

    from keras_rnninit import FastSimpleRNN, XavierRNN
    from keras_rnninit.tasks import adding_problem

    def build(variant):
        inputs = keras.Input((None, 2))
        if variant == "NoRecurrence":
            hidden = keras.layers.GlobalAveragePooling1D()(inputs)
            model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
            return model
        if variant.startswith("FastSimpleRNN"):
            layer = FastSimpleRNN(64, seed=0)
        else:
            layer = keras.layers.SimpleRNN(
                64,
                kernel_initializer=XavierRNN(seed=0),
                recurrent_initializer=XavierRNN(seed=1),
            )
        model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
        jit = {"jit_compile": True} if variant.endswith("+jit_compile") else {}
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", **jit)
        return model

    names = [v for b, v in VARIANTS if b == backend]
    data, models = {}, {}
    for length in lengths:
        data[length] = adding_problem(batches * 64, length, seed=0)
        for name in names:
            models[length, name] = model = build(name)
            x, y = data[length]
            model.fit(x[:256], y[:256], batch_size=64, verbose=0)  # compile
    print("ready", flush=True)
    for line in sys.stdin:
        length, name = line.split()
        x, y = data[int(length)]
        start = time.perf_counter()
        models[int(length), name].fit(
            x, y, batch_size=64, epochs=1, shuffle=False, verbose=0
        )
        ms = 1e3 * (time.perf_counter() - start) / batches
        print(json.dumps({"ms": ms}), flush=True)


def matmul_seconds():
    import numpy as np

    a = np.random.default_rng(0).normal(size=(64, 64)).astype("float32")
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        for _ in range(2000):
            a @ a
        best = min(best, (time.perf_counter() - start) / 2000)
    return best


def start_worker(backend, lengths, batches):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    env["PYTHONPATH"] = os.path.dirname(HERE)
    lengths_arg = ",".join(map(str, lengths))
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", backend, lengths_arg, str(batches)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    return process


def ask(process, length, name):
    process.stdin.write(f"{length} {name}\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())["ms"]


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, backend, lengths, batches = sys.argv
        worker(backend, [int(t) for t in lengths.split(",")], int(batches))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="50,150")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "peer_step_time.json")
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.lengths, args.rounds, args.batches = "8", 1, 5
    lengths = [int(t) for t in args.lengths.split(",")]
    workers = {b: start_worker(b, lengths, args.batches) for b in ("tensorflow", "jax")}
    for backend, process in workers.items():
        if process.stdout.readline().strip() != "ready":
            sys.exit(f"the {backend} worker failed to start")
    matmul = [matmul_seconds()]
    samples = {(t, b, v): [] for t in lengths for b, v in VARIANTS}
    for r in range(args.rounds):
        order = VARIANTS[r % len(VARIANTS) :] + VARIANTS[: r % len(VARIANTS)]
        for length in lengths:
            for backend, name in order:
                ms = ask(workers[backend], length, name)
                samples[length, backend, name].append(ms)
        matmul.append(matmul_seconds())
    for process in workers.values():
        process.stdin.close()
        process.wait(timeout=120)
    matmul_us = 1e6 * min(matmul)
    rows = []
    for length in lengths:
        peer = samples[(length, *PEER)]
        row = {"length": length, "floor_ms": 3 * length * matmul_us / 1e3}
        for backend, name in VARIANTS:
            times = sorted(samples[length, backend, name])
            key = f"{backend}:{name}"
            row[key] = {
                "ms_min": times[0],
                "ms_median": times[len(times) // 2],
                "vs_peer_min": min(peer) / times[0],
                "vs_peer_median": sorted(peer)[len(peer) // 2] / times[len(times) // 2],
                "vs_floor_min": times[0] / row["floor_ms"],
                "samples_ms": samples[length, backend, name],
            }
        rows.append(row)
    result = {
        "benchmark": "peer_step_time",
        "batch_size": 64,
        "units": 64,
        "rounds": args.rounds,
        "batches": args.batches,
        "matmul_64_us": matmul_us,
        "rows": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    print(f"64x64 matmul: {matmul_us:.1f} us")
    print(
        "| T | floor ms | "
        + " | ".join(f"{b[:3]} {v} ms (min / median)" for b, v in VARIANTS)
        + " |"
    )
    print("|---|---|" + "---|" * len(VARIANTS))
    for row in rows:
        cells = []
        for backend, name in VARIANTS:
            cell = row[f"{backend}:{name}"]
            cells.append(
                f"{cell['ms_min']:.2f} / {cell['ms_median']:.2f} "
                f"({cell['vs_peer_min']:.2f}x peer)"
            )
        head = f"| {row['length']} | {row['floor_ms']:.2f} | "
        print(head + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
