"""The seeded base class and argument checks shared by every initializer.

Only public Keras APIs are used (`keras.random`, `keras.ops`, `keras.saving`),
so the initializers run on every Keras 3 backend.
"""

import numbers
import random as python_random

import keras
from keras import ops

from keras_rnninit.initializers.building import gate_blocks_hint
from keras_rnninit.utils.validation import check_positive_int, check_positive_number

__all__ = ["Seed", "SeededInitializer"]

# What `seed=` takes (Keras' seed semantics, see `SeededInitializer`).
Seed = int | keras.random.SeedGenerator | None


def _check_positive(name, value):
    """`value` as a finite float > 0, else raise (`keras_rnninit.utils.validation`)."""
    return check_positive_number(name, value)


def _check_matrix_shape(shape, initializer, square=False, per_gate=False):
    """Return `shape` as a `(rows, cols)` tuple of positive ints, else raise.

    RNN weights (Wxh, Whh, Why) are matrices, so every fan-based initializer
    here asks for a 2-D shape; `square=True` also asks rows == cols (Whh).
    A square-only initializer refused the (units, k * units) weight of an
    LSTM or GRU cell says how to fix it (`per_gate`: it takes `gates=k`).
    """
    what = "a square 2-D shape" if square else "a 2-D shape"
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        dims = None
    if (
        dims is None
        or len(dims) != 2
        or min(dims) < 1
        or (square and dims[0] != dims[1])
    ):
        hint = gate_blocks_hint(shape, initializer, per_gate) if square else ""
        raise ValueError(
            f"`shape` must be {what} of positive ints for {initializer}{hint}. "
            f"Received: shape={shape}"
        )
    return dims


def _check_gates(gates):
    """Return `gates` as an int >= 1, else raise (TypeError for a non-int)."""
    return check_positive_int("gates", gates)


def _gate_block_shape(shape, gates, initializer, square=False, per_gate=False):
    """The `(rows, cols // gates)` shape of one gate block of a 2-D `shape`.

    Keras' LSTM and GRU concatenate their gate matrices along the last axis
    (LSTM: i, f, c, o; GRU: z, r, h), so a (H, 4H) recurrent kernel is four
    (H, H) blocks. `square=True` asks each block to be square; `per_gate`
    is passed on to `_check_matrix_shape`.
    """
    rows, cols = _check_matrix_shape(
        shape, initializer, square=square and gates == 1, per_gate=per_gate
    )
    if cols % gates:
        raise ValueError(
            f"`shape` must split into `gates` equal blocks along its last axis "
            f"for {initializer}. Received: shape={shape}, gates={gates}"
        )
    block = (rows, cols // gates)
    if square and block[0] != block[1]:
        raise ValueError(
            f"`shape` must be `gates` square blocks side by side, (n, gates * n), "
            f"for {initializer}. Received: shape={shape}, gates={gates}"
        )
    return block


def _per_gate(draw, block, gates, make_block):
    """Build `gates` independent blocks and concatenate them on the last axis.

    `draw(shape)` samples the random input of every block in one call, of
    shape `block` for one gate (so `gates=1` draws exactly what a plain
    initializer draws) or `(gates, *block)` otherwise; `make_block` maps one
    block's sample to its weights. One draw, not one per block: an int seed
    gives the same values on every call, so per-block draws would repeat.
    """
    if gates == 1:
        return make_block(draw(block))
    samples = draw((gates, *block))
    return ops.concatenate([make_block(samples[g]) for g in range(gates)], axis=-1)


def _gates_config(initializer):
    """`{"gates": k}` for k > 1, else `{}`: the config of `gates=1` stays the
    config of the initializers before `gates` existed (same files, same dicts)."""
    return {"gates": initializer.gates} if initializer.gates != 1 else {}


def _float_dtype(dtype):
    """Standardize `dtype` (None means `keras.config.floatx()`); floats only."""
    dtype = keras.backend.standardize_dtype(dtype or keras.config.floatx())
    if "float" not in dtype:
        raise ValueError(
            f"`dtype` must be a floating point dtype. Received: dtype={dtype}"
        )
    return dtype


def _compute_dtype(dtype):
    """The dtype to do linear algebra in: float16/bfloat16 are widened to float32."""
    return dtype if dtype in ("float32", "float64") else "float32"


def __getattr__(name):
    # 0.2 moved derive_seed to keras_rnninit.utils.seeding; the old path warns for
    # one minor version (CHANGELOG.md).
    if name == "derive_seed":
        import warnings

        from keras_rnninit.utils.seeding import derive_seed

        warnings.warn(
            "keras_rnninit.initializers.base.derive_seed moved to "
            "keras_rnninit.utils.seeding.derive_seed; the old path goes in 0.3.",
            DeprecationWarning,
            stacklevel=2,
        )
        return derive_seed
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SeededInitializer(keras.initializers.Initializer):
    """Base class with exactly the seed semantics of Keras' random initializers.

    - `seed=None`: a seed is drawn once, at construction, from Python's
      `random` module (so `keras.utils.set_random_seed` makes it repeatable);
      every call of the same object then returns the same values.
    - an int: every call returns the same values, in every process.
    - a `keras.random.SeedGenerator`: every call returns fresh values.

    `get_config()` returns the seed exactly as it was given, so
    `cls.from_config(init.get_config())` rebuilds an equal initializer.

    Args:
        seed: None, an int, or a `keras.random.SeedGenerator`.
    """

    def __init__(self, seed: Seed = None) -> None:
        if isinstance(seed, dict):
            seed = keras.saving.deserialize_keras_object(seed)
        if isinstance(seed, bool) or not (
            seed is None
            or isinstance(seed, (numbers.Integral, keras.random.SeedGenerator))
        ):
            raise TypeError(
                "`seed` must be None, an int or a `keras.random.SeedGenerator`. "
                f"Received: seed={seed!r} of type {type(seed).__name__}"
            )
        if isinstance(seed, numbers.Integral):
            seed = int(seed)
        self._init_seed = seed
        # Same rule as Keras' `make_default_seed`.
        self.seed = python_random.randint(1, int(1e9)) if seed is None else seed

    def get_config(self):
        return {"seed": keras.saving.serialize_keras_object(self._init_seed)}
