"""A comparison's runs as TensorBoard runs: `compare(..., tensorboard_dir=DIR)`.

Each finished record (scheme, seed) becomes the run `DIR/<scheme>/seed<k>`,
written in the driver process from the record alone (so every path that
makes records writes it: the built-in tasks fused or not, your own model,
the local and the Ray executor), holding:

- `curve/train` and `curve/test` (the monitored value) at each evaluation
  step of `record.curve`;
- `diagnostics/<layer>/<key>`: every finite number of each diagnosis at its
  `step` (not the bookkeeping keys `step`, `epoch`, `fit`; a gated cell's
  per-gate numbers as `<key>/<gate>`); for your own model every recurrent
  layer of `record.layer_diagnostics`. A fused branch's layer
  `<scheme>_rnn` is written as `rnn`, the name an unfused run gives it, so
  that every run has the same tags;
- the HParams plugin's session: hparams `scheme`, `seed` and `cell` (when the
  record's config has one; your own model's has none), and the metrics
  `metrics/steps_to_threshold`, `metrics/best_test` and `metrics/final_test`
  at the run's last step. A metric that is None or not finite (the target
  never reached, no finite value) is not written: the table leaves it empty.

Non-finite values are left out everywhere. `DIR` itself holds the
experiment (`hp.hparams_config`: the schemes, seeds and cell compared, and
the three metrics), written once per comparison. Rewriting is idempotent:
a run folder that exists is removed and written again, and the
experiment's previous file (named `*.keras_rnninit`) is replaced, so a
resumed comparison (its `completed` runs are written too) leaves every run
once. `tensorboard --logdir DIR` shows them under Scalars and HParams.

Needs the `tensorboard` package (`pip install 'keras_rnninit[tensorboard]'`);
it is imported when writing, not with this module.
"""

import glob
import math
import numbers
import os
import shutil
import time

from keras_rnninit.compare.records import as_record

__all__ = ["RunWriter", "check_tensorboard_dir"]

# The experiment file's suffix: the only top-level files a rewrite removes.
SUFFIX = ".keras_rnninit"
METRICS = (
    ("steps_to_threshold", "steps to target", "first step past the target"),
    ("best_test", "best monitored value", "best monitored value of the run"),
    ("final_test", "final monitored value", "monitored value after the last step"),
)
# Diagnosis keys that say when and where, not what was measured.
_BOOKKEEPING = {"layer", "step", "epoch", "fit"}


