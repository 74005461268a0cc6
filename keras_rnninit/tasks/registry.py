"""Named tasks: data, model head, loss and what counts as solved."""

import dataclasses
from collections.abc import Callable

import keras

from keras_rnninit.tasks.adding import ADDING_BASELINE_MSE, adding_problem
from keras_rnninit.tasks.chars import (
    CharVocabulary,
    char_windows,
    load_text,
    unigram_entropy,
)
from keras_rnninit.tasks.copy import COPY_CLASSES, copy_baseline, copy_task
from keras_rnninit.tasks.datasets import (
    DATASETS,
    DatasetInfo,
    dataset_batch,
    majority_accuracy,
)

__all__ = ["MODES", "Task", "get", "names"]

TEST_SEED_OFFSET = 1_000_003  # test data never shares a seed with training data
# What a task is judged on, and which way is better: the tracker's mode.
MODES = {"accuracy": "max", "loss": "min"}


@dataclasses.dataclass(frozen=True)
class Task:
    """A deterministic task for comparing initializations.

    `make(n, length, seed, split)` returns (x, y); the model is
    `Input(input_dim) -> SimpleRNN -> Dense(output_units)` (per step when
    `return_sequences`; with `Masking(0.0)` before the RNN when `masked`:
    all-zero steps are padding), trained on `loss`. It is judged on
    `monitor` ("loss", or "accuracy" compiled as a metric), measured on the
    test data: `metric` names it, `mode` says which way is better ("min" for
    a loss, "max" for accuracy), `baseline(length)` is its value for a
    trivial predictor and `threshold(length)` the default "solved" level
    (solved: strictly below it for "min", strictly above for "max").
    A dataset task (`dataset` set) has one length, `dataset.length`.
    """

    name: str
    description: str
    make: Callable
    input_dim: int
    output_units: int
    return_sequences: bool
    classification: bool
    baseline: Callable
    threshold: Callable
    metric: str
    min_length: int = 1
    monitor: str = "loss"
    dataset: DatasetInfo | None = None

    def __post_init__(self):
        if self.monitor not in MODES:
            raise ValueError(
                f"`monitor` must be one of {', '.join(sorted(MODES))}. "
                f"Received: monitor={self.monitor!r}"
            )

    @property
    def mode(self):
        return MODES[self.monitor]

    @property
    def masked(self):
        return self.dataset is not None and self.dataset.variable_length

    def loss(self):
        if self.classification:
            return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return keras.losses.MeanSquaredError()

    def metrics(self):
        """The metrics to compile besides the loss: the `monitor`ed one."""
        if self.monitor == "accuracy":
            return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        return []

    def train_data(self, num_samples, length, seed):
        return self.make(num_samples, length, seed, "train")

    def test_data(self, num_samples, length, seed):
        return self.make(num_samples, length, seed + TEST_SEED_OFFSET, "test")


def _by_seed(generator):
    return lambda n, length, seed, split: generator(n, length, seed)


def _dataset_task(name, description, threshold):
    info = DATASETS[name]
    return Task(
        name,
        description,
        lambda n, length, seed, split: dataset_batch(name, n, length, seed, split),
        input_dim=info.features,
        output_units=info.classes,
        return_sequences=False,
        classification=True,
        baseline=lambda length: majority_accuracy(name),
        threshold=lambda length: threshold,
        metric="test accuracy",
        min_length=info.length,
        monitor="accuracy",
        dataset=info,
    )


_VOCAB_SIZE = CharVocabulary(load_text()).size

_TASKS = {
    task.name: task
    for task in (
        Task(
            "adding",
            "sum of two marked values in a sequence of U[0,1] values",
            _by_seed(adding_problem),
            input_dim=2,
            output_units=1,
            return_sequences=False,
            classification=False,
            baseline=lambda length: ADDING_BASELINE_MSE,
            threshold=lambda length: 0.01,
            metric="test MSE",
            min_length=2,
        ),
        Task(
            "copy",
            "recall 10 symbols after a delay of T blanks",
            _by_seed(copy_task),
            input_dim=COPY_CLASSES,
            output_units=COPY_CLASSES,
            return_sequences=True,
            classification=True,
            baseline=copy_baseline,
            threshold=lambda length: 0.1 * copy_baseline(length),
            metric="test cross-entropy (nats/step)",
        ),
        Task(
            "chars",
            "next character of the bundled Python reference text",
            lambda n, length, seed, split: char_windows(n, length, seed, split),
            input_dim=_VOCAB_SIZE,
            output_units=_VOCAB_SIZE,
            return_sequences=True,
            classification=True,
            baseline=lambda length: unigram_entropy(load_text()),
            threshold=lambda length: 2.0,
            metric="test cross-entropy (nats/char)",
        ),
        # Dataset thresholds (solved: test accuracy above it), set from one
        # run of compare's defaults (SimpleRNN(64), seed 0; best test accuracy
        # of keras_default / xavier_rnn) and the 1-NN Euclidean accuracy on
        # the same split: digits 0.96 / 0.80 in 4000 steps (1-NN 0.98);
        # digits_permuted 0.92 / 0.82; japanese_vowels 0.94 / 0.96 (1-NN
        # 0.96); osuleaf 0.51 / 0.49 in 2000 steps (1-NN 0.66); acsf1 0.45 /
        # 0.63 in 500 steps (1-NN 0.52).
        _dataset_task(
            "digits",
            "scikit-learn's 8x8 digits read pixel by pixel (T=64, 10 classes)",
            threshold=0.9,
        ),
        _dataset_task(
            "digits_permuted",
            "the digits with one fixed seeded permutation of the 64 pixels",
            threshold=0.9,
        ),
        _dataset_task(
            "japanese_vowels",
            "UEA JapaneseVowels: the speaker of 12 LPC series, T=7-29, 9 classes",
            threshold=0.95,
        ),
        _dataset_task(
            "osuleaf",
            "UCR OSULeaf: the species of a leaf outline (T=427, 6 classes)",
            threshold=0.5,
        ),
        _dataset_task(
            "acsf1",
            "UCR ACSF1: the appliance of a power trace (T=1460, 10 classes)",
            threshold=0.6,
        ),
    )
}


def names():
    """Sorted task names."""
    return sorted(_TASKS)


def get(name):
    """The `Task` called `name`."""
    if isinstance(name, Task):
        return name
    if name not in _TASKS:
        raise ValueError(
            f"`task` must be one of {', '.join(names())}. Received: task={name!r}"
        )
    return _TASKS[name]
