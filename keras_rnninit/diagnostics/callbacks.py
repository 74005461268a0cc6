"""Keras callbacks that watch an RNN train: diagnostics, convergence, NaN guard.

Keras callbacks never see gradients, so `RNNDiagnostics` computes its own on a
fixed probe batch, outside the training step, and writes scalars into `logs`
(so `History`, `CSVLogger` and `TensorBoard` record them; list it before
those callbacks). Their batch hooks only count batches and are marked
`async_safe` (an overridden `on_train_batch_end` would otherwise disable
Keras' asynchronous dispatch); `RNNDiagnostics(every_n_batches=...)` gives
that up.
"""

import math
import os
import sys
import threading
import warnings

import keras
import numpy as np

from keras_rnninit.diagnostics import diagnose, first_nonfinite, recurrent_layers
from keras_rnninit.diagnostics.recurrent import find_recurrent_layer
from keras_rnninit.diagnostics.summaries import SummaryLog
from keras_rnninit.utils.validation import check_positive_int

__all__ = ["ConvergenceTracker", "NaNGuard", "RNNDiagnostics"]


def _arrays(value):
    """numpy arrays with the structure of `value` (a model input may be a list
    or dict of arrays of different shapes, e.g. [x, h0, c0])."""
    return None if value is None else keras.tree.map_structure(np.asarray, value)


def _probe(data):
    """(x, y, sample_weight or None) from an (x, y) or (x, y, sample_weight)
    tuple or the first batch of an iterable dataset; x keeps its structure."""
    received = f"probe of type {type(data).__name__}"
    if not (isinstance(data, tuple) and len(data) in (2, 3)):
        try:
            batch = next(iter(data))
        except (TypeError, ValueError, StopIteration):
            batch = None
        else:
            received += f" yielding a {type(batch).__name__}"
        data = tuple(batch) if isinstance(batch, (tuple, list)) else None
    if not (isinstance(data, tuple) and len(data) in (2, 3)):
        raise ValueError(
            "`probe` must be an (x, y) or (x, y, sample_weight) tuple or a "
            f"dataset yielding such batches. Received: {received}"
        )
    x, y, sample_weight = (*data, None)[:3]
    return _arrays(x), _arrays(y), _arrays(sample_weight)


class _StepCounter(keras.callbacks.Callback):
    """Counts real training batches across epochs and several `fit` calls.

    The batch hook only stores the batch index Keras passes (the real count,
    also for a dataset of unknown length, where `params["steps"]` is None and
    the optimizer's `iterations` runs one ahead at each epoch end on
    TensorFlow). It touches neither the model nor the logs, so it is marked
    `async_safe` and keeps Keras' asynchronous batch dispatch. When only the
    epoch hooks are forwarded (a wrapper callback), an epoch counts
    `params["steps"]`, and an unknown length is refused.
    """

    async_safe = True

    def __init__(self):
        super().__init__()
        self.step = 0
        self._epoch_start = 0
        self._batches = None
        self._lock = threading.Lock()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start, self._batches = self.step, None

    def on_train_batch_end(self, batch, logs=None):
        # Asynchronous dispatch (JAX) runs these hooks on worker threads, in
        # any order (Keras waits for all of them before on_epoch_end): keep
        # the largest index, under a lock.
        with self._lock:
            self._batches = max(self._batches or 0, batch + 1)

    def _end_of_epoch_step(self):
        batches = self._batches
        if batches is None:
            batches = (self.params or {}).get("steps")
        if batches is None:
            raise ValueError(
                f"{type(self).__name__} saw no batch this epoch and "
                "`steps_per_epoch` is unknown, so it cannot count steps. "
                "Received: params['steps']=None"
            )
        self.step = self._epoch_start + batches
        return self.step


# Per-step arrays of an LSTM/GRU report that records keep as well.
_GATED_RECORD = (
    "cell",
    "cell_grad_norms",
    "cell_variance",
    "forget_closed",
    "forget_open",
    "gate_saturated",
    "gate_spectral_radius",
)


