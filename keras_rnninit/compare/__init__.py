"""Compare initialization schemes on one task: runner and report writer."""

from keras_rnninit.compare.runner import CompareConfig, compare
from keras_rnninit.compare.training import train_fused, train_one

__all__ = ["CompareConfig", "compare", "train_fused", "train_one"]
