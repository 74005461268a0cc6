"""compare(model=..., data=...): schemes compared on your own model and arrays.

References are independent of the runner: batches from the documented
stream of seeded permutations, a model re-initialized by
`schemes.reinitialize` and trained step by step with `train_on_batch`, the
monitored value recomputed with `evaluate`, the saved file reloaded.
"""

import keras
import numpy as np
import pytest

from keras_rnninit.compare import compare
from keras_rnninit.compare.own import paired_batches
from keras_rnninit.compare.own.data import read_batches
from tests.compare.own.helpers import XV, YV, N, X, Y, classifier, stream_rows


def compare_own(**kwargs):
    arguments = dict(
        model=classifier(),
        data=(X, Y),
        validation_data=(XV, YV),
        steps=2,
        eval_every=1,
        progress=False,
    )
    arguments.update(kwargs)
    return compare(["xavier_rnn"], seeds=[0], **arguments)


class Batches(keras.utils.PyDataset):
    """A PyDataset of the given batches (`length=False`: no length)."""

    def __init__(self, batches, length=True):
        super().__init__()
        self.batches, self.length = batches, length

    def __len__(self):
        return len(self.batches)

    @property
    def num_batches(self):
        return len(self.batches) if self.length else None

    def __getitem__(self, index):
        return self.batches[index]


def sorted_rows(x, y):
    """The rows of (x, y) as one sorted array: equal for the same rows in
    any order."""
    table = np.concatenate([x.reshape(len(x), -1), y[:, None]], axis=1)
    return table[np.lexsort(table.T[::-1])]


def test_paired_batches_follow_the_seeded_stream():
    data = (np.arange(10)[:, None] * 10, np.arange(10))
    batches = paired_batches(data, 4, seed=7)
    got = [next(batches) for _ in range(5)]  # 20 rows: two passes, one split
    expected = stream_rows(10, 7, 20)
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), expected)
    np.testing.assert_array_equal(
        np.concatenate([x for x, _ in got])[:, 0], expected * 10
    )
    later = paired_batches(data, 4, seed=7, start=3)  # resumes mid-stream
    np.testing.assert_array_equal(next(later)[1], expected[12:16])
    other = next(paired_batches(data, 4, seed=8))[1]
    assert not np.array_equal(other, expected[:4])
    # Several inputs keep their rows aligned.
    x, y = next(paired_batches(({"a": data[0], "b": -data[0]}, data[1]), 3, seed=7))
    np.testing.assert_array_equal(x["a"][:, 0], -x["b"][:, 0])
    np.testing.assert_array_equal(x["a"][:, 0], y * 10)


def test_a_dataset_is_read_once_whatever_its_order():
    import tensorflow as tf

    rows = tf.data.Dataset.from_tensor_slices((X, Y))
    (x1, y1), size1 = read_batches(rows.shuffle(N, seed=1).batch(16))
    (x2, y2), size2 = read_batches(rows.shuffle(N).batch(16))  # unseeded
    backwards = [(X[::-1][i : i + 10], Y[::-1][i : i + 10]) for i in range(0, N, 10)]
    (x3, y3), size3 = read_batches(Batches(backwards))
    assert (size1, size2, size3) == (16, 16, 10)
    # The same rows as the arrays, in one order whatever the pipeline's.
    np.testing.assert_array_equal(sorted_rows(x1, y1), sorted_rows(X, Y))
    for x, y in ((x2, y2), (x3, y3)):
        np.testing.assert_array_equal(x, x1)
        np.testing.assert_array_equal(y, y1)
    assert read_batches((X, Y)) == ((X, Y), None)  # arrays pass through


@pytest.mark.slow
def test_compare_on_a_shuffled_dataset_is_compare_on_its_rows():
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((X, Y)).shuffle(N).batch(16)
    validation = tf.data.Dataset.from_tensor_slices((XV, YV)).batch(7)
    settings = dict(seeds=[0], steps=6, eval_every=3, progress=False)
    got = compare(
        ["xavier_rnn", "keras_default"],
        model=classifier(),
        data=data,
        validation_data=validation,
        **settings,
    )
    rows, _ = read_batches(data)  # another shuffle: the same rows, one order
    expected = compare(
        ["xavier_rnn", "keras_default"],
        model=classifier(),
        data=rows,
        validation_data=(XV, YV),
        batch_size=16,
        **settings,
    )
    for mine, theirs in zip(got, expected, strict=True):
        assert mine["config"]["batch_size"] == 16  # the dataset's batches
        assert mine["config"]["data"] != theirs["config"]["data"]  # XV reordered
        np.testing.assert_allclose(
            mine["curve"]["test"], theirs["curve"]["test"], rtol=1e-5
        )
        np.testing.assert_allclose(
            mine["curve"]["train"], theirs["curve"]["train"], rtol=1e-5
        )


def test_datasets_that_cannot_be_paired_are_refused_in_one_line():
    import tensorflow as tf

    rows = tf.data.Dataset.from_tensor_slices((X, Y))
    ragged = Batches([(X[:8], Y[:8]), (X[8:16, :4], Y[8:16])])
    for data, error, message in (
        (rows.repeat().batch(8), ValueError, r"^`data` must be a finite tf\.data"),
        (tf.data.Dataset.from_tensor_slices(X).batch(8), TypeError, r"\(x, y\) or"),
        (ragged, ValueError, r"share their shape after the batch axis"),
        (Batches([(X, Y)], length=False), ValueError, r"PyDataset with a length"),
        (rows.take(0).batch(8), ValueError, r"at least one batch"),
    ):
        with pytest.raises(error, match=message) as caught:
            compare_own(data=data)
        assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match=r"^`validation_data` must be a finite"):
        compare_own(validation_data=rows.repeat().batch(8))