def check_tensorboard_dir(path, name="tensorboard_dir"):
    """`path` as a str, checked before anything trains: a str or
    os.PathLike, not empty, not an existing file, and the tensorboard
    package installed."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`{name}` must be a str or os.PathLike. "
            f"Received: {name}={path!r} of type {type(path).__name__}"
        )
    path = os.fspath(path)
    if isinstance(path, bytes):
        raise TypeError(
            f"`{name}` must be a str or os.PathLike of a str. Received: {name}={path!r}"
        )
    if not path:
        raise ValueError(f"`{name}` must be a folder path. Received: {name}=''")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(
            f"`{name}` must be a folder, not a file. Received: {name}={path!r}"
        )
    from keras_rnninit.diagnostics.summaries import _require_tensorboard

    try:
        _require_tensorboard()
    except ImportError as error:
        raise ImportError(
            f"`{name}` needs the tensorboard package: "
            "pip install 'keras_rnninit[tensorboard]'"
        ) from error.__cause__
    return path


class RunWriter:
    """Writes a comparison's experiment into `log_dir` at once, then one
    TensorBoard run per record with `write(record)`.

    Args:
        log_dir: The comparison's TensorBoard folder (made if missing).
        schemes: The scheme names compared (the `scheme` hparam's values).
        seeds: The seeds compared.
        cell: The cell of every run, or None (your own model): no `cell`
            hparam.
    """

    def __init__(self, log_dir, schemes, seeds, cell=None):
        self.log_dir = check_tensorboard_dir(log_dir)
        for scheme in schemes:
            if scheme in ("", ".", "..") or any(
                sep and sep in scheme for sep in (os.sep, os.altsep)
            ):
                raise ValueError(
                    "`schemes` must have names that are folder names for "
                    f"`tensorboard_dir`. Received: {scheme!r}"
                )
        from tensorboard.plugins.hparams import api as hp

        hparams = [
            hp.HParam("scheme", hp.Discrete(list(schemes))),
            hp.HParam("seed", hp.Discrete(list(seeds))),
        ]
        if cell is not None:
            hparams.append(hp.HParam("cell", hp.Discrete([cell])))
        metrics = [
            hp.Metric(f"metrics/{key}", display_name=shown, description=text)
            for key, shown, text in METRICS
        ]
        os.makedirs(self.log_dir, exist_ok=True)
        for old in glob.glob(
            os.path.join(glob.escape(self.log_dir), f"events.out.tfevents.*{SUFFIX}")
        ):
            os.remove(old)
        _write_events(
            self.log_dir,
            [(0, hp.hparams_config_pb(hparams=hparams, metrics=metrics))],
            suffix=SUFFIX,
        )

    def run_dir(self, scheme, seed):
        return os.path.join(self.log_dir, scheme, f"seed{seed}")

    def write(self, record):
        """Writes `record`'s run, replacing any earlier one; returns its folder."""
        from tensorboard.plugins.hparams import api as hp
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        record = as_record(record)
        scheme, seed = record.scheme, record.seed
        config = record.config or {}
        hparams = {"scheme": scheme, "seed": seed}
        if config.get("cell") is not None:
            hparams["cell"] = config["cell"]
        scalars = list(_scalars(record))
        last = max([record.steps_run or 0] + [s for s, _, _ in scalars])
        for key, _, _ in METRICS:
            if _finite(getattr(record, key)):
                scalars.append((last, f"metrics/{key}", getattr(record, key)))
        scalars.sort(key=lambda item: item[0])  # stable: steps in order
        events = [(0, hp.hparams_pb(hparams, trial_id=f"{scheme}/seed{seed}"))] + [
            (step, scalar_pb(tag, float(value))) for step, tag, value in scalars
        ]
        path = self.run_dir(scheme, seed)
        if os.path.isdir(path):
            shutil.rmtree(path)
        _write_events(path, events)
        return path


def _finite(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _scalars(record):
    """(step, tag, value) of a record's curves and diagnoses, finite only."""
    curve = record.curve or {}
    for name in ("train", "test"):
        for step, value in zip(
            curve.get("step", []), curve.get(name, []), strict=False
        ):
            if _finite(value):
                yield int(step), f"curve/{name}", value
    layers = record.layer_diagnostics
    if layers is None:
        layers = {None: record.diagnostics or []}
    for name, entries in layers.items():
        for entry in entries:
            layer = _layer(record, entry.get("layer", name))
            step, tag = int(entry["step"]), f"diagnostics/{layer}"
            for key, value in entry.items():
                if key in _BOOKKEEPING:
                    continue
                if _finite(value):
                    yield step, f"{tag}/{key}", value
                elif isinstance(value, dict):  # per gate, e.g. {"z": 1.05}
                    for part, number in value.items():
                        if _finite(number):
                            yield step, f"{tag}/{key}/{part}", number


def _layer(record, layer):
    """A built-in task's fused branch `<scheme>_rnn` as `rnn`."""
    prefix = f"{record.scheme}_"
    if record.layer_diagnostics is None and str(layer).startswith(prefix):
        return layer[len(prefix) :]
    return layer


def _write_events(path, summaries, suffix=""):
    """One new event file in `path` with `summaries` [(step, Summary)]."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(path, filename_suffix=suffix)
    try:
        for step, summary in summaries:
            writer.add_event(
                event_pb2.Event(wall_time=time.time(), step=step, summary=summary)
            )
    finally:
        writer.close()
