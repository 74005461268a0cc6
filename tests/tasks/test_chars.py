import math

import numpy as np
import pytest

from keras_rnninit import tasks  # noqa: E402
from keras_rnninit.tasks import (  # noqa: E402
    CharVocabulary,
    char_windows,
    load_text,
    unigram_entropy,
)


def test_bundled_text_is_the_documented_file():
    import hashlib

    text = load_text()
    assert len(text) == 149_910 and text.isascii()
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "22f48f440624d29b65f414ec54097ce1439df35333e9e92fb1fa8849744bf0ee"
    )


def test_vocabulary_round_trip_and_unknown_chars():
    vocab = CharVocabulary("hello world")
    assert vocab.size == 8 and vocab.decode(vocab.encode("world")) == "world"
    with pytest.raises(ValueError, match="unknown characters: \\['z'\\]"):
        vocab.encode("z")


def test_char_windows_next_character_targets():
    x, y = char_windows(16, length=30, seed=4)
    vocab = CharVocabulary(load_text())
    assert x.shape == (16, 30, vocab.size)
    np.testing.assert_array_equal(x[:, 1:].argmax(-1), y[:, :-1])
    text = vocab.decode(x[0].argmax(-1)) + vocab.decode(y[0, -1:])
    assert text in load_text()


def test_char_splits_do_not_overlap():
    text = load_text()
    cut = int(len(text) * 0.9)
    vocab = CharVocabulary(text)
    x, _ = char_windows(8, length=40, seed=0, split="test")
    for row in x:
        assert vocab.decode(row.argmax(-1)) in text[cut:]


def test_unigram_entropy():
    assert math.isclose(unigram_entropy("aabb"), math.log(2))
    assert 3.1 < unigram_entropy(load_text()) < 3.3


@pytest.mark.slow
def test_sample_text_from_a_trained_char_model():
    import keras

    from keras_rnninit import schemes
    from keras_rnninit.tasks import sample_text

    task = tasks.get("chars")
    model = schemes.get("xavier_rnn").build_model(
        input_dim=task.input_dim,
        units=16,
        output_units=task.output_units,
        return_sequences=True,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=task.loss())
    x, y = task.train_data(64, 20, seed=0)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    vocab = CharVocabulary(load_text())
    text = sample_text(model, vocab, "The ", length=12, temperature=0.8, seed=1)
    assert len(text) == 12 and set(text) <= set(vocab.chars)
    assert text == sample_text(model, vocab, "The ", length=12, temperature=0.8, seed=1)
    # A plain callable (here the eager call the compiled predict replaces)
    # samples the same text.
    eager = sample_text(
        lambda x: model(x), vocab, "The ", length=12, temperature=0.8, seed=1
    )
    assert eager == text
    with pytest.raises(ValueError, match="`temperature` must be > 0"):
        sample_text(model, vocab, "The ", temperature=0)
