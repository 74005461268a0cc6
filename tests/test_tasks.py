import math

import numpy as np
import pytest

from keras_rnninit.tasks import ADDING_BASELINE_MSE, adding_problem
from tests.helpers import Z


def test_shapes_dtypes_and_structure():
    x, y = adding_problem(500, length=20, seed=3)
    assert x.shape == (500, 20, 2) and y.shape == (500, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers = x[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers[:, :10].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, 10:].sum(axis=1), 1)
    np.testing.assert_allclose((x[..., 0] * markers).sum(axis=1), y[:, 0], rtol=1e-6)
    assert x[..., 0].min() >= 0 and x[..., 0].max() <= 1


def test_deterministic_per_seed():
    a = adding_problem(10, 7, seed=1)
    b = adding_problem(10, 7, seed=1)
    c = adding_problem(10, 7, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_constant_prediction_baseline_is_one_sixth():
    _, y = adding_problem(20000, length=10, seed=0)
    n = y.size
    # (y - 1) is triangular on [-1, 1]: E[(y-1)^2] = 1/6, E[(y-1)^4] = 1/15.
    se = math.sqrt((1 / 15 - ADDING_BASELINE_MSE**2) / n)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < Z * se


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"num_samples": 0, "length": 5},
            ValueError,
            "`num_samples` must be an int >= 1",
        ),
        ({"num_samples": 2, "length": 1}, ValueError, "`length` must be an int >= 2"),
        ({"num_samples": 2, "length": 5.0}, TypeError, "`length` must be an int >= 2"),
        ({"num_samples": 2, "length": 5, "seed": -1}, ValueError, "`seed` must be"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        adding_problem(**kwargs)


# ------------------------------------------------------------------ copy task

from keras_rnninit import tasks  # noqa: E402
from keras_rnninit.tasks import (  # noqa: E402
    CharVocabulary,
    char_windows,
    copy_baseline,
    copy_task,
    load_text,
    unigram_entropy,
)


def test_copy_task_structure():
    x, y = copy_task(50, length=7, seed=2)
    assert x.shape == (50, 27, 10) and y.shape == (50, 27) and y.dtype == np.int32
    ids = x.argmax(-1)
    assert ((ids[:, :10] >= 1) & (ids[:, :10] <= 8)).all()
    assert (ids[:, 10:16] == 0).all() and (ids[:, 16] == 9).all()
    assert (ids[:, 17:] == 0).all()
    np.testing.assert_array_equal(y[:, -10:], ids[:, :10])
    assert (y[:, :-10] == 0).all()
    np.testing.assert_array_equal(x.sum(-1), 1)


def test_copy_baseline_formula():
    assert math.isclose(copy_baseline(100), 10 * math.log(8) / 120)


# ------------------------------------------------------------- character text


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


def test_task_registry():
    assert tasks.names() == [
        "acsf1",
        "adding",
        "chars",
        "copy",
        "digits",
        "digits_permuted",
        "japanese_vowels",
        "osuleaf",
    ]
    assert tasks.get("adding").mode == "min" and tasks.get("digits").mode == "max"
    task = tasks.get("copy")
    x, y = task.train_data(3, 5, seed=0)
    xt, _ = task.test_data(3, 5, seed=0)
    assert x.shape == (3, 25, 10) and not np.array_equal(x, xt)
    assert task.return_sequences and task.classification
    with pytest.raises(ValueError, match="`task` must be one of acsf1, adding, chars"):
        tasks.get("parity")
    with pytest.raises(ValueError, match="`split` must be one of test, train"):
        char_windows(2, 5, split="valid")


def test_task_monitor_decides_the_direction():
    import dataclasses

    adding = tasks.get("adding")
    assert (adding.monitor, adding.mode, adding.metrics()) == ("loss", "min", [])
    assert dataclasses.replace(adding, monitor="accuracy").mode == "max"
    with pytest.raises(
        ValueError, match="`monitor` must be one of accuracy, loss. Received: mon"
    ):
        dataclasses.replace(adding, monitor="f1")


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
