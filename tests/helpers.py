"""Shared test helpers: sample-size-derived statistical checks, serialization."""

import dataclasses
import json
import math
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

# Every statistical check allows Z standard errors of the estimator. With
# Z = 5 a correct implementation fails one check with probability < 6e-7
# (and the seeds are fixed, so the suite is deterministic anyway).
Z = 5.0


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def assert_mean(samples, mean, std):
    """Sample mean within Z * std / sqrt(n) of `mean`."""
    n = samples.size
    tol = Z * std / math.sqrt(n)
    got = float(samples.mean())
    assert abs(got - mean) < tol, f"mean {got} not within {tol} of {mean}"


def assert_variance(samples, var, fourth_central_moment):
    """Sample variance within Z standard errors: SE = sqrt((mu4 - var^2) / n)."""
    n = samples.size
    tol = Z * math.sqrt((fourth_central_moment - var**2) / n)
    got = float(samples.var())
    assert abs(got - var) < tol, f"variance {got} not within {tol} of {var}"


def assert_fraction(mask, p):
    """Fraction of True within Z * sqrt(p (1 - p) / n) of `p`."""
    n = mask.size
    tol = Z * math.sqrt(p * (1 - p) / n)
    got = float(mask.mean())
    assert abs(got - p) < tol, f"fraction {got} not within {tol} of {p}"


def assert_normal_ks(samples, std, alpha=1e-6):
    """Kolmogorov-Smirnov test against N(0, std^2) at level `alpha`.

    D_n is compared with sqrt(-ln(alpha / 2) / 2) / sqrt(n), the asymptotic
    critical value; a truncated normal with the same variance fails it.
    """
    x = np.sort(samples.ravel()) / std
    n = x.size
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    d = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    critical = math.sqrt(-math.log(alpha / 2) / 2) / math.sqrt(n)
    assert d < critical, f"KS distance {d} >= critical {critical}"


def run_serialization_test(obj):
    """get_config is JSON-able and from_config / keras deserialize rebuild it."""
    config = obj.get_config()
    json.dumps(config)
    rebuilt = type(obj).from_config(config)
    assert rebuilt.get_config() == config
    serialized = keras.saving.serialize_keras_object(obj)
    again = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(again) is type(obj)
    assert again.get_config() == config
    return again


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_env(**extra):
    """The environment of a fresh Python process that imports this checkout."""
    return dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def run_python(*args, cwd=REPO, timeout=600, **extra_env):
    """Run `python *args` in a fresh process; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, *map(str, args)],
        env=python_env(**extra_env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# The settings of a seconds-long in-process `compare`.
TINY = dict(
    task="adding",
    length=8,
    units=8,
    steps=200,
    eval_every=100,
    test_size=64,
    diagnostics_every=1,
    probe_size=16,
)


def tiny_compare_argv(out, schemes, seeds, steps=200, *extra):
    """Arguments of a seconds-long `python -m keras_rnninit compare` run."""
    return [
        "-m",
        "keras_rnninit",
        "compare",
        "--length",
        "6",
        "--units",
        "4",
        "--steps",
        str(steps),
        "--seeds",
        seeds,
        "--schemes",
        schemes,
        "--out",
        str(out),
        *extra,
    ]


def load_benchmark(name):
    """The module `benchmarks/<name>.py`, imported from its file (benchmarks/
    is not a package), so a test can call its functions."""
    import importlib.util

    path = os.path.join(REPO, "benchmarks", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fit_gradient_norms(model, x, y, sample_weight=None):
    """{variable path: ||dL/dW||} by the backend's autodiff on the real model,
    L = the compiled model's `compute_loss` (what `fit` differentiates)."""
    variables = model.trainable_variables
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y_pred = model(x, training=False)
            loss = model.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight
            )
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
    else:
        import jax

        fixed = [v.value for v in model.non_trainable_variables]
        metrics = [v.value for v in model.metrics_variables]

        def objective(values):
            return model.compute_loss_and_updates(
                values, fixed, metrics, x, y, sample_weight, training=False
            )[0]

        grads = jax.grad(objective)([v.value for v in variables])
    return {
        v.path: float(np.linalg.norm(np.asarray(g, "float64")))
        for v, g in zip(variables, grads, strict=True)
    }


# A `.keras` file reloaded in a fresh interpreter (nothing but `import
# keras_rnninit` registers our classes there), checked weight by weight.
LOADER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    import keras_rnninit  # registers the classes; nothing else is passed to load
    found = []
    for model_path, ref_path in zip(sys.argv[1::2], sys.argv[2::2]):
        model = keras.saving.load_model(model_path)
        ref = np.load(ref_path)
        weights = model.get_weights()
        assert len(weights) == int(ref["n"]), f"{model_path}: weight count differs"
        for i, w in enumerate(weights):
            assert np.array_equal(w, ref[f"w{i}"]), f"{model_path}: weight {i} differs"
        assert np.array_equal(
            model.predict(ref["x"], verbose=0), ref["y"]
        ), f"{model_path}: predictions"
        configs = {}
        for layer in model.layers:
            cell = getattr(layer, "cell", layer)
            # A stacked RNN's cells are named layer.cells0, layer.cells1, ...
            cells = {f"cells{i}": c for i, c in enumerate(getattr(cell, "cells", []))}
            for prefix, owner in (cells or {"": cell}).items():
                name = ".".join(filter(None, (layer.name, prefix)))
                for attr in ("kernel", "recurrent", "bias"):
                    init = getattr(owner, f"{attr}_initializer", None)
                    if init is not None:
                        configs[f"{name}.{attr}_initializer"] = [
                            keras.saving.get_registered_name(type(init)),
                            init.get_config(),
                        ]
        found.append(configs)
    print(json.dumps(found))
""")


def save_with_reference(model, tmp_path, name):
    """Train `model` a little, save it, and keep its weights and predictions."""
    from keras_rnninit.tasks import adding_problem

    x, y = adding_problem(64, length=8, seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # trained, not fresh, weights
    path = tmp_path / f"{name}.keras"
    model.save(path)
    weights = model.get_weights()
    ref = tmp_path / f"{name}.npz"
    np.savez(
        ref,
        x=x,
        y=model.predict(x, verbose=0),
        n=len(weights),
        **{f"w{i}": w for i, w in enumerate(weights)},
    )
    return str(path), str(ref)


def load_in_one_fresh_process(saved):
    """Load files of `save_with_reference` in one fresh process, where only
    `import keras_rnninit` registers our classes (one TensorFlow start, not
    one per file). That process checks each file's weights and predictions
    against its reference. {name: (model, reference)} in, {name: initializer
    configs} out, each {"layer[.cellsI].attr": [registered name, config]}."""
    paths = [path for pair in saved.values() for path in pair]
    done = run_python("-c", LOADER, *paths, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return dict(zip(saved, found, strict=True))


def run_main(capsys, *argv):
    """`keras-rnninit *argv` in this process: (exit code, stdout, stderr)."""
    from keras_rnninit.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@dataclasses.dataclass(frozen=True)
class Recurrent:
    """One recurrent layer of a differential harness's random model."""

    kind: str  # simple, fast, lstm, lstm_relu (export's: not fusable), gru
    units: int
    bidirectional: bool
    go_backwards: bool
