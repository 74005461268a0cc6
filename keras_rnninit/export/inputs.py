"""What `export_tflite` is given: the destination, the numbers, the model."""

import hashlib
import json
import os
import tempfile

import keras
import numpy as np

from keras_rnninit.export.convert import ExportError, _check_finite, _walk_layers
from keras_rnninit.utils.files import check_overwrite

__all__ = [
    "check_destination",
    "check_finite_weights",
    "check_sequences",
    "check_source",
    "load_model",
    "recurrent_layers",
]


def check_destination(path, overwrite):
    path = os.path.abspath(os.fspath(path))
    if not path.endswith(".tflite"):
        raise ValueError(f"`path` must end with .tflite. Received: path={path!r}")
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"`path` must be in an existing folder. Received: path={path!r}"
        )
    try:  # a real probe: as root, os.access says yes even where writes fail
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".keras_rnninit-probe-")
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        raise PermissionError(
            f"`path` must be in a writable folder. Received: path={path!r} "
            f"({error.strerror})"
        ) from error
    sidecar = path[: -len(".tflite")] + ".json"
    for target in (path, sidecar):
        if os.path.isdir(target):
            raise ValueError(
                "`path` must name a file, and it and its .json sidecar must not "
                f"be folders. Received: path={path!r} ({target} is a folder)"
            )
        check_overwrite(target, overwrite)
    return path, sidecar


def recurrent_layers(model):
    """Recurrent layers anywhere inside `model` (nested models included)."""
    kinds = (keras.layers.RNN, keras.layers.Bidirectional)
    return [layer for layer in _walk_layers(model) if isinstance(layer, kinds)]


def check_source(source):
    """Refuse a `model` that is neither a keras.Model nor an existing file."""
    if isinstance(source, keras.Model):
        return
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"`model` must be a keras.Model or a .keras path. "
            f"Received: model of type {type(source).__name__}"
        )
    if not os.path.isfile(source):
        raise FileNotFoundError(
            "`model` must be an existing .keras file. "
            f"Received: model={os.fspath(source)!r}"
        )


def load_model(source, safe_mode=True):
    """A Keras model from a model object or a `.keras` path, and its sha256.

    `safe_mode=False` lets Keras deserialize Python lambdas (`Lambda` layers):
    only for files the user trusts."""
    check_source(source)
    if isinstance(source, keras.Model):
        digest = hashlib.sha256(
            json.dumps(source.get_config(), sort_keys=True, default=str).encode()
        )
        for weight in source.get_weights():
            digest.update(np.ascontiguousarray(weight).tobytes())
        return source, digest.hexdigest()
    path = os.fspath(source)
    with open(path, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()
    try:
        model = keras.saving.load_model(path, safe_mode=safe_mode)
    except Exception as error:
        detail = " ".join(str(error).split())
        hint = ""
        if safe_mode and "safe_mode=False" in detail:
            hint = (
                " To load a file you trust anyway: safe_mode=False "
                "(CLI: --trust-model)."
            )
        raise ExportError(
            f"{path} could not be loaded as a Keras model "
            f"({type(error).__name__}: {detail}).{hint}"
        ) from error
    return model, digest


def check_finite_weights(model):
    """Refuse a model with a NaN or infinite weight before converting it."""
    for weight in model.weights:
        _check_finite(
            keras.ops.convert_to_numpy(weight),
            f"weight {weight.path!r}",
            "; a model with non-finite weights has no meaningful export",
        )


def check_sequences(name, x, model, seq_len=None):
    """`x` as an array shaped like a batch of the model's input, or a
    ValueError that says the expected shape."""
    tensor = model.inputs[0]
    features = tuple(int(d) for d in tensor.shape[2:])
    length = seq_len or tensor.shape[1]
    expected = ("n", "T" if length is None else int(length), *features)
    x = np.asarray(x)
    if (
        x.ndim != len(expected)
        or x.shape[0] == 0
        or x.shape[2:] != features
        or (length is not None and x.shape[1] != length)
        or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool)
    ):
        raise ValueError(
            f"`{name}` must be a numeric array of shape "
            f"({', '.join(map(str, expected))}) for this model. "
            f"Received: {name} of shape {x.shape} and dtype {x.dtype}"
        )
    if np.issubdtype(x.dtype, np.inexact) and not np.all(np.isfinite(x)):
        raise ValueError(
            f"`{name}` must hold finite values only. Received: {name} with "
            f"{int(np.sum(~np.isfinite(x)))} non-finite value(s)"
        )
    return x
