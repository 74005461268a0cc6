"""Parity of an exported file: LiteRT against the Keras model, same inputs."""

import keras
import numpy as np

from keras_rnninit.export.convert import (
    ExportError,
    _check_finite,
    _stateful_layers,
    _walk_layers,
)
from keras_rnninit.export.runner import DelegateError, TFLiteRunner

__all__ = ["default_verify_data", "keras_outputs", "verify"]


def default_verify_data(model, batch, lengths, seed=0):
    """Seeded N(0, 1) sequences (token ids for integer inputs), the last one of
    each batch padded with zeros over its final third so masks are exercised."""
    rng = np.random.default_rng(seed)
    tensor = model.inputs[0]
    dtype = keras.backend.standardize_dtype(tensor.dtype)
    features = [int(d) for d in tensor.shape[2:]]
    vocab = next(
        (
            layer.input_dim
            for layer in _walk_layers(model)
            if isinstance(layer, keras.layers.Embedding)
        ),
        10,
    )
    batches = []
    for length in lengths:
        shape = (batch, length, *features)
        if "int" in dtype:
            x = rng.integers(1, vocab, size=shape).astype(dtype)
        else:
            x = rng.normal(size=shape).astype(dtype)
        x[-1, length - max(1, length // 3) :] = 0
        batches.append(x)
    return batches


def keras_outputs(model, x, stateful):
    """The model's outputs on `x` under the names the exported file gives them:
    the keys of a dict output, else `output_0`, `output_1`, ... in order."""
    if stateful:
        for layer in _stateful_layers(model):
            layer.reset_state()
    y = model(x, training=False)
    if isinstance(y, dict):
        items = y.items()
    else:
        items = ((f"output_{i}", t) for i, t in enumerate(keras.tree.flatten(y)))
    return {name: np.asarray(keras.ops.convert_to_numpy(t)) for name, t in items}


def _check_output_finite(side, name, y, index, x):
    _check_finite(
        y,
        f"{side} output {name!r}",
        f" on verify batch {index} of input shape {x.shape}; an export is only "
        "checked on finite outputs",
    )


def verify(path, model, batches, atol, rtol):
    """Run every batch through the file and the model; compare every output.

    The file runs as a phone's default interpreter runs it, with LiteRT's
    default delegate (XNNPACK). Returns (max abs error, max relative error
    over the outputs, sequences, latency ms, runner) or raises ExportError on
    a non-finite value, a shape mismatch, an output whose error exceeds
    `atol + rtol * max|y_keras|`, or a file the default delegate cannot
    prepare (the message says whether the builtin kernels alone would pass)."""
    try:
        return _verify(TFLiteRunner(path), model, batches, atol, rtol)
    except DelegateError as error:
        cause = str(error.__cause__ or error).strip().splitlines()[-1][:200]
    try:
        alone = _verify(
            TFLiteRunner(path, default_delegates=False), model, batches, atol, rtol
        )
        plain = (
            f"without it the builtin kernels match Keras to {alone[0]:.3g}, so the "
            "file works only where the app turns XNNPACK off "
            "(Interpreter.Options().setUseXNNPACK(false) on Android)"
        )
    except ExportError as error:
        plain = f"without it the file fails too: {error}"
    raise ExportError(
        "LiteRT's default XNNPACK delegate, which a phone's interpreter applies "
        f"by default, cannot prepare the file ({cause}); {plain}. Export another "
        "way (quantize='dynamic' or 'float16', or no quantization)"
    )


def _verify(runner, model, batches, atol, rtol):
    stateful = runner.stateful
    errors = dict.fromkeys(runner.output_names, 0.0)  # max |y_tflite - y_keras|
    scales = dict.fromkeys(runner.output_names, 0.0)  # max |y_keras|
    count = 0
    for index, x in enumerate(batches):
        if stateful:
            runner.reset()
        got = runner.outputs(x)
        ref = keras_outputs(model, x, stateful)
        if sorted(got) != sorted(ref):
            raise ExportError(
                f"the file's outputs {sorted(got)} do not match the model's "
                f"outputs {sorted(ref)}"
            )
        for name in runner.output_names:
            _check_output_finite("Keras", name, ref[name], index, x)
            _check_output_finite("LiteRT", name, got[name], index, x)
            if got[name].shape != ref[name].shape:
                raise ExportError(
                    f"LiteRT returned shape {got[name].shape} for output {name!r} "
                    f"where Keras returns {ref[name].shape} for input shape {x.shape}"
                )
            diff = np.abs(got[name].astype("float64") - ref[name].astype("float64"))
            errors[name] = max(errors[name], float(np.max(diff, initial=0.0)))
            scale = float(np.max(np.abs(ref[name]), initial=0.0))
            scales[name] = max(scales[name], scale)
        count += x.shape[0]
    if stateful:
        runner.reset()
        for layer in _stateful_layers(model):
            layer.reset_state()
    latency = runner.latency_ms(batches[0])
    if stateful:
        runner.reset()
    for name in runner.output_names:
        error, scale = errors[name], scales[name]
        if not error <= atol + rtol * scale:
            raise ExportError(
                f"parity check failed on output {name!r}: max abs error {error:.3g} "
                f"exceeds atol {atol:g} + rtol {rtol:g} x max|y| {scale:.3g}"
            )
    max_abs = max(errors.values())
    rel = max(
        (errors[n] / scales[n] if scales[n] > 0 else 0.0) for n in runner.output_names
    )
    return max_abs, rel, count, latency, runner
