"""The user's data and model for a comparison: checked, and read in the
batches every scheme of a seed shares."""

import hashlib
import os
import warnings

import keras
import numpy as np

__all__ = ["check_data", "fingerprint", "load_source", "paired_batches", "rows", "take"]


def _arrays(value, name):
    try:
        return keras.tree.map_structure(np.asarray, value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be an (x, y) tuple of arrays (x: an array, or a list "
            f"or dict of arrays). Received: {name} that numpy cannot read ({error})"
        ) from None


def check_data(data, name="data"):
    """`(x, y)` as numpy structures, checked: one length along axis 0, every
    value finite. Refuses anything else in one line."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(
            f"`{name}` must be an (x, y) tuple of arrays. Received: {name} of "
            f"type {type(data).__name__}"
            + (f" with {len(data)} items" if isinstance(data, (tuple, list)) else "")
        )
    x, y = (_arrays(part, name) for part in data)
    lengths = {}
    for part, value in (("x", x), ("y", y)):
        for leaf in keras.tree.flatten(value):
            if leaf.ndim == 0:
                raise ValueError(
                    f"`{name}` must hold arrays with a batch axis. Received: a "
                    f"scalar in {part}"
                )
            lengths.setdefault(leaf.shape[0], part)
            if leaf.dtype.kind == "f" and not np.all(np.isfinite(leaf)):
                raise ValueError(
                    f"`{name}` must be finite. Received: NaN or Inf in {part}"
                )
    if len(lengths) != 1:
        raise ValueError(
            f"`{name}` must have one length along axis 0 in x and y. Received: "
            + ", ".join(f"{n} rows in {part}" for n, part in lengths.items())
        )
    return x, y


def rows(data):
    return keras.tree.flatten(data[0])[0].shape[0]


def take(data, index):
    return keras.tree.map_structure(lambda a: a[index], data)


def fingerprint(*datasets):
    """A short hash of the arrays (shapes, dtypes and bytes): a resumed
    comparison must train on the data its records were trained on."""
    digest = hashlib.sha256()
    for data in datasets:
        for leaf in keras.tree.flatten(data) if data is not None else []:
            digest.update(f"{leaf.shape}{leaf.dtype}".encode())
            digest.update(np.ascontiguousarray(leaf).tobytes())
    return digest.hexdigest()[:16]


def paired_batches(data, batch_size, seed, start=0):
    """The training batches of a seed, from step `start` on, forever.

    The rows are read in the order of a stream of permutations, one per pass
    over the data, the k-th drawn from (seed, k); batch i is rows
    [i * B, (i + 1) * B) of that stream, so every batch is full and every
    scheme of a seed gets the same batches in the same order.
    """
    n = rows(data)
    orders = {}

    def order(k):
        if k not in orders:
            orders.clear()  # at most two passes are needed at a time
            orders[k] = np.random.default_rng([seed, k]).permutation(n)
        return orders[k]

    step = start
    while True:
        positions = np.arange(step * batch_size, (step + 1) * batch_size)
        index = np.concatenate(
            [
                order(k)[positions[positions // n == k] % n]
                for k in np.unique(positions // n)
            ]
        )
        yield take(data, index)
        step += 1


def load_source(model, trust_model=False):
    """`(keras.Model, source)` from a compiled model, a `.keras` path (read in
    Keras' safe mode unless `trust_model`) or a zero-argument builder."""
    source = model
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not (path.endswith(".keras") and os.path.isfile(path)):
            raise ValueError(
                f"`model` must be a compiled keras.Model, an existing .keras file or "
                f"a builder. Received: model={path!r}"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = keras.saving.load_model(path, safe_mode=not trust_model)
            except ValueError as error:
                if "safe_mode" not in str(error):
                    raise
                raise ValueError(
                    f"`model` {path!r} holds Python code (a Lambda layer), which "
                    "Keras' safe mode does not run: pass trust_model=True "
                    "(--trust-model) if you trust the file"
                ) from None
        source = path
    elif callable(model) and not isinstance(model, keras.Model):
        source = f"{getattr(model, '__qualname__', type(model).__name__)}()"
        model = model()
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a compiled keras.Model, a .keras path or a "
            f"zero-argument builder of one. Received: {type(model).__name__}"
        )
    if not model.compiled:
        raise ValueError(
            "`model` must be compiled: every run trains with its loss, metrics "
            f"and a fresh copy of its optimizer. Received: model={model.name!r}, "
            "not compiled"
        )
    return model, source if isinstance(source, str) else f"keras.Model {model.name!r}"
