"""Export benchmark: LiteRT latency vs Keras eager and tf.function, size, conversion.

    .venv/bin/python benchmarks/export_latency.py           # ~1 minute
    .venv/bin/python benchmarks/export_latency.py --quick   # for the tests

SimpleRNN(64) + Dense(1) with 8 inputs, one sequence of T=50 (DESIGN.md's
setting). Exports the default (WHILE loop, fixed batch 1), the unrolled
(T fixed) and the float16 files and times one inference of each in LiteRT,
against the Keras model called eagerly and through a `tf.function`, all in one
run. Target (issue 5): LiteRT <= 1/100 of Keras eager. Also reports file size
vs parameter bytes and conversion seconds. Writes
benchmarks/results/export_latency.json.
"""

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_rnninit import schemes  # noqa: E402
from keras_rnninit.export import TFLiteRunner, export_tflite  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "export_latency.json")
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.units, args.repeats = 10, 8, 5
    model = schemes.get("xavier_rnn").build_model(input_dim=8, units=args.units, seed=0)
    x = np.random.default_rng(0).normal(size=(1, args.length, 8)).astype("float32")
    graph = tf.function(lambda t: model(t, training=False))
    rows = {
        "keras_eager": {
            "ms": median_ms(
                lambda: model(x, training=False), max(5, args.repeats // 10)
            )
        },
        "tf_function": {"ms": median_ms(lambda: graph(x), args.repeats)},
    }
    param_bytes = sum(w.size * 4 for w in model.get_weights())
    with tempfile.TemporaryDirectory() as folder:
        for name, kwargs in (
            ("litert_while", {}),
            ("litert_unrolled", {"unroll": True, "seq_len": args.length}),
            ("litert_float16", {"quantize": "float16"}),
        ):
            report = export_tflite(
                model, os.path.join(folder, f"{name}.tflite"), **kwargs
            )
            runner = TFLiteRunner(report.path)
            rows[name] = {
                "ms": median_ms(lambda r=runner: r(x), args.repeats),
                "size_bytes": report.size_bytes,
                "size_vs_params": report.size_bytes / param_bytes,
                "conversion_s": report.conversion_seconds,
                "max_abs_error": report.max_abs_error,
            }
    eager = rows["keras_eager"]["ms"]
    for row in rows.values():
        row["fraction_of_eager"] = row["ms"] / eager
    result = {
        "benchmark": "export_latency",
        "length": args.length,
        "units": args.units,
        "inputs": 8,
        "param_bytes": param_bytes,
        "rows": rows,
        "target": "litert_while <= 0.01 x keras_eager",
        "met": rows["litert_while"]["fraction_of_eager"] <= 0.01,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    print(
        f"| path | ms / sequence (T={args.length}) | vs eager | file KiB | "
        f"file / params | convert s |"
    )
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        size = f"{row['size_bytes'] / 1024:.1f}" if "size_bytes" in row else ""
        ratio = f"{row['size_vs_params']:.2f}" if "size_bytes" in row else ""
        conv = f"{row['conversion_s']:.2f}" if "conversion_s" in row else ""
        print(
            f"| {name} | {row['ms']:.4f} | {row['fraction_of_eager']:.5f} | "
            f"{size} | {ratio} | {conv} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
