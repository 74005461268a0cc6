"""Real classification datasets read offline from installed packages.

Each dataset is read by its field's own loader from data that ships inside
the installed wheel (`sklearn.datasets.load_digits`; sktime's bundled UCR/UEA
loaders, which read `sktime/datasets/data/<Name>/<Name>_TRAIN.ts` and
`_TEST.ts` and never download), so nothing is fetched from the network.
scikit-learn and sktime are the optional extra `keras_rnninit[data]`.

Every dataset is prepared the same way (`load_dataset`):

1. labels become class ids 0..C-1 (published labels in numeric order);
2. all samples (for UCR/UEA: the archive's train and test files pooled) are
   split once, stratified by class, with a fixed seed:
   `sklearn.model_selection.train_test_split(..., test_size=ceil(n / 3),
   stratify=labels, random_state=0)`. This is not the archive's own split,
   so accuracies are not those of the UCR/UEA tables;
3. each feature is standardized, x' = (x - mean) / std, with the mean and
   standard deviation (ddof 0) of the training split's real time steps only;
4. variable-length series are padded after their end with all-zero steps,
   which `keras.layers.Masking(0.0)` masks (`lengths` holds the real lengths;
   a real step that standardizes to all zeros would be masked too, so
   loading refuses one).
"""

import dataclasses
import functools
import importlib

import numpy as np

from keras_rnninit.utils.validation import check_int

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "DatasetSplit",
    "dataset_batch",
    "load_dataset",
    "majority_accuracy",
    "pixel_permutation",
]

DATA_EXTRA = "keras_rnninit[data]"
SPLIT_SEED = 0  # random_state of the one stratified train/test split
PERMUTATION_SEED = 0  # numpy default_rng seed of digits_permuted's pixel order


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """The published facts of a dataset task, known without loading it.

    `length` is T (the padded T when `variable_length`), `features` the
    inputs per step, `classes` the labels; `packages` are the modules its
    loader needs. Trained on `loss` (logits), judged on `metric`.
    """

    name: str
    loader: str
    samples: int
    classes: int
    length: int
    features: int
    packages: tuple = ("sklearn",)
    variable_length: bool = False
    loss: str = "sparse_categorical_crossentropy"
    metric: str = "accuracy"

    @property
    def test_size(self):
        return -(-self.samples // 3)  # ceil(n / 3)

    @property
    def train_size(self):
        return self.samples - self.test_size

    def require(self):
        """Import the loader's packages; a missing one is one ImportError line."""
        for package in self.packages:
            try:
                importlib.import_module(package)
            except ImportError as error:
                raise ImportError(
                    f"`task` {self.name!r} needs the optional data packages: "
                    f"pip install '{DATA_EXTRA}'"
                ) from error


_SKTIME = ("sktime", "sklearn")

DATASETS = {
    info.name: info
    for info in (
        DatasetInfo("digits", "sklearn.datasets.load_digits", 1797, 10, 64, 1),
        DatasetInfo("digits_permuted", "sklearn.datasets.load_digits", 1797, 10, 64, 1),
        DatasetInfo(
            "japanese_vowels",
            "sktime.datasets.load_japanese_vowels",
            640,
            9,
            29,
            12,
            packages=_SKTIME,
            variable_length=True,
        ),
        DatasetInfo(
            "osuleaf", "sktime.datasets.load_osuleaf", 442, 6, 427, 1, packages=_SKTIME
        ),
        DatasetInfo(
            "acsf1", "sktime.datasets.load_acsf1", 200, 10, 1460, 1, packages=_SKTIME
        ),
    )
}


@dataclasses.dataclass(frozen=True)
class DatasetSplit:
    """A prepared dataset: float32 x (n, T, features), int32 y (n,) and the
    int lengths (n,) of each split; the training split's per-feature `mean`
    and `std`; the indices of each split's samples in the loader's order."""

    x_train: np.ndarray
    y_train: np.ndarray
    lengths_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    lengths_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    index_train: np.ndarray
    index_test: np.ndarray


def pixel_permutation():
    """digits_permuted's fixed order of the 64 pixels (a seeded permutation,
    the protocol of Le, Jaitly & Hinton, 2015, for pixel-by-pixel MNIST)."""
    return np.random.default_rng(PERMUTATION_SEED).permutation(64)


def _read_digits(permuted):
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)  # (1797, 64) row by row
    if permuted:
        images = images[:, pixel_permutation()]
    return list(images[:, :, None]), labels


def _read_japanese_vowels():
    from sktime.datasets import load_japanese_vowels

    frame, labels = load_japanese_vowels()  # nested: one pd.Series per cell
    series = [
        np.stack([cell.to_numpy() for cell in row], axis=-1)
        for row in frame.itertuples(index=False)
    ]
    return series, labels


