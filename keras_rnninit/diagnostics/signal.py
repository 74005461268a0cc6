"""Signal propagation at initialization: no training, just the init's effect."""

import keras
import numpy as np

from keras_rnninit import schemes
from keras_rnninit.diagnostics.profiles import diagnose
from keras_rnninit.diagnostics.reports import SignalReport

__all__ = ["check_cell", "signal_propagation"]

# The fields of one draw's `diagnose` report that the draws average.
_AVERAGED = (
    "variance",
    "mean",
    "saturated",
    "log10_grad_norms",
    "log10_ratio",
    "spectral_radius",
    "max_singular_value",
)


def check_cell(scheme, cell, length=None):
    """The `Scheme` called `scheme`, if it defines `cell` and this backend can
    diagnose it; else one ValueError line (TypeError for a `cell` that is not
    a str). LSTM and GRU need the tensorflow backend: their diagnostics step
    the cell under tf.GradientTape (`keras_rnninit/diagnostics/gated.py`).
    A length-aware scheme (`chrono_length`) is set for `length`, the
    diagnosed sequences' T."""
    scheme = schemes.get(scheme)
    scheme.check_cell(cell)
    if length is not None:
        scheme = scheme.for_length(length)
    backend = keras.backend.backend()
    if cell != "simple" and backend != "tensorflow":
        raise ValueError(
            f"`cell` must be 'simple' on the {backend} backend (the LSTM and GRU "
            "diagnostics need tensorflow; set KERAS_BACKEND=tensorflow). "
            f"Received: cell={cell!r}"
        )
    return scheme


def signal_propagation(
    scheme,
    units=256,
    length=100,
    input_dim=8,
    batch=32,
    draws=3,
    seed=0,
    cell="simple",
):
    """How a scheme's fresh weights carry signal forward and gradients back.

    For draw k = 0 .. `draws` - 1: the model `scheme.build_model(input_dim,
    units, seed=seed + k, cell=cell)`, inputs x ~ N(0, 1) of shape (batch,
    length, input_dim) then targets y ~ N(0, 1) of shape (batch, 1), both from
    `numpy.random.default_rng(seed)` (one stream for all draws), and
    `diagnostics.diagnose(model, x, y, loss="mse")`. Returns a `SignalReport`:
    the mean over the draws of its per-step state variance, mean and saturated
    fraction (|h_t| > 0.99), log10 ||dL/dh_t|| (so the geometric mean of the
    norms: exact far below 1e-308, -inf only where every entry of a draw's
    gradient is exactly 0), the vanishing ratio `log10_ratio`, and the
    spectral radius and largest singular value of Whh, plus the arguments.

    `cell` is "simple" (SimpleRNN), "lstm" or "gru", one of the scheme's
    `cells`; a length-aware scheme is set for `length`. LSTM and GRU need
    the tensorflow backend (`check_cell`), and
    their `spectral_radius` / `max_singular_value` are those of the candidate
    block of Whh (c for LSTM, h for GRU), as in `diagnose`.

    Example:

        >>> from keras_rnninit.diagnostics import signal_propagation
        >>> report = signal_propagation("xavier_rnn", units=16, length=20, draws=1)
        >>> report.variance.shape, bool(report.log10_ratio < 0)
        ((20,), True)

    Measured (units 64-512, length 100, 3 draws): uniform01 100% saturated and
    ratio exactly 0 (log10 -inf); xavier_rnn var(h_t) ~ 0.45 flat, log10 ratio
    ~ -19; identity Whh with tanh ~ 0 (ratio 1); irnn (identity, ReLU) ~ -0.5,
    since ReLU units that go negative pass no gradient.
    """
    scheme = check_cell(scheme, cell, length)
    rng = np.random.default_rng(seed)
    runs = []
    for draw in range(draws):
        model = scheme.build_model(
            input_dim=input_dim, units=units, seed=seed + draw, cell=cell
        )
        x = rng.normal(size=(batch, length, input_dim)).astype("float32")
        y = rng.normal(size=(batch, 1)).astype("float32")
        found = diagnose(model, x, y, loss="mse")
        runs.append({key: getattr(found, key) for key in _AVERAGED})
    report = {key: np.mean([run[key] for run in runs], axis=0) for key in _AVERAGED}
    for key in ("log10_ratio", "spectral_radius", "max_singular_value"):
        report[key] = float(report[key])
    return SignalReport(
        **report,
        scheme=scheme.name,
        cell=cell,
        units=units,
        length=length,
        input_dim=input_dim,
        batch=batch,
        draws=draws,
        seed=seed,
    )
