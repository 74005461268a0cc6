"""The real dataset tasks: read offline from the installed packages, checked
against the datasets' published facts and against the loaders' own output."""

import json
import sys

import numpy as np
import pytest

from keras_rnninit import tasks
from keras_rnninit.compare import CompareConfig
from keras_rnninit.tasks.datasets import (
    DATASETS,
    dataset_batch,
    load_dataset,
    pixel_permutation,
)

# Published facts (scikit-learn's documentation; the UCR/UEA archive pages):
# samples (UCR/UEA: train + test files), classes, T (the longest), features.
PUBLISHED = {
    "digits": (1797, 10, 64, 1),
    "digits_permuted": (1797, 10, 64, 1),
    "japanese_vowels": (270 + 370, 9, 29, 12),
    "osuleaf": (200 + 242, 6, 427, 1),
    "acsf1": (100 + 100, 10, 1460, 1),
}


def _raw_digits():
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _raw_japanese_vowels():
    """Series (length, 12) and labels straight from sktime's loader."""
    from sktime.datasets import load_japanese_vowels

    frame, labels = load_japanese_vowels()
    series = [
        np.column_stack([frame.iloc[i, j].to_numpy() for j in range(12)])
        for i in range(len(frame))
    ]
    return series, labels


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shapes_dtypes_and_classes_match_the_published_facts(name):
    samples, classes, length, features = PUBLISHED[name]
    data = load_dataset(name)
    info = DATASETS[name]
    assert (info.samples, info.classes, info.length, info.features) == PUBLISHED[name]
    assert len(data.y_train) + len(data.y_test) == samples
    assert len(data.y_test) == -(-samples // 3)  # the documented third
    for x, y, lengths in (
        (data.x_train, data.y_train, data.lengths_train),
        (data.x_test, data.y_test, data.lengths_test),
    ):
        assert x.shape == (len(y), length, features) and x.dtype == np.float32
        assert y.dtype == np.int32 and sorted(set(y)) == list(range(classes))
        assert np.isfinite(x).all() and lengths.max() <= length
    # The split is a partition of the samples.
    both = np.concatenate([data.index_train, data.index_test])
    np.testing.assert_array_equal(np.sort(both), np.arange(samples))


@pytest.mark.slow
def test_japanese_vowels_lengths_are_the_published_7_to_29():
    series, _ = _raw_japanese_vowels()
    lengths = [len(s) for s in series]
    assert (min(lengths), max(lengths)) == (7, 29)
    data = load_dataset("japanese_vowels")
    np.testing.assert_array_equal(
        data.lengths_train, np.array(lengths)[data.index_train]
    )


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_split_is_stratified(name):
    # Each class's test count is within one sample of its share n_c * m / n.
    data = load_dataset(name)
    y = np.concatenate([data.y_train, data.y_test])
    expected = np.bincount(y) * len(data.y_test) / len(y)
    assert np.all(np.abs(np.bincount(data.y_test) - expected) < 1), name


def test_digits_are_sklearns_images_standardized_with_training_statistics():
    images, labels = _raw_digits()
    data = load_dataset("digits")
    train = images[data.index_train]
    # x' = (x - mean) / std with the training pixels' statistics (ddof 0).
    mean, std = train.mean(), train.std()
    assert mean != pytest.approx(images.mean(), abs=1e-6)  # not all samples'
    np.testing.assert_allclose(data.x_train[..., 0], (train - mean) / std, atol=1e-5)
    np.testing.assert_allclose(
        data.x_test[..., 0], (images[data.index_test] - mean) / std, atol=1e-5
    )
    np.testing.assert_array_equal(data.y_train, labels[data.index_train])
    np.testing.assert_array_equal(data.y_test, labels[data.index_test])


@pytest.mark.slow
def test_japanese_vowels_are_sktimes_series_padded_with_zeros():
    series, labels = _raw_japanese_vowels()
    data = load_dataset("japanese_vowels")
    real = np.concatenate([series[i] for i in data.index_train])
    mean, std = real.mean(axis=0), real.std(axis=0)
    for row, i in enumerate(data.index_test[:50]):
        n = len(series[i])
        np.testing.assert_allclose(
            data.x_test[row, :n], (series[i] - mean) / std, atol=1e-5
        )
        assert data.y_test[row] == int(labels[i]) - 1  # labels 1..9 -> ids 0..8


def test_japanese_vowels_mask_marks_exactly_the_real_steps():
    data = load_dataset("japanese_vowels")
    for x, lengths in (
        (data.x_train, data.lengths_train),
        (data.x_test, data.lengths_test),
    ):
        real = np.arange(29) < lengths[:, None]
        # What Masking(0.0) keeps: steps with any non-zero feature.
        np.testing.assert_array_equal(np.any(x != 0, axis=-1), real)
        assert not x[~real].any()


def test_padded_steps_do_not_change_the_compare_model_output():
    import keras

    from keras_rnninit import schemes
    from keras_rnninit.compare.training import _build_model

    task = tasks.get("japanese_vowels")
    config = CompareConfig(task="japanese_vowels", units=8)
    model = _build_model(schemes.get("xavier_rnn"), task, config, seed=0)
    x, _ = task.test_data(6, 29, seed=0)
    lengths = np.any(x != 0, axis=-1).sum(axis=1)
    assert lengths.min() < 29  # some are padded
    padded = keras.ops.convert_to_numpy(model(x))
    for i, n in enumerate(lengths):
        alone = keras.ops.convert_to_numpy(model(x[i : i + 1, :n]))[0]
        np.testing.assert_allclose(padded[i], alone, atol=1e-5)


def test_digits_permuted_is_one_fixed_permutation_of_the_pixels():
    order = pixel_permutation()
    assert sorted(order) == list(range(64)) and not np.array_equal(order, range(64))
    np.testing.assert_array_equal(order, pixel_permutation())
    plain, permuted = load_dataset("digits"), load_dataset("digits_permuted")
    np.testing.assert_array_equal(permuted.index_test, plain.index_test)
    # Each image holds the same pixels (sorted, equal), in the fixed order.
    np.testing.assert_array_equal(
        np.sort(permuted.x_train, axis=1), np.sort(plain.x_train, axis=1)
    )
    np.testing.assert_array_equal(permuted.x_train, plain.x_train[:, order])
    images, _ = _raw_digits()
    mean, std = images[plain.index_train].mean(), images[plain.index_train].std()
    np.testing.assert_allclose(
        permuted.x_test[..., 0],
        (images[plain.index_test][:, order] - mean) / std,
        atol=1e-5,
    )


def test_same_seed_same_split_and_batches():
    before = load_dataset("osuleaf")
    load_dataset.cache_clear()
    after = load_dataset("osuleaf")
    assert after is not before
    for field in ("index_train", "index_test", "x_train", "y_test"):
        np.testing.assert_array_equal(getattr(after, field), getattr(before, field))
    a = dataset_batch("osuleaf", 16, 427, seed=3)
    b = dataset_batch("osuleaf", 16, 427, seed=3)
    c = dataset_batch("osuleaf", 16, 427, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    # A training batch draws distinct training examples; the test set is fixed.
    rows = [np.flatnonzero((after.x_train == x).all(axis=(1, 2)))[0] for x in a[0]]
    assert len(set(rows)) == 16
    x_test, y_test = tasks.get("osuleaf").test_data(148, 427, seed=9)
    np.testing.assert_array_equal(x_test, after.x_test)
    np.testing.assert_array_equal(y_test, after.y_test)


def test_cached_arrays_are_read_only():
    data = load_dataset("digits")
    with pytest.raises(ValueError, match="read-only"):
        data.x_train[0, 0, 0] = 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_task_metadata(name):
    import keras

    samples, classes, length, features = PUBLISHED[name]
    task = tasks.get(name)
    assert (task.input_dim, task.output_units) == (features, classes)
    assert task.dataset.length == length and task.mode == "max"
    assert task.dataset.loss == "sparse_categorical_crossentropy"
    assert task.dataset.metric == "accuracy" and task.metric == "test accuracy"
    assert task.masked == (name == "japanese_vowels")
    loss = task.loss()
    assert isinstance(loss, keras.losses.SparseCategoricalCrossentropy)
    assert loss.get_config()["from_logits"]
    [metric] = task.metrics()
    assert isinstance(metric, keras.metrics.SparseCategoricalAccuracy)
    # The trivial predictor: the training split's most frequent class.
    data = load_dataset(name)
    majority = np.bincount(data.y_train).argmax()
    assert task.baseline(length) == np.mean(data.y_test == majority)
    assert task.baseline(length) < task.threshold(length) < 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"length": 50}, r"`length` must be 64 for the digits task .*length=50"),
        ({"test_size": 64}, r"`test_size` must be 599 for the digits task"),
        ({"batch_size": 1199}, r"`batch_size` must be <= 1198 for the digits"),
        ({"threshold": 1.0}, r"`threshold` must be < 1 for the digits task"),
    ],
)
def test_config_refuses_what_a_dataset_cannot_give(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CompareConfig(task="digits", **kwargs)
    config = CompareConfig(task="digits")  # the dataset's own sizes by default
    assert (config.length, config.test_size) == (64, 599)
    assert (CompareConfig().length, CompareConfig().test_size) == (50, 1000)


def test_batch_errors():
    with pytest.raises(ValueError, match="`length` must be 427 for the osuleaf"):
        dataset_batch("osuleaf", 4, 400)
    with pytest.raises(ValueError, match=r"`num_samples` must be <= 148, the osu"):
        dataset_batch("osuleaf", 149, 427, split="test")
    with pytest.raises(ValueError, match="`split` must be one of test, train"):
        dataset_batch("osuleaf", 4, 427, split="valid")
    with pytest.raises(ValueError, match="`name` must be one of acsf1, digits,"):
        load_dataset("mnist")


MISSING = (
    "`task` {!r} needs the optional data packages: pip install 'keras_rnninit[data]'"
)


@pytest.mark.parametrize(
    "package, name", [("sklearn", "digits"), ("sktime", "japanese_vowels")]
)
def test_missing_extra_is_one_line_naming_it(monkeypatch, package, name):
    monkeypatch.setitem(sys.modules, package, None)  # `import package` fails
    with pytest.raises(ImportError) as caught:
        CompareConfig(task=name)
    assert str(caught.value) == MISSING.format(name)


def test_missing_extra_on_the_command_line(monkeypatch, capsys, tmp_path):
    from keras_rnninit.cli import main

    monkeypatch.setitem(sys.modules, "sklearn", None)
    code = main(["compare", "--task", "digits", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and MISSING.format("digits") in err
    assert not list(tmp_path.iterdir())  # refused before any folder


@pytest.mark.slow
def test_tiny_compare_on_digits_writes_its_report(capsys, tmp_path):
    import keras

    from keras_rnninit.cli import main

    out = tmp_path / "digits"
    argv = "compare --task digits --schemes xavier_rnn,keras_default --seeds 0"
    argv += f" --steps 200 --units 8 --threshold 0.2 --out {out}"
    assert main(argv.split()) == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert "threshold above 0.2" in (out / "report.md").read_text()
    for record in report["records"]:
        assert record["config"]["length"] == 64 and record["mode"] == "max"
        steps, test = record["curve"]["step"], record["curve"]["test"]
        assert record["best_test"] == max(test)
        # Solved: the first evaluation whose accuracy is above the threshold.
        above = [s for s, v in zip(steps, test, strict=True) if v > 0.2]
        assert record["steps_to_threshold"] == (above[0] if above else None)
        # The last test value is the saved model's accuracy (argmax = label).
        model = keras.saving.load_model(out / record["model_path"])
        x, y = tasks.get("digits").test_data(599, 64, seed=0)
        logits = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
        assert test[-1] == pytest.approx(np.mean(logits.argmax(-1) == y), abs=1e-6)
    assert any(r["steps_to_threshold"] for r in report["records"])
