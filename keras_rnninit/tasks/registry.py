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

__all__ = ["Task", "get", "names"]

TEST_SEED_OFFSET = 1_000_003  # test data never shares a seed with training data


@dataclasses.dataclass(frozen=True)
class Task:
    """A deterministic task for comparing initializations.

    `make(n, length, seed, split)` returns (x, y); the model is
    `Input(input_dim) -> SimpleRNN -> Dense(output_units)` (per step when
    `return_sequences`), trained on `loss`; `baseline(length)` is the loss of
    a trivial predictor and `threshold(length)` the default "solved" level.
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

    def loss(self):
        if self.classification:
            return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return keras.losses.MeanSquaredError()

    def train_data(self, num_samples, length, seed):
        return self.make(num_samples, length, seed, "train")

    def test_data(self, num_samples, length, seed):
        return self.make(num_samples, length, seed + TEST_SEED_OFFSET, "test")


def _by_seed(generator):
    return lambda n, length, seed, split: generator(n, length, seed)


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
