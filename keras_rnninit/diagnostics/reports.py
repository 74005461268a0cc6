"""The results of `diagnose` and `signal_propagation` as named data.

Both were plain dicts in 0.1; they are dataclasses now, with `to_dict()` for
JSON and the same names as attributes (`report.log10_ratio`). Reading them
by key (`report["log10_ratio"]`, `"forget_gate" in report`, `.get`,
`.keys()`) still works for one minor version and warns
(`DeprecationWarning`, CHANGELOG.md's policy).

Fields that only a gated (LSTM/GRU) layer has are None for a SimpleRNN and
left out of `to_dict()`, as they were absent from the 0.1 dict.
"""

import dataclasses
from typing import Any

import numpy as np

from keras_rnninit.utils.records import KeyedFields

__all__ = ["DiagnoseReport", "SignalReport"]


_GATED = frozenset(
    {
        "forget_gate",
        "forget_open",
        "forget_closed",
        "forget_open_last",
        "forget_closed_last",
        "gate_spectral_radius",
        "gate_max_singular_value",
        "gate_saturated",
        "gate_grad_norms",
        "cell_variance",
        "cell_mean",
        "cell_saturated",
        "cell_grad_norms",
        "log10_cell_grad_norms",
    }
)


@dataclasses.dataclass(eq=False)
class DiagnoseReport(KeyedFields):
    """Everything `diagnose` found about one recurrent layer on a probe batch.

    Per-step arrays have one entry per time step t = 1..T in processing order.

    Attributes:
        layer: The diagnosed layer's name.
        cell: "simple", "lstm" or "gru".
        grad_norms: ||dL/ds_t|| over the batch (0.0 below float64's range).
        log10_grad_norms: log10 of the same, exact (no underflow).
        log10_ratio: log10(||G_first|| / ||G_last||), the gradients at each
            sequence's first and last real step.
        variance, mean, saturated: of the states at each step (saturated:
            the fraction with |h| above the saturation level).
        variance_last, saturated_last: the same at each sequence's last real
            step.
        spectral_radius, max_singular_value: of Whh (gated: its candidate
            block).
        weight_grad_norms: {short name or path: ||dL/dW||}.
        nonfinite: None, or where NaN/Inf first appears.
        forget_gate, forget_open, forget_closed: LSTM/GRU only (None
            otherwise), as are forget_open_last, forget_closed_last,
            gate_spectral_radius, gate_max_singular_value, gate_saturated
            and gate_grad_norms.
        cell_variance, cell_mean, cell_saturated: LSTM only (None
            otherwise), as are cell_grad_norms and log10_cell_grad_norms.
    """

    _OPTIONAL = _GATED

    layer: str
    cell: str
    grad_norms: np.ndarray
    log10_grad_norms: np.ndarray
    log10_ratio: float
    variance: np.ndarray
    mean: np.ndarray
    saturated: np.ndarray
    variance_last: float
    saturated_last: float
    spectral_radius: float
    max_singular_value: float
    weight_grad_norms: dict
    nonfinite: Any = None
    forget_gate: Any = None
    forget_open: Any = None
    forget_closed: Any = None
    forget_open_last: Any = None
    forget_closed_last: Any = None
    gate_spectral_radius: Any = None
    gate_max_singular_value: Any = None
    gate_saturated: Any = None
    gate_grad_norms: Any = None
    cell_variance: Any = None
    cell_mean: Any = None
    cell_saturated: Any = None
    cell_grad_norms: Any = None
    log10_cell_grad_norms: Any = None


@dataclasses.dataclass(eq=False)
class SignalReport(KeyedFields):
    """A scheme's signal propagation at initialization (`signal_propagation`):
    the mean over `draws` fresh models of `diagnose`'s per-step state
    `variance`, `mean`, `saturated` and `log10_grad_norms`, its
    `log10_ratio`, `spectral_radius` and `max_singular_value`, and the
    arguments that made them."""

    variance: np.ndarray
    mean: np.ndarray
    saturated: np.ndarray
    log10_grad_norms: np.ndarray
    log10_ratio: float
    spectral_radius: float
    max_singular_value: float
    scheme: str
    cell: str
    units: int
    length: int
    input_dim: int
    batch: int
    draws: int
    seed: int
