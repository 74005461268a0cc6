"""A min-char-rnn style character model on a bundled English text."""

import functools
from importlib import resources

import keras
import numpy as np

from keras_rnninit.utils.validation import check_int

__all__ = [
    "CharVocabulary",
    "char_windows",
    "load_text",
    "sample_text",
    "unigram_entropy",
]

TEXT = "python_reference.txt"  # provenance and licence: data/PROVENANCE.md
TRAIN_FRACTION = 0.9  # the first 90% of the text trains, the rest tests


@functools.cache
def load_text():
    """The bundled text (149,910 ASCII characters of the Python reference)."""
    return resources.files("keras_rnninit.tasks").joinpath("data", TEXT).read_text()


class CharVocabulary:
    """Sorted characters of a text, with `encode` (str -> ids) and `decode`."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self._index = {c: i for i, c in enumerate(self.chars)}

    @property
    def size(self):
        return len(self.chars)

    def encode(self, text):
        unknown = sorted(set(text) - set(self._index))
        if unknown:
            raise ValueError(
                f"`text` must use the vocabulary's characters. "
                f"Received unknown characters: {unknown!r}"
            )
        return np.array([self._index[c] for c in text], dtype="int32")

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)


def unigram_entropy(text):
    """Entropy in nats/char of the character frequencies: the loss of a model
    that ignores context entirely."""
    _, counts = np.unique(
        np.frombuffer(text.encode(), dtype=np.uint8), return_counts=True
    )
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def char_windows(num_samples, length, seed=0, split="train", text=None):
    """Random windows of the text: one-hot inputs and next-character targets.

    x[i, t] is the one-hot of character s_i + t and y[i, t] the id of
    character s_i + t + 1, for random starts s_i inside the split (the first
    90% of the text for "train", the last 10% for "test").

    Example:

        >>> x, y = char_windows(3, length=25, seed=0)
        >>> x.shape[:2], y.shape, int(x[0, 1:].argmax(-1)[0]) == int(y[0, 0])
        ((3, 25), (3, 25), True)

    Returns:
        `(x, y)`: float32 (n, length, vocab) and int32 (n, length).
    """
    n = check_int("num_samples", num_samples, 1)
    length = check_int("length", length, 1)
    seed = check_int("seed", seed, 0)
    if split not in ("test", "train"):
        raise ValueError(
            f"`split` must be one of test, train. Received: split={split!r}"
        )
    text = load_text() if text is None else text
    vocab = CharVocabulary(text)
    ids = vocab.encode(text)
    cut = int(len(ids) * TRAIN_FRACTION)
    part = ids[:cut] if split == "train" else ids[cut:]
    if len(part) < length + 2:
        raise ValueError(
            f"`length` must be < {len(part) - 1} for the {split} split. "
            f"Received: length={length}"
        )
    starts = np.random.default_rng(seed).integers(0, len(part) - length - 1, size=n)
    window = starts[:, None] + np.arange(length + 1)
    chunk = part[window]
    x = np.eye(vocab.size, dtype="float32")[chunk[:, :-1]]
    return x, chunk[:, 1:].astype("int32")


def sample_text(model, vocabulary, prompt, length=200, temperature=1.0, seed=0):
    """Generate `length` characters after `prompt` from a character model.

    `model` (a Keras model, or any callable) maps one-hot (1, t, vocab) to
    logits (1, t, vocab); each new character is drawn from
    softmax(logits / temperature) at the last step.
    """
    length = check_int("length", length, 1)
    if not temperature > 0:
        raise ValueError(
            f"`temperature` must be > 0. Received: temperature={temperature}"
        )
    rng = np.random.default_rng(seed)
    ids = list(vocabulary.encode(prompt))
    eye = np.eye(vocabulary.size, dtype="float32")
    # A Keras model's compiled predict function, not an eager call: eagerly a
    # recurrent layer runs its loop op by op, for every character (same
    # logits, 10x slower on TensorFlow). Any other callable is called as is.
    predict = getattr(model, "predict_on_batch", None) or model
    for _ in range(length):
        logits = keras.ops.convert_to_numpy(predict(eye[np.array(ids)][None]))[0, -1]
        z = logits.astype("float64") / temperature
        p = np.exp(z - z.max())
        ids.append(int(rng.choice(vocabulary.size, p=p / p.sum())))
    return vocabulary.decode(ids[len(prompt) :])
