"""Parity of an exported file: LiteRT against the Keras model, same inputs."""

import keras
import numpy as np

from keras_rnninit.export.convert import ExportError, stateful_layers
from keras_rnninit.export.runner import TFLiteRunner

__all__ = ["default_verify_data", "keras_reference", "verify"]


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
            for layer in model.layers
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


def keras_reference(model, x, stateful):
    if stateful:
        for layer in stateful_layers(model):
            layer.reset_state()
    return np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))


def verify(path, model, batches, atol, rtol):
    runner = TFLiteRunner(path)
    stateful = runner.stateful
    max_abs, scale, count = 0.0, 0.0, 0
    for x in batches:
        if stateful:
            runner.reset()
        got = runner(x)
        if isinstance(got, dict):
            got = got[runner.output_names[0]]
        ref = keras_reference(model, x, stateful)
        if got.shape != ref.shape:
            raise ExportError(
                f"LiteRT returned shape {got.shape} where Keras "
                f"returns {ref.shape} for input shape {x.shape}"
            )
        max_abs = max(max_abs, float(np.max(np.abs(got - ref))))
        scale = max(scale, float(np.max(np.abs(ref))))
        count += x.shape[0]
    if stateful:
        runner.reset()
        for layer in stateful_layers(model):
            layer.reset_state()
    latency = runner.latency_ms(batches[0])
    if stateful:
        runner.reset()
    rel = max_abs / scale if scale > 0 else 0.0
    if not max_abs <= atol + rtol * scale:
        raise ExportError(
            f"parity check failed: max abs error {max_abs:.3g} (relative "
            f"{rel:.3g}) exceeds atol {atol:g} + rtol {rtol:g} x max|y| {scale:.3g}"
        )
    return max_abs, rel, count, latency, runner
