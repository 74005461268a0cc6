"""The main job behind `make demo`: compare, report, export the best, run it."""

import dataclasses
import math
import os
import time

import numpy as np

from keras_rnninit.compare import CompareConfig, compare
from keras_rnninit.compare.store import RunStore

__all__ = ["DEMO_SCHEMES", "best_record", "run_demo"]

DEMO_SCHEMES = ("xavier_rnn", "keras_default", "orthogonal", "he", "uniform01")


def best_record(records):
    """The run that reached the threshold first (ties and never: best test)."""
    usable = [
        r for r in records if r["diverged"] is None and r["best_test"] is not None
    ]
    if not usable:
        raise RuntimeError("every run of the comparison diverged; nothing to export")

    def key(r):
        steps = r["steps_to_threshold"]
        return (math.inf if steps is None else steps, r["best_test"])

    return min(usable, key=key)


def _keras_latency_ms(model, x, repeats=20):
    model(x)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def run_demo(
    out="runs/demo",
    export_path="export/demo_adding.tflite",
    steps=4000,
    length=50,
    units=64,
    seed=0,
    force=False,
    progress=True,
):
    """Compare `DEMO_SCHEMES` on the adding problem, write the report to `out`,
    export the best trained model to `export_path`, verify and time it in
    LiteRT. Returns a summary dict. Existing outputs need `force=True`."""
    import keras

    from keras_rnninit.export import export_tflite

    config = CompareConfig(task="adding", length=length, units=units, steps=steps)
    export_path = os.path.abspath(export_path)
    if os.path.exists(export_path) and not force:
        raise FileExistsError(f"{export_path} exists; pass --force to replace it.")
    os.makedirs(os.path.dirname(export_path), exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    store = RunStore(out, config, force=force)
    command = (
        f"keras-rnninit demo --steps {steps} --length {length} "
        f"--units {units} --seed {seed} --force"
    )
    start = time.perf_counter()
    records = compare(
        DEMO_SCHEMES,
        seeds=[seed],
        config=config,
        progress=progress,
        save_dir=store.models,
        on_record=store.save,
    )
    store.finish(records, command=command)
    out = store.out
    best = best_record(records)
    model_file = os.path.join(out, best["model_path"])
    export = export_tflite(model_file, export_path, overwrite=force)
    x = np.random.default_rng(seed).normal(size=(1, length, 2)).astype("float32")
    keras_ms = _keras_latency_ms(keras.saving.load_model(model_file), x)
    return {
        "report": os.path.join(out, "report.md"),
        "records": records,
        "best": best,
        "export": dataclasses.asdict(export),
        "keras_eager_ms": keras_ms,
        "seconds": time.perf_counter() - start,
    }
