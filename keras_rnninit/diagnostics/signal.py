"""Signal propagation at initialization: no training, just the init's effect."""

import numpy as np

from keras_rnninit import schemes
from keras_rnninit.diagnostics.profiles import (
    _log10_ratio,
    spectrum,
    state_profile,
)
from keras_rnninit.diagnostics.recurrent import (
    backprop_through_time,
    direct_gradient,
    forward,
    recurrent_parts,
)

__all__ = ["signal_propagation"]


def signal_propagation(
    scheme, units=256, length=100, input_dim=8, batch=32, draws=3, seed=0
):
    """How a scheme's fresh weights carry signal forward and gradients back.

    For each of `draws` seeded models `scheme.build_model(input_dim, units)`,
    feeds N(0, 1) sequences (batch, length, input_dim) with N(0, 1) targets
    under MSE, and averages over the draws: per-step state variance, mean and
    saturated fraction, and log10 ||dL/dh_t|| (geometric mean of the norms,
    exact far below 1e-308; -inf only where every entry of a draw's gradient
    is exactly 0), the vanishing ratio, the
    spectral radius and the largest singular value of Whh.

    Example:

    >>> from keras_rnninit.diagnostics import signal_propagation
    >>> report = signal_propagation("xavier_rnn", units=16, length=20, draws=1)
    >>> report["variance"].shape, bool(report["log10_ratio"] < 0)
    ((20,), True)

    Measured (units 64-512, length 100, 3 draws): uniform01 100% saturated and
    ratio exactly 0 (log10 -inf); xavier_rnn var(h_t) ~ 0.45 flat, log10 ratio
    ~ -19; identity Whh with tanh ~ 0 (ratio 1); irnn (identity, ReLU) ~ -0.5,
    since ReLU units that go negative pass no gradient.
    """
    scheme = schemes.get(scheme)
    rng = np.random.default_rng(seed)
    runs = []
    for draw in range(draws):
        model = scheme.build_model(input_dim=input_dim, units=units, seed=seed + draw)
        x = rng.normal(size=(batch, length, input_dim)).astype("float32")
        y = rng.normal(size=(batch, 1)).astype("float32")
        parts = recurrent_parts(model)
        trace = forward(parts, x)
        direct = direct_gradient(parts, trace, y, _mse)
        log_norms = backprop_through_time(parts, trace, direct).log10_norms()
        runs.append(
            {
                **state_profile(trace.states),
                "log10_grad_norms": log_norms,
                "log10_ratio": _log10_ratio(log_norms),
                **spectrum(parts.recurrent_kernel),
            }
        )
    report = {key: np.mean([run[key] for run in runs], axis=0) for key in runs[0]}
    report["log10_ratio"] = float(report["log10_ratio"])
    report["spectral_radius"] = float(report["spectral_radius"])
    report["max_singular_value"] = float(report["max_singular_value"])
    report.update(
        scheme=scheme.name,
        units=units,
        length=length,
        input_dim=input_dim,
        batch=batch,
        draws=draws,
        seed=seed,
    )
    return report


def _mse(y_true, y_pred):
    import keras

    return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)
