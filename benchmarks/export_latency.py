"""Export benchmark: LiteRT latency vs Keras eager and tf.function, size, conversion.

    .venv/bin/python benchmarks/export_latency.py           # ~2 minutes
    .venv/bin/python benchmarks/export_latency.py --quick   # for the tests

SimpleRNN(64) + Dense(1) with 8 inputs, one sequence of T=50 (the export rows
of docs/performance.md). Exports the default (WHILE loop, fixed batch 1), the
unrolled (T fixed) and the float16 files and times one inference of each in LiteRT,
against the Keras model called eagerly and through a `tf.function`, all in one
run. Target (issue 5): LiteRT <= 1/100 of Keras eager. Also reports file size
vs parameter bytes and conversion seconds.

LSTM rows (`result["lstm"]`): LSTM(units) + Dense(1), same input and T, as
the fused `UNIDIRECTIONAL_SEQUENCE_LSTM` file (`export_tflite`'s default),
the same model as a WHILE loop (`keras_rnninit.export.convert.convert`, the
path Keras 3 LSTMs took before), unrolled, and int8 on the fused op; each
file's max abs error against Keras is measured on the timed sequence.
Writes benchmarks/results/export_latency.json.
"""

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_rnninit import schemes  # noqa: E402
from keras_rnninit.export import TFLiteRunner, export_tflite, tflite_ops  # noqa: E402
from keras_rnninit.export.convert import ConversionOptions, convert  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def keras_rows(model, x, repeats):
    graph = tf.function(lambda t: model(t, training=False))
    return {
        "keras_eager": {
            "ms": median_ms(lambda: model(x, training=False), max(5, repeats // 10))
        },
        "tf_function": {"ms": median_ms(lambda: graph(x), repeats)},
    }


def file_row(path, x, expected, repeats, param_bytes, conversion_s):
    """Latency, size and max abs error (vs Keras, on `x`) of one .tflite file."""
    runner = TFLiteRunner(path)
    size = os.path.getsize(path)
    with open(path, "rb") as file:
        ops = tflite_ops(file.read())
    return {
        "ms": median_ms(lambda: runner(x), repeats),
        "size_bytes": size,
        "size_vs_params": size / param_bytes,
        "conversion_s": conversion_s,
        "max_abs_error": float(np.max(np.abs(runner(x) - expected))),
        "fused_ops": ops.count("UNIDIRECTIONAL_SEQUENCE_LSTM"),
        "while_ops": ops.count("WHILE"),
    }


def lstm_rows(args, x, folder):
    """Fused vs WHILE vs unrolled vs int8-fused files of one LSTM model."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None, x.shape[-1]), name="sequence"),
            keras.layers.LSTM(args.units),
            keras.layers.Dense(1),
        ]
    )
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    param_bytes = sum(w.size * 4 for w in model.get_weights())
    rows = keras_rows(model, x, args.repeats)
    calibration = np.random.default_rng(1).normal(size=(32, *x.shape[1:]))
    for name, kwargs in (
        ("litert_fused", {}),
        ("litert_unrolled", {"unroll": True, "seq_len": args.length}),
        ("litert_fused_int8", {"quantize": "int8", "representative_data": calibration}),
    ):
        report = export_tflite(
            model, os.path.join(folder, f"lstm_{name}.tflite"), **kwargs
        )
        rows[name] = file_row(
            report.path, x, expected, args.repeats, param_bytes,
            report.conversion_seconds,
        )  # fmt: skip
    start = time.perf_counter()
    content = convert(model, ConversionOptions(batch_size=1))  # the unfused loop
    seconds = time.perf_counter() - start
    path = os.path.join(folder, "lstm_litert_while.tflite")
    with open(path, "wb") as file:
        file.write(content)
    rows["litert_while"] = file_row(
        path, x, expected, args.repeats, param_bytes, seconds
    )
    return {"units": args.units, "param_bytes": param_bytes, "rows": rows}


def add_fractions(rows):
    eager = rows["keras_eager"]["ms"]
    for row in rows.values():
        row["fraction_of_eager"] = row["ms"] / eager


def print_table(title, rows, length):
    print(
        f"\n{title}\n| path | ms / sequence (T={length}) | vs eager | file KiB | "
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
    rows = keras_rows(model, x, args.repeats)
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
        lstm = lstm_rows(args, x, folder)
    add_fractions(rows)
    add_fractions(lstm["rows"])
    print_table(f"SimpleRNN({args.units})", rows, args.length)
    print_table(f"LSTM({args.units})", lstm["rows"], args.length)
    result = {
        "benchmark": "export_latency",
        "length": args.length,
        "units": args.units,
        "inputs": 8,
        "param_bytes": param_bytes,
        "rows": rows,
        "target": "litert_while <= 0.01 x keras_eager",
        "met": rows["litert_while"]["fraction_of_eager"] <= 0.01,
        "lstm": lstm,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
