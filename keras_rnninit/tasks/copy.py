"""The copy (memory) task of Arjovsky, Shah & Bengio (2016)."""

import math

import numpy as np

from keras_rnninit.utils.validation import check_int

__all__ = ["COPY_CLASSES", "COPY_SYMBOLS", "copy_baseline", "copy_task"]

COPY_SYMBOLS = 10  # symbols to remember
COPY_CLASSES = 10  # 0 blank, 1..8 symbols, 9 delimiter
_BLANK, _DELIMITER, _ALPHABET = 0, 9, 8


def copy_baseline(length):
    """Cross-entropy (nats per step) of the best memoryless strategy:
    blanks predicted surely, the 10 recalled symbols uniformly over 8:
    10 ln 8 / (T + 20)."""
    return COPY_SYMBOLS * math.log(_ALPHABET) / (length + 2 * COPY_SYMBOLS)


def copy_task(num_samples, length, seed=0):
    """Remember 10 symbols across `length` blank steps, then recall them.

    Each sequence has T + 20 steps: 10 symbols drawn from 1..8, T - 1 blanks,
    the delimiter 9, then 10 blanks during which the model must output the 10
    symbols. The target is blank (0) everywhere else. Inputs are one-hot
    (10 classes), targets class ids; a model that remembers nothing scores
    `copy_baseline(T)` nats per step.

    Example:

        >>> x, y = copy_task(2, length=5, seed=0)
        >>> x.shape, y.shape
        ((2, 25, 10), (2, 25))
        >>> bool((y[:, -10:] == x[:, :10].argmax(-1)).all())
        True

    Args:
        num_samples: Number of sequences, >= 1.
        length: The delay T, >= 1.
        seed: Int seed: same seed, same data.

    Returns:
        `(x, y)`: float32 one-hot (n, T + 20, 10) and int32 targets (n, T + 20).

    Reference:
        - [Arjovsky, Shah & Bengio, 2016](https://arxiv.org/abs/1511.06464)
        - [Hochreiter & Schmidhuber, 1997](https://doi.org/10.1162/neco.1997.9.8.1735)
    """
    n = check_int("num_samples", num_samples, 1)
    length = check_int("length", length, 1)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    steps = length + 2 * COPY_SYMBOLS
    symbols = rng.integers(1, _ALPHABET + 1, size=(n, COPY_SYMBOLS))
    ids = np.full((n, steps), _BLANK)
    ids[:, :COPY_SYMBOLS] = symbols
    ids[:, COPY_SYMBOLS + length - 1] = _DELIMITER
    targets = np.full((n, steps), _BLANK)
    targets[:, -COPY_SYMBOLS:] = symbols
    x = np.eye(COPY_CLASSES, dtype="float32")[ids]
    return x, targets.astype("int32")