class RNNDiagnostics(_StepCounter):
    """Diagnose the recurrent layer on a fixed probe batch while `fit` runs.

    Every `every` epochs (and every `every_n_batches` batches, if set) it runs
    `keras_rnninit.diagnostics.diagnose` on `probe` and

    - writes scalars into `logs`: `{prefix}log10_grad_ratio`
      (log10 ||dL/dh_1|| / ||dL/dh_T||; with a mask, dL/dh at each
      sequence's first over its last real step: `diagnose`'s `log10_ratio`),
      `{prefix}spectral_radius`, `{prefix}max_singular_value`,
      `{prefix}state_var_last`, `{prefix}saturated_last` (at each sequence's
      last real step, step T without a mask), `{prefix}grad_norm_wxh`,
      `_whh`, `_why`;
    - appends a full record to `self.records` (per-step `grad_norms`,
      `log10_grad_norms`, `variance`, `saturated`, and `layer` (the
      diagnosed layer's name), `epoch`, `step`, `fit`).

    For an LSTM or GRU layer (TensorFlow only) the same scalars mean the same
    things (spectral radius: the candidate block c / h of the recurrent
    kernel), `{prefix}forget_open_last` and `{prefix}forget_closed_last` (the
    fraction of forget gates, GRU: update gates z, above 0.99 / below 0.01 at
    each sequence's last real step) are added to `logs`, and the records
    also keep `cell`, `forget_open`, `forget_closed`, `gate_saturated`,
    `gate_spectral_radius` and, for LSTM, `cell_variance` and
    `cell_grad_norms`.

    The prefix says which layer was diagnosed when it could be ambiguous: it
    is `rnn_` when the model has one recurrent layer and `{layer name}_`
    when it has several (stacked, or next to a Bidirectional or LSTM) or the
    layer is a direction of a Bidirectional, unless `prefix` is given. `step`
    counts the optimizer's real steps, also for a dataset of unknown length.

    A record at initialization (step 0) is taken at the start of the first
    `fit`. Records accumulate across `fit` calls (steps keep counting);
    `reset()` clears them.

    Example:

        diag = RNNDiagnostics((x_test[:64], y_test[:64]))
        csv = keras.callbacks.CSVLogger("log.csv")
        model.fit(x, y, epochs=10, callbacks=[diag, csv])
        diag.records[-1]["grad_norms"]   # ||dL/dh_t||, t = 1..T

    Args:
        probe: `(x, y)` or `(x, y, sample_weight)` (x: an array, or a list or
            dict of arrays for several model inputs), or a dataset whose first
            batch is used. The gradients are those of the loss `fit`
            minimises on it (`keras_rnninit.diagnostics.diagnose`).
        every: Diagnose every this many epochs (default 1).
        every_n_batches: Also diagnose every this many batches (default off).
        layer: The recurrent layer (or its name); default the first one.
        loss: Loss for the gradients; default the model's compiled loss.
        prefix: Prefix of the keys written into `logs` (default: see above).
        log_dir: A folder for TensorBoard (`tensorboard --logdir DIR`): at
            each diagnosis the gradient-through-time profile and the state
            variance per step as images, the recurrent kernel's singular
            values as a histogram, and the scalars above
            (`keras_rnninit/diagnostics/summaries.py`; needs
            `keras_rnninit[tensorboard]`).
    """

    def __init__(
        self,
        probe,
        every: int | None = 1,
        every_n_batches: int | None = None,
        layer: "keras.layers.Layer | str | None" = None,
        loss=None,
        prefix: str | None = None,
        log_dir: "str | os.PathLike[str] | None" = None,
    ) -> None:
        super().__init__()
        self.log_dir = log_dir
        self._summaries = None if log_dir is None else SummaryLog(log_dir)
        self.x, self.y, self.sample_weight = _probe(probe)
        self.every = check_positive_int("every", every, optional=True)
        self.every_n_batches = check_positive_int(
            "every_n_batches", every_n_batches, optional=True
        )
        self.layer, self.loss, self.prefix = layer, loss, prefix
        self.records = []
        self._fits = 0
        if self.every_n_batches:  # only now: a diagnosis is not async-safe
            self.async_safe = False

    def reset(self):
        self.records, self._fits, self.step = [], 0, 0

    def record_now(self, step=None, epoch=None):
        """Diagnose the current weights now (e.g. after `fit`) and keep the
        record; returns the scalars."""
        return self._record(epoch=epoch, step=self.step if step is None else step)

    def on_train_begin(self, logs=None):
        self._fits += 1
        if not self.records:
            self._record(epoch=0, step=0)

    def on_epoch_end(self, epoch, logs=None):
        step = self._end_of_epoch_step()
        if (epoch + 1) % self.every == 0:
            scalars = self._record(epoch=epoch + 1, step=step)
            if logs is not None:
                logs.update(scalars)

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if self.every_n_batches and (batch + 1) % self.every_n_batches == 0:
            scalars = self._record(epoch=None, step=self._epoch_start + batch + 1)
            if logs is not None:
                logs.update(scalars)

    def _record(self, epoch, step):
        report = diagnose(
            self.model,
            self.x,
            self.y,
            loss=self.loss,
            layer=self.layer,
            sample_weight=self.sample_weight,
        )
        norms = report.weight_grad_norms
        p = self.prefix
        if p is None:
            layers = recurrent_layers(self.model)
            several = len(layers) > 1 or report.layer not in {x.name for x in layers}
            p = f"{report.layer}_" if several else "rnn_"
        scalars = {
            f"{p}log10_grad_ratio": report.log10_ratio,
            f"{p}spectral_radius": report.spectral_radius,
            f"{p}max_singular_value": report.max_singular_value,
            f"{p}state_var_last": report.variance_last,
            f"{p}saturated_last": report.saturated_last,
            f"{p}grad_norm_wxh": norms.get("Wxh", math.nan),
            f"{p}grad_norm_whh": norms.get("Whh", math.nan),
            f"{p}grad_norm_why": norms.get("Why", math.nan),
        }
        if report.forget_open_last is not None:  # LSTM / GRU: the keep gate
            scalars[f"{p}forget_open_last"] = report.forget_open_last
            scalars[f"{p}forget_closed_last"] = report.forget_closed_last
        fields = report.to_dict()
        gated = {key: fields[key] for key in _GATED_RECORD if key in fields}
        if self._summaries is not None:
            layer = find_recurrent_layer(self.model, report.layer, gated=True)
            kernel = keras.ops.convert_to_numpy(layer.cell.recurrent_kernel)
            self._summaries.write(step, p, report, scalars, kernel)
        self.records.append(
            {
                "layer": report.layer,
                "epoch": epoch,
                "step": step,
                "fit": self._fits,
                **scalars,
                "grad_norms": report.grad_norms,
                "log10_grad_norms": report.log10_grad_norms,
                "variance": report.variance,
                "saturated": report.saturated,
                "nonfinite": report.nonfinite,
                **gated,
            }
        )
        return scalars


