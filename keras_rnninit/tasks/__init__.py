"""Deterministic, offline tasks for training and comparing RNNs."""

from keras_rnninit.tasks.adding import ADDING_BASELINE_MSE, adding_problem
from keras_rnninit.tasks.chars import (
    CharVocabulary,
    char_windows,
    load_text,
    sample_text,
    unigram_entropy,
)
from keras_rnninit.tasks.copy import copy_baseline, copy_task
from keras_rnninit.tasks.datasets import (
    DATASETS,
    DatasetInfo,
    dataset_batch,
    load_dataset,
)
from keras_rnninit.tasks.registry import Task, get, names

__all__ = [
    "ADDING_BASELINE_MSE",
    "DATASETS",
    "CharVocabulary",
    "DatasetInfo",
    "Task",
    "adding_problem",
    "char_windows",
    "copy_baseline",
    "copy_task",
    "dataset_batch",
    "get",
    "load_dataset",
    "load_text",
    "names",
    "sample_text",
    "unigram_entropy",
]
