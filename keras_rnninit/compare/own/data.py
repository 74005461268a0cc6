"""The user's data and model for a comparison: checked, and read in the
batches every scheme of a seed shares."""

import hashlib
import os
import warnings

import keras
import numpy as np

__all__ = [
    "check_data",
    "fingerprint",
    "load_source",
    "paired_batches",
    "read_batches",
    "rows",
    "take",
]


def _arrays(value, name):
    try:
        return keras.tree.map_structure(np.asarray, value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be an (x, y) tuple of arrays (x: an array, or a list "
            f"or dict of arrays). Received: {name} that numpy cannot read ({error})"
        ) from None


def _is_tf_dataset(data):
    # tf.data without importing TensorFlow: a Dataset's class lives in
    # tensorflow.python.data and has an element_spec.
    return type(data).__module__.startswith("tensorflow.") and hasattr(
        data, "element_spec"
    )


def _stack(batches, name, kind):
    """One (x, y[, sample_weight]) of numpy structures from a list of
    batches, and the rows of the first batch."""
    if not batches:
        raise ValueError(
            f"`{name}` must hold at least one batch. Received: an empty {kind}"
        )
    batches = [_triple(batch, name, kind) for batch in batches]
    sizes = {len(batch) for batch in batches}
    if len(sizes) != 1:
        raise ValueError(
            f"`{name}` must yield batches of one form, (x, y) or (x, y, "
            f"sample_weight). Received: a {kind} that yields both"
        )
    try:
        stacked = keras.tree.map_structure(
            lambda *leaves: np.concatenate(leaves), *batches
        )
    except ValueError as error:
        raise ValueError(
            f"`{name}` must yield batches whose arrays share their shape after "
            f"the batch axis, so that every seed can re-batch the same rows (pad "
            f"variable-length sequences to one length, e.g. padded_batch(B, "
            f"padded_shapes=...)). Received: a {kind} with differing shapes "
            f"({str(error).splitlines()[0]})"
        ) from None
    return take(stacked, _canonical_order(stacked)), rows(batches[0])


def _canonical_order(data):
    """Row indices sorted by a hash of each row's bytes (x, y and weights):
    the same rows in any order give the same arrays."""
    leaves = [np.ascontiguousarray(leaf) for leaf in keras.tree.flatten(data)]
    keys = [
        hashlib.blake2b(
            b"".join(leaf[i].tobytes() for leaf in leaves), digest_size=16
        ).digest()
        for i in range(rows(data))
    ]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def _triple(batch, name, kind):
    if not (isinstance(batch, (tuple, list)) and len(batch) in (2, 3)):
        raise TypeError(
            f"`{name}` must yield (x, y) or (x, y, sample_weight) batches. "
            f"Received: a {kind} that yields {type(batch).__name__}"
            + (f" of {len(batch)} items" if isinstance(batch, (tuple, list)) else "")
        )
    return tuple(_arrays(part, name) for part in batch)


def read_batches(data, name="data"):
    """`(arrays, batch_size)`: a finite `tf.data.Dataset` or a
    `keras.utils.PyDataset` read once, its batches concatenated into one
    (x, y[, sample_weight]) of arrays, and the rows of its first batch; any
    other `data` is returned as is, with batch size None.

    Paired runs need every scheme of a seed to see the same batches, and a
    pipeline's own shuffle (unseeded, reshuffled each epoch) cannot promise
    that: so its rows are read once, in memory, put in a canonical order
    (sorted by a hash of each row's bytes, so that the pipeline's shuffle
    changes no number and a resumed comparison finds the same data), and
    each seed re-batches them in its own order (`paired_batches`). A random
    transformation inside the pipeline (an augmentation in `map`) is
    therefore drawn once, for all runs. An infinite dataset (`repeat()`) or
    a PyDataset without a length is refused in one line.
    """
    if _is_tf_dataset(data):
        import tensorflow as tf

        cardinality = int(data.cardinality())
        if cardinality == int(tf.data.INFINITE_CARDINALITY):
            raise ValueError(
                f"`{name}` must be a finite tf.data.Dataset: its rows are read "
                "once and re-batched per seed. Received: an infinite dataset "
                "(drop its repeat())"
            )
        batches = list(data.as_numpy_iterator())
        kind = "tf.data.Dataset"
    elif isinstance(data, keras.utils.PyDataset):
        count = data.num_batches
        if count is None:
            raise ValueError(
                f"`{name}` must be a PyDataset with a length (__len__ or "
                "num_batches): its rows are read once and re-batched per seed. "
                "Received: an infinite PyDataset"
            )
        batches = [data[i] for i in range(count)]
        kind = "PyDataset"
    else:
        return data, None
    return _stack(batches, name, kind)


def check_data(data, name="data"):
    """`(x, y)` or `(x, y, sample_weight)` as numpy structures, checked: one
    length along axis 0, every value finite. Refuses anything else in one
    line."""
    if not (isinstance(data, (tuple, list)) and len(data) in (2, 3)):
        raise TypeError(
            f"`{name}` must be an (x, y) or (x, y, sample_weight) tuple of arrays, "
            f"a tf.data.Dataset or a keras.utils.PyDataset. Received: {name} of "
            f"type {type(data).__name__}"
            + (f" with {len(data)} items" if isinstance(data, (tuple, list)) else "")
        )
    parts = tuple(_arrays(part, name) for part in data)
    lengths = {}
    for part, value in zip(
        ("x", "y", "sample_weight")[: len(parts)], parts, strict=True
    ):
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
            f"`{name}` must have one length along axis 0 in "
            + ("x and y" if len(parts) == 2 else "x, y and sample_weight")
            + ". Received: "
            + ", ".join(f"{n} rows in {part}" for n, part in lengths.items())
        )
    return parts


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
