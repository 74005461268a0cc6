"""Deterministic, offline tasks for training and comparing RNNs."""

from keras_rnninit.tasks.adding import ADDING_BASELINE_MSE, adding_problem

__all__ = ["ADDING_BASELINE_MSE", "adding_problem"]
