"""What `export_tflite` is given: the destination, the numbers, the model."""

import hashlib
import json
import numbers
import os
import tempfile

import keras
import numpy as np

from keras_rnninit.export.convert import ExportError

__all__ = [
    "check_destination",
    "check_optional_positive_int",
    "load_model",
    "recurrent_layers",
]


def check_optional_positive_int(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be a positive int or None. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if value < 1:
        raise ValueError(
            f"`{name}` must be a positive int or None. Received: {name}={value}"
        )
    return int(value)


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
        if os.path.exists(target) and not overwrite:
            raise FileExistsError(
                f"{target} exists; pass overwrite=True (CLI: --force) to replace it."
            )
    return path, sidecar


def recurrent_layers(layer):
    """Recurrent layers anywhere inside `layer` (nested models included)."""
    if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
        return [layer]
    return [
        r for inner in getattr(layer, "layers", []) for r in recurrent_layers(inner)
    ]


def load_model(source):
    """A Keras model from a model object or a `.keras` path, and its sha256."""
    if isinstance(source, keras.Model):
        digest = hashlib.sha256(
            json.dumps(source.get_config(), sort_keys=True, default=str).encode()
        )
        for weight in source.get_weights():
            digest.update(np.ascontiguousarray(weight).tobytes())
        return source, digest.hexdigest()
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"`model` must be a keras.Model or a .keras path. "
            f"Received: model of type {type(source).__name__}"
        )
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"`model` must be an existing .keras file. Received: model={path!r}"
        )
    with open(path, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()
    try:
        model = keras.saving.load_model(path)
    except Exception as error:
        detail = str(error).strip().splitlines()
        raise ExportError(
            f"{path} could not be loaded as a Keras model "
            f"({type(error).__name__}: {detail[0][:200] if detail else ''})"
        ) from error
    return model, digest
