"""Diagnostics of SimpleRNN, LSTM and GRU layers: arrays in, numpy out.

Per-step hidden-state statistics, the gradient norm through time
||dL/dh_t|| (float64, no underflow), the spectrum of Whh, per-weight gradient
norms, non-finite detection, and the signal-propagation report at
initialization. The replay follows go_backwards, masks, initial_state and a
stateful layer's state; L is the loss `fit` minimises (masks, sample weights,
the compiled loss and its reduction), taken through the real layers around
the RNN (fit_loss.py). LSTM and GRU layers (TensorFlow only) are stepped by
their own cell in float64 under tf.GradientTape, with gate statistics
(gated.py). The results are dataclasses (reports.py). The Keras callbacks
that run these during `fit` live here too (callbacks.py: RNNDiagnostics,
ConvergenceTracker, NaNGuard; summaries.py writes their TensorBoard files).
"""

from keras_rnninit.diagnostics.fit_loss import kept_states, resolve_loss
from keras_rnninit.diagnostics.gated import (
    GATES,
    KEEP_GATE,
    gated_backprop,
    gated_forward,
    gated_parts,
)
from keras_rnninit.diagnostics.profiles import (
    SATURATION,
    diagnose,
    first_nonfinite,
    gradient_norms_through_time,
    norm,
    spectrum,
    state_profile,
    vanishing_ratio_log10,
    weight_gradient_norms,
)
from keras_rnninit.diagnostics.recurrent import (
    find_recurrent_layer,
    forward,
    recurrent_layers,
    recurrent_parts,
    unroll,
)
from keras_rnninit.diagnostics.reports import DiagnoseReport, SignalReport
from keras_rnninit.diagnostics.signal import signal_propagation

__all__ = [
    "DiagnoseReport",
    "GATES",
    "KEEP_GATE",
    "SATURATION",
    "SignalReport",
    "diagnose",
    "find_recurrent_layer",
    "first_nonfinite",
    "forward",
    "gated_backprop",
    "gated_forward",
    "gated_parts",
    "gradient_norms_through_time",
    "kept_states",
    "norm",
    "recurrent_layers",
    "recurrent_parts",
    "resolve_loss",
    "signal_propagation",
    "spectrum",
    "state_profile",
    "unroll",
    "vanishing_ratio_log10",
    "weight_gradient_norms",
]
