"""The main job behind `make demo`: compare, report, export the best, run it.

The export runs on TensorFlow; the comparison may train on another backend
(`make demo`: JAX when installed, the fastest here, `docs/performance.md`),
in a child process (`python -m keras_rnninit.cli.demo`), since a process
keeps the backend Keras was first imported with. `.keras` files cross
backends.
"""

import dataclasses
import json
import os
import subprocess
import sys
import time

import numpy as np

from keras_rnninit.compare import CompareConfig
from keras_rnninit.compare.folder import compare_to_folder
from keras_rnninit.compare.records import as_records
from keras_rnninit.compare.statistics import Claim
from keras_rnninit.utils.files import check_overwrite

__all__ = [
    "DEMO_SCHEMES",
    "DEMO_SEEDS",
    "LATENCY_REPEATS",
    "export_record",
    "latency_ms",
    "run_demo",
]

DEMO_SCHEMES = ("xavier_rnn", "keras_default", "orthogonal", "he", "uniform01")
# The project's founding claim, which the demo's report tests (and states
# whichever way it comes out).
DEMO_CLAIM = Claim("xavier_rnn", ("keras_default", "uniform01"), low=2.0, high=10.0)
DEMO_SEEDS = (0, 1, 2)
LATENCY_REPEATS = 50  # timed calls per path, after one warm-up


def export_record(records, scheme="xavier_rnn"):
    """The run whose model the demo exports: `scheme`'s run with the lowest
    best test metric (any scheme's if `scheme` did not run or all its runs
    diverged). It shows the export, not a winner: the comparison's verdict is
    its statistics table."""
    usable = [
        r for r in as_records(records) if r.diverged is None and r.best_test is not None
    ]
    if not usable:
        raise RuntimeError("every run of the comparison diverged; nothing to export")
    mine = [r for r in usable if r.scheme == scheme] or usable
    return min(mine, key=lambda r: (r.best_test, r.seed))


def _median_ms(call, repeats):
    """Median wall time of `call()` in ms over `repeats` calls after one
    warm-up call (which traces a tf.function): `TFLiteRunner.latency_ms`'s
    loop, so the three paths of `latency_ms` are timed alike."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def latency_ms(model, tflite_path, x, repeats=LATENCY_REPEATS):
    """ms per call on the same batch `x`, each the median of `repeats` after a
    warm-up: `litert` (the exported file in LiteRT), `keras_compiled` (the
    Keras model under `tf.function`, as it serves) and `keras_eager`.

    The export report's own latency is not used: it times the first
    verification batch, whose T is not `x`'s for a model that takes any T.
    """
    import tensorflow as tf

    from keras_rnninit.export import TFLiteRunner

    compiled = tf.function(lambda t: model(t, training=False))
    return {
        "litert": TFLiteRunner(tflite_path).latency_ms(x, repeats),
        "keras_compiled": _median_ms(lambda: compiled(x), repeats),
        "keras_eager": _median_ms(lambda: model(x, training=False), repeats),
    }


def _compare(job):
    """The demo's comparison into its folder (`job`: run_demo's settings)."""
    return compare_to_folder(
        job["out"],
        DEMO_SCHEMES,
        job["seeds"],
        CompareConfig(**job["config"]),
        force=job["force"],
        command=job["command"],
        claim=DEMO_CLAIM,
        progress=job["progress"],
    )


def _compare_in_child(job, backend):
    """`_compare(job)` in a child process on `backend`; (out, records,
    report) read back from the folder it wrote."""
    check_overwrite(os.path.abspath(job["out"]), job["force"], "force")
    try:  # our stderr (the command line's fd 2 is /dev/null: see parser.py)
        stderr = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. pytest's capture
        stderr = None
    child = subprocess.Popen(
        [sys.executable, "-m", "keras_rnninit.cli.demo", json.dumps(job)],
        env={**os.environ, "KERAS_BACKEND": backend},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        code = child.wait()
    except KeyboardInterrupt:
        child.wait()  # Ctrl-C reached it too: it stops cleanly, keeps its runs
        raise
    if code != 0:
        raise RuntimeError(
            f"the demo's comparison on {backend} failed (exit {code}); its error "
            "is above"
        )
    out = os.path.abspath(job["out"])
    with open(os.path.join(out, "report.json")) as file:
        report = json.load(file)
    return out, as_records(report["records"]), report


def run_demo(
    out="runs/demo",
    export_path="export/demo_adding.tflite",
    steps=1500,
    length=20,
    units=64,
    seeds=DEMO_SEEDS,
    batch_size=64,
    force=False,
    progress=True,
    backend=None,
):
    """Compare `DEMO_SCHEMES` over `seeds` on the adding problem, write the
    report (statistics table, survival plot) to `out`, export one trained
    xavier_rnn model (`export_record`) to `export_path`, verify it in LiteRT
    and time it there, beside the Keras model compiled and eager, on one
    sequence of `length` steps (`latency_ms`). Returns a summary dict.
    Existing outputs need `force=True`. `backend` trains the comparison
    ("jax" or "tensorflow"; None: this process's): another than this
    process's trains in a child process whose stderr is ours."""
    import keras

    from keras_rnninit.export import export_tflite

    config = CompareConfig(
        task="adding", length=length, units=units, steps=steps, batch_size=batch_size
    )
    export_path = os.path.abspath(export_path)
    check_overwrite(export_path, force, "force")
    os.makedirs(os.path.dirname(export_path), exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    seeds = list(seeds)
    if len(seeds) < 3:
        raise ValueError(
            "`seeds` must hold at least 3 seeds: one run per scheme is no "
            f"evidence. Received: seeds={seeds}"
        )
    command = (
        f"keras-rnninit demo --steps {steps} --length {length} "
        f"--units {units} --batch-size {batch_size} "
        f"--seeds {','.join(map(str, seeds))} --force"
    )
    start = time.perf_counter()
    job = dict(
        out=out,
        seeds=seeds,
        config=dataclasses.asdict(config),
        force=force,
        command=command,
        progress=bool(progress),
    )
    if backend is None or backend == keras.backend.backend():
        done = _compare(job)
        out, records, report = done.out, done.records, done.report
    else:
        out, records, report = _compare_in_child(job, backend)
    exported_run = export_record(records)
    model_file = os.path.join(out, exported_run.model_path)
    export = export_tflite(model_file, export_path, overwrite=force)
    x = np.random.default_rng(0).normal(size=(1, length, 2)).astype("float32")
    speeds = latency_ms(keras.saving.load_model(model_file), export.path, x)
    return {
        "report": os.path.join(out, "report.md"),
        "records": records,
        "statistics": report["statistics"],
        "headline": report["headline"],
        "exported_run": exported_run,
        "export": dataclasses.asdict(export),
        "latency_ms": speeds,
        "seconds": time.perf_counter() - start,
    }


def _child(job):
    """`python -m keras_rnninit.cli.demo JOB`: the comparison alone, its
    errors in one line on stderr (exit 1), as the command line shows them."""
    from keras_rnninit.cli.parser import PROG, USAGE_ERRORS, _quiet_backend

    with _quiet_backend(False):
        try:
            _compare(json.loads(job))
        except KeyboardInterrupt:
            return 130  # the parent says "interrupted"
        except Exception as error:  # noqa: BLE001 - one line, as the CLI
            message = error.cli_message() if hasattr(error, "cli_message") else error
            print(f"{PROG} demo: error: {message}", file=sys.stderr)
            return 2 if isinstance(error, USAGE_ERRORS) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1]))
