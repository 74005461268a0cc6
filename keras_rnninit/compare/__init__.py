"""Compare initialization schemes on one task: runner and report writer."""

from keras_rnninit.compare.runner import CompareConfig, compare, train_one

__all__ = ["CompareConfig", "compare", "train_one"]