def _read_ucr(loader):
    import sktime.datasets

    x, labels = getattr(sktime.datasets, loader)(return_type="numpy3D")
    return list(np.transpose(x, (0, 2, 1))), labels  # (n, T, features)


_READERS = {
    "digits": lambda: _read_digits(permuted=False),
    "digits_permuted": lambda: _read_digits(permuted=True),
    "japanese_vowels": _read_japanese_vowels,
    "osuleaf": lambda: _read_ucr("load_osuleaf"),
    "acsf1": lambda: _read_ucr("load_acsf1"),
}


def _checked(info, series, labels):
    """Class ids, lengths; refuses data that differ from the published facts."""
    codes, y = np.unique([int(v) for v in labels], return_inverse=True)
    lengths = np.array([len(s) for s in series])
    found = (len(series), len(codes), lengths.max(), series[0].shape[-1])
    expected = (info.samples, info.classes, info.length, info.features)
    uneven = not info.variable_length and lengths.min() != info.length
    if found != expected or uneven:
        raise RuntimeError(
            f"{info.loader} returned (samples, classes, T, features) = {found}; "
            f"the {info.name} task expects {expected}"
        )
    return y.astype("int32"), lengths


@functools.cache
def load_dataset(name):
    """The prepared, read-only `DatasetSplit` of dataset task `name` (cached).

    Example:

        >>> data = load_dataset("digits")
        >>> data.x_train.shape, data.x_test.shape, data.y_test.dtype.name
        ((1198, 64, 1), (599, 64, 1), 'int32')
    """
    info = _info(name)
    info.require()
    from sklearn.model_selection import train_test_split

    series, labels = _READERS[name]()
    y, lengths = _checked(info, series, labels)
    index_train, index_test = train_test_split(
        np.arange(info.samples),
        test_size=info.test_size,
        stratify=y,
        random_state=SPLIT_SEED,
    )
    real = np.concatenate([series[i] for i in index_train])  # real steps only
    mean, std = real.mean(axis=0), real.std(axis=0)
    x = np.zeros((info.samples, info.length, info.features), dtype="float32")
    for i, s in enumerate(series):
        x[i, : len(s)] = (s - mean) / std
    if info.variable_length:
        steps = np.arange(info.length) < lengths[:, None]
        if not np.any(x != 0, axis=-1)[steps].all():
            raise RuntimeError(
                f"a real step of {info.name} standardizes to all zeros, which "
                "Masking(0.0) would mask; its padding value must change"
            )
    arrays = dict(
        x_train=x[index_train],
        y_train=y[index_train],
        lengths_train=lengths[index_train],
        x_test=x[index_test],
        y_test=y[index_test],
        lengths_test=lengths[index_test],
        mean=mean,
        std=std,
        index_train=index_train,
        index_test=index_test,
    )
    for array in arrays.values():
        array.flags.writeable = False
    return DatasetSplit(**arrays)


def _info(name):
    if name not in DATASETS:
        raise ValueError(
            f"`name` must be one of {', '.join(sorted(DATASETS))}. "
            f"Received: name={name!r}"
        )
    return DATASETS[name]


def dataset_batch(name, num_samples, length, seed=0, split="train"):
    """`num_samples` examples of dataset task `name`: (x, y).

    "train": drawn without replacement from the training split by numpy's
    `default_rng(seed)` (same seed, same batch); "test": the first
    `num_samples` of the fixed test split (`seed` is not used). `length` must
    be the dataset's T: a dataset has one length.

    Example:

        >>> x, y = dataset_batch("digits", 8, length=64, seed=1)
        >>> x.shape, x.dtype.name, y.shape, y.dtype.name
        ((8, 64, 1), 'float32', (8,), 'int32')
    """
    info = _info(name)
    n = check_int("num_samples", num_samples, 1)
    if length != info.length:
        raise ValueError(
            f"`length` must be {info.length} for the {name} task (its "
            f"sequences have {info.length} steps). Received: length={length!r}"
        )
    seed = check_int("seed", seed, 0)
    if split not in ("test", "train"):
        raise ValueError(
            f"`split` must be one of test, train. Received: split={split!r}"
        )
    size = info.train_size if split == "train" else info.test_size
    if n > size:
        raise ValueError(
            f"`num_samples` must be <= {size}, the {name} {split} split. "
            f"Received: num_samples={n}"
        )
    data = load_dataset(name)
    if split == "test":
        return data.x_test[:n].copy(), data.y_test[:n].copy()
    rows = np.random.default_rng(seed).choice(size, size=n, replace=False)
    return data.x_train[rows], data.y_train[rows]


def majority_accuracy(name):
    """Test accuracy of always predicting the training split's most frequent
    class: the trivial predictor of a dataset task."""
    data = load_dataset(name)
    majority = np.bincount(data.y_train).argmax()
    return float(np.mean(data.y_test == majority))
