"""Keras model -> TFLite bytes, along the measured paths (docs/guides/export.md).

- Default: a SavedModel with a **fixed-batch** signature (batch None makes the
  converter fail on `TensorListReserve`), converted with builtins only; the
  RNN becomes one WHILE loop and any sequence length runs.
- `unroll`: the model is rebuilt from its config with `unroll=True` and a
  fixed T: no WHILE, dynamic batch; int8 calibration survives it (on a WHILE
  model the calibrator segfaults), and the fused LSTM (fused.py).
- Endpoints are never named `serve`: with more than one signature key the
  converter renames a `serve` endpoint to `serving_default` and drops the
  others (tensorflow/lite/python/lite.py, from_saved_model).
"""

import dataclasses
import re
import tempfile
from collections.abc import Callable

import keras
import numpy as np

__all__ = [
    "ConversionOptions",
    "QUANTIZE_MODES",
    "RESET",
    "SERVE",
    "ExportError",
    "convert",
    "input_spec",
    "run_converter",
]

SERVE = "serving_default"
RESET = "reset"
QUANTIZE_MODES = ("dynamic", "float16", "int8")


class ExportError(RuntimeError):
    """The model cannot be exported or verified as asked; nothing was written."""


def _check_finite(value, what, why):
    """Raise ExportError naming `value`'s first NaN or infinity, its index and
    how many there are: "<what> holds nan at index (0, 3) (2 non-finite
    value(s))<why>"."""
    value = np.asarray(value)
    bad = np.argwhere(~np.isfinite(value))
    if bad.size:
        where = tuple(int(i) for i in bad[0])
        raise ExportError(
            f"{what} holds {value[where]} at index {where} "
            f"({len(bad)} non-finite value(s)){why}"
        )


def _walk_layers(layer):
    """The layers inside `layer`, nested models (and their layers) included."""
    for inner in getattr(layer, "layers", None) or []:
        yield inner
        yield from _walk_layers(inner)


def _stateful_layers(model):
    """The outermost stateful layers anywhere in `model` (nested models too)."""
    found = []

    def visit(layer):
        for inner in getattr(layer, "layers", None) or []:
            if getattr(inner, "stateful", False) and hasattr(inner, "reset_state"):
                found.append(inner)
            else:
                visit(inner)

    visit(model)
    return found


def _unrolled_copy(model, seq_len):
    """The same model (same weights) rebuilt with `unroll=True` and T = seq_len."""

    def rewrite(node):
        if isinstance(node, dict):
            if node.get("class_name") == "InputLayer":
                shape = list(node["config"]["batch_shape"])
                if len(shape) >= 2:
                    node["config"]["batch_shape"] = [shape[0], seq_len, *shape[2:]]
            if "unroll" in node:
                node["unroll"] = True
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    config = model.get_config()
    rewrite(config)
    try:
        copy = type(model).from_config(config)
        copy.set_weights(model.get_weights())
    except Exception as error:
        raise ExportError(
            "`unroll=True` rebuilds the model from its config, which failed for "
            f"{type(model).__name__} {model.name!r}: {error}"
        ) from error
    return copy


def input_spec(model, batch_size, seq_len):
    import tensorflow as tf

    tensor = model.inputs[0]
    shape = list(tensor.shape)
    shape[0] = batch_size
    if seq_len is not None and len(shape) >= 2:
        shape[1] = seq_len
    name = re.sub(r"\W", "_", tensor.name) or "sequence"
    return tf.TensorSpec(shape, dtype=tensor.dtype, name=name)


def _unsupported_ops(message):
    found = set(re.findall(r"'tf\.(\w+)' op is neither", message))
    for line in re.findall(r"(?:Custom|Flex) ops: ([\w, ]+)", message):
        found.update(op.strip() for op in line.split(",") if op.strip())
    return sorted(found)


def _explain(error, allow_select_tf_ops, unrolled, quantize=None):
    message = str(error)
    ops = _unsupported_ops(message)
    if not ops:
        last = [line for line in message.strip().splitlines() if line.strip()]
        if not last and quantize is not None:
            # TensorFlow's quantizer raises a bare RuntimeError (measured:
            # int8 of a masked SimpleRNN, unrolled).
            return (
                f"the TFLite converter's {quantize} quantization failed without "
                "saying why (a bare RuntimeError from TensorFlow's quantizer); "
                "export with another `quantize` ('dynamic' or 'float16') or none"
            )
        detail = last[-1][:300] if last else type(error).__name__
        return f"the TFLite converter failed: {detail}"
    options = []
    if not unrolled and any(op.startswith("TensorList") for op in ops):
        options.append("unroll=True with seq_len (removes the loop's TensorList ops)")
    if not allow_select_tf_ops:
        options.append(
            "allow_select_tf_ops=True (Flex ops, if TensorFlow's Select "
            "list has them; the app then needs the Flex delegate)"
        )
    else:
        options.append(
            "replace the layer that uses them: they are not in "
            "TensorFlow's Select (Flex) op list either"
        )
    return (
        "the model needs TensorFlow ops that TFLite builtins do not have: "
        f"{', '.join(ops)}. Options: {'; or '.join(options)}."
    )


@dataclasses.dataclass(frozen=True)
class ConversionOptions:
    """How one `.tflite` file is converted, the one object the export steps
    hand down (`export_tflite` builds it once from its checked arguments).

    Attributes:
        batch_size: The file's fixed batch (None: dynamic, unrolled files).
        seq_len: The file's fixed sequence length (None: any T at run time).
        quantize: None, "dynamic", "float16" or "int8".
        representative: The int8 calibration generator (`representative_dataset`).
        allow_select_tf_ops: Allow Flex ops.
        unrolled: The model is already an unrolled copy (only shapes the
            advice in error messages).
    """

    batch_size: int | None = 1
    seq_len: int | None = None
    quantize: str | None = None
    representative: Callable | None = None
    allow_select_tf_ops: bool = False
    unrolled: bool = False


def convert(model, options: ConversionOptions | None = None):
    """The `.tflite` bytes of `model` with its `serve` (and, if stateful,
    `reset`) signature, converted as `options` says. Raises `ExportError`
    with the unsupported ops named."""
    import tensorflow as tf

    options = options or ConversionOptions()
    spec = input_spec(model, options.batch_size, options.seq_len)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SERVE, lambda x: model(x, training=False), [spec])
    keys = [SERVE]
    stateful = _stateful_layers(model)
    if stateful:

        def reset():
            for layer in stateful:
                layer.reset_state()
            return tf.zeros((1,), tf.float32)  # a signature needs an output

        archive.add_endpoint(RESET, reset, input_signature=[])
        keys.append(RESET)

    with tempfile.TemporaryDirectory(prefix="keras_rnninit_") as saved_model:
        archive.write_out(saved_model, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(
            saved_model, signature_keys=keys
        )
        return run_converter(converter, options)


def run_converter(converter, options: ConversionOptions):
    """Builtins (plus Flex if allowed) and the quantization asked for, then
    convert; a failure becomes one `ExportError` with the missing ops named."""
    import tensorflow as tf

    quantize, allow_select_tf_ops = options.quantize, options.allow_select_tf_ops

    ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if allow_select_tf_ops:
        ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    converter.target_spec.supported_ops = ops
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.representative_dataset = options.representative
    try:
        return converter.convert()
    except Exception as error:  # ConverterError, or RuntimeError from quantizer
        raise ExportError(
            _explain(error, allow_select_tf_ops, options.unrolled, quantize)
        ) from error