class ConvergenceTracker(_StepCounter):
    """Records the first epoch and step at which `monitor` crosses `threshold`.

    Checked at the end of every epoch (so with 100-step epochs and validation
    data, "steps to test MSE < 0.01" is measured every 100 steps). Keeps
    counting across `fit` calls; `reset()` starts over.

    Attributes:
        crossed_step, crossed_epoch: first crossing, or None.
        best: best value seen. values: list of (step, value).

    Args:
        threshold: The target value, or None to record the values and the
            best one only.
        monitor: Key in `logs` (default `"val_loss"`).
        mode: `"min"` (cross from above) or `"max"`.
        stop_training: Stop `fit` once crossed (default False, so every run
            gets the same budget).
    """

    def __init__(self, threshold, monitor="val_loss", mode="min", stop_training=False):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"`mode` must be one of max, min. Received: mode={mode!r}")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, (int, float))
        ):
            raise TypeError(
                "`threshold` must be a number or None. "
                f"Received: threshold={threshold!r}"
            )
        threshold = None if threshold is None else float(threshold)
        self.threshold, self.monitor, self.mode = threshold, monitor, mode
        self.stop = stop_training
        self.reset()

    def reset(self):
        self.crossed_step = self.crossed_epoch = self.best = None
        self.values, self.step, self._epochs, self._warned = [], 0, 0, False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        step = self._end_of_epoch_step()
        self._epochs += 1
        if self.monitor not in logs:
            if not self._warned:
                warnings.warn(
                    f"ConvergenceTracker: `{self.monitor}` is not in the logs; "
                    f"available keys: {', '.join(sorted(logs))}",
                    stacklevel=2,
                )
                self._warned = True
            return
        value = float(logs[self.monitor])
        self.values.append((step, value))
        better = (lambda a, b: a < b) if self.mode == "min" else (lambda a, b: a > b)
        if self.best is None or better(value, self.best):
            self.best = value
        crossed = self.threshold is not None and better(value, self.threshold)
        if self.crossed_step is None and crossed:
            self.crossed_step, self.crossed_epoch = step, self._epochs
            if self.stop:
                self.model.stop_training = True


class NaNGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite loss, with a diagnosis.

    Like `keras.callbacks.TerminateOnNaN`, but it also says where NaN/Inf
    first appears (`first_nonfinite`: which weight, or which time step of the
    probe's hidden states) and keeps it in `self.diagnosis`:
    `{"step", "epoch", "loss", "where", "name", "time_step"}`.

    Args:
        probe: Optional `(x, y)` (or x alone) to locate the first bad state.
        verbose: Print the diagnosis as one line on stderr.
    """

    def __init__(self, probe=None, verbose=True):
        super().__init__()
        self.x = None
        if probe is not None:
            self.x = _probe(probe)[0] if isinstance(probe, tuple) else _arrays(probe)
        self.verbose = verbose
        self.diagnosis = None
        self._step = 0
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.diagnosis = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        found = first_nonfinite(self.model, self.x) or {}
        self.diagnosis = {
            "step": self._step,
            "epoch": self._epoch,
            "loss": float(loss),
            "where": found.get("where", "loss"),
            "name": found.get("name"),
            "time_step": found.get("step"),
        }
        if self.verbose:
            place = f"{found['where']} {found['name']}" if found else "the loss only"
            if found.get("step"):
                place += f" at time step {found['step']}"
            print(
                f"NaNGuard: loss became {float(loss)} at step {self._step}; first "
                f"non-finite: {place}. Training stopped.",
                file=sys.stderr,
            )
        self.model.stop_training = True
