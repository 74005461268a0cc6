"""Where the units of work of a comparison run: in this process ("local") or
as Ray tasks ("ray"), on a local Ray instance or a cluster.

A unit is one seed's runs: all its schemes fused into one model, one scheme
(`--sequential`), or with the stacked engine the seed's pending runs as one
block through one compiled step (`stacked.py`). Units are independent, so
each is one Ray task. A
task trains in a temporary folder on its node and returns its records with
the bytes of its trained models; the driver writes them into the run store as
each task finishes, so a worker needs no access to the store's disk, a task
retried after its node died writes nothing twice, and the records are those
of the local executor (same code, same seeds).
"""

import contextlib
import os
import signal
import sys
import tempfile
import threading
import time

__all__ = [
    "EXECUTORS",
    "Tally",
    "ray_session",
    "run_local",
    "run_ray",
    "start_ray",
    "train_unit",
]

EXECUTORS = ("local", "ray")
# A task lost with its node (or worker process) is run again elsewhere.
MAX_RETRIES = 5


def train_unit(
    schemes,
    seed,
    config,
    fused,
    progress=None,
    save_dir=None,
    strategy=None,
    interrupted=None,
    engine="keras",
):
    """The records of one unit: `schemes` (Scheme objects) with `seed`;
    `interrupted()` is called after every evaluation (see `run_local`).
    With `engine="stacked"` the runs share one compiled step per
    architecture (`stacked.train_stacked`) instead of a `fit` each."""
    from keras_rnninit.compare.own import OwnRuns, train_own
    from keras_rnninit.compare.training import train_fused, train_one

    if engine == "stacked":  # refuses your own model (`check_config`)
        from keras_rnninit.compare.stacked import train_stacked

        runs = [(scheme, seed) for scheme in schemes]
        return train_stacked(
            runs, config, progress, save_dir=save_dir, interrupted=interrupted
        )
    if isinstance(config, OwnRuns):  # the user's model: one run at a time
        own = dict(progress=progress, save_dir=save_dir, interrupted=interrupted)
        return [train_own(s, seed, config, **own) for s in schemes]
    common = dict(
        progress=progress, save_dir=save_dir, strategy=strategy, interrupted=interrupted
    )
    if fused and len(schemes) > 1:
        return train_fused(schemes, seed, config, **common)
    return [train_one(s, seed, config, **common) for s in schemes]


def _format_seconds(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class Tally:
    """The progress line: runs done/total, runs in flight, ETA.

    The ETA extrapolates the runs finished in this session (reused runs of a
    resumed comparison do not count towards its pace).
    """

    def __init__(self, total, done, stream):
        self.total, self.done, self.stream = total, done, stream
        self.start, self.new = time.monotonic(), 0

    def line(self, in_flight):
        if self.new:
            left = (time.monotonic() - self.start) / self.new * (self.total - self.done)
            eta = _format_seconds(left)
        else:
            eta = "unknown"
        return f"runs {self.done}/{self.total} done, {in_flight} in flight, ETA {eta}"

    def finished(self, count):
        self.done += count
        self.new += count

    def show(self, in_flight, end=""):
        """Write the line (again only when it changes, or to end it)."""
        text = self.line(in_flight)
        if self.stream is not None and (end or text != getattr(self, "_last", None)):
            self.stream.write(f"\r  {text}   {end}")
            self.stream.flush()
        self._last = text


def run_local(
    units, config, keep, tally, fused=True, progress=None, save_dir=None, strategy=None
):
    """Train `units` [(schemes, seed)] one after another; `keep(records)`.

    Ctrl-C raises at once, as it does without this, and is checked again
    before each unit, after every evaluation and before a unit's records are
    kept: a KeyboardInterrupt that Python swallowed (see `_deferred_interrupt`)
    still stops the comparison, with the finished units kept.
    """
    with _deferred_interrupt(raise_now=True) as interrupted:
        for schemes, seed in units:
            interrupted()
            records = train_unit(
                schemes,
                seed,
                config,
                fused=fused,
                progress=progress,
                save_dir=save_dir,
                strategy=strategy,
                interrupted=interrupted,
            )
            interrupted()
            tally.finished(keep(records))
            tally.show(0, end="\n")


def run_stacked(units, config, keep, tally, progress=None, save_dir=None):
    """Train the runs of `units` through the stacked engine (one compiled
    step per architecture); `keep(records)` after each block, Ctrl-C as in
    `run_local`."""
    from keras_rnninit.compare.stacked import train_stacked

    runs = [(scheme, seed) for schemes, seed in units for scheme in schemes]
    with _deferred_interrupt(raise_now=True) as interrupted:

        def finished(records):
            interrupted()
            tally.finished(keep(records))
            tally.show(0, end="\n")

        train_stacked(
            runs,
            config,
            progress=progress,
            save_dir=save_dir,
            interrupted=interrupted,
            on_block=finished,
        )


REFUSAL = "`KERAS_BACKEND` of the Ray workers must be"  # a worker's one line


def _remote_unit(schemes, seed, config, fused, backend, engine="keras"):
    """A Ray task: train in a temporary folder; return (record, model bytes).

    A worker trains on the backend its own environment gives Keras (a local
    Ray instance inherits the driver's `KERAS_BACKEND`; a cluster's nodes
    have theirs), so one on another backend than the driver's `backend`
    refuses: the comparison's runs would not be the driver's arithmetic.
    """
    import keras

    here = keras.backend.backend()
    if here != backend:
        # The stacked engine runs on JAX only: no other backend to suggest.
        other = (
            ""
            if engine == "stacked"
            else f", or train on {here}: --backend {here} on the command line"
        )
        raise ValueError(
            f"{REFUSAL} {backend}, the backend of this comparison (start the "
            f"cluster's nodes with KERAS_BACKEND={backend}{other}). Received: {here}"
        )
    results = []
    with tempfile.TemporaryDirectory() as folder:
        trained = train_unit(
            schemes, seed, config, fused, save_dir=folder, engine=engine
        )
        for record in trained:
            with open(record.model_path, "rb") as file:
                results.append((record, file.read()))
    return results


def _write_model(data, save_dir, name, seed):
    """Write a model returned by a task the way `training._save` does."""
    from keras_rnninit.compare.training import _place_model

    def write(path):
        with open(path, "wb") as file:
            file.write(data)

    return _place_model(save_dir, name, seed, write)


def _ray():
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            "`--executor ray` needs Ray: pip install 'keras_rnninit[ray]'"
        ) from error
    return ray


def start_ray(address=None, logging_level=None):
    """Connect to the Ray cluster at `address`, or start a local instance.

    Returns True if this call initialized Ray (then `ray.shutdown()` is ours).
    A local instance keeps every address on loopback. `logging_level` is the
    level of this process's "ray" logger (`ray.init`'s own argument; None:
    Ray's default, INFO): the command line passes logging.ERROR, so Ray's
    INFO and WARNING lines ("Started a local Ray instance", token setup) stay
    off its stderr and Ray's errors do not. The workers' output never reaches
    this process (`log_to_driver=False`); Ray keeps it in its session logs.
    """
    if address is None:  # read when Ray is imported
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = _ray()
    if ray.is_initialized():
        return False
    options = {"log_to_driver": False}
    if logging_level is not None:
        options["logging_level"] = logging_level
    if address is None:
        ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", **options)
    else:
        try:
            ray.init(address=address, **options)
        except ConnectionError as error:
            raise ConnectionError(
                f"no Ray cluster answers at `--ray-address` {address!r} ({error})"
            ) from None
    return True


@contextlib.contextmanager
def ray_session(address=None, logging_level=None):
    """Ray for the block (`start_ray`): the `ray` module; a Ray instance
    started here is shut down on leaving, one found running is left alone."""
    started = start_ray(address, logging_level)
    ray = _ray()
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


@contextlib.contextmanager
def _deferred_interrupt(raise_now=False):
    """Ctrl-C (SIGINT) is remembered; `interrupted()` raises KeyboardInterrupt
    for it at a point the caller picks, and once more on leaving the block.

    Without `raise_now` the signal only sets the flag: a KeyboardInterrupt
    raised inside Ray's driver calls (in its Cython layer, between its C++
    calls) once ended a Ray comparison with exit code 1 and no message
    instead of the CLI's "interrupted" (130). With `raise_now` it also raises
    wherever the main thread is, as Python's own handler does (a blocked
    save is interrupted), and the flag makes the next check raise again if
    that KeyboardInterrupt was lost: raised while a finalizer runs (a
    `__del__` or weakref callback; TensorFlow runs many), Python prints
    "Exception ignored in ..." and carries on, and a local comparison once
    trained on and then hung in its next save.

    Python would also print that lost KeyboardInterrupt with a traceback
    ("Exception ignored in: <function _xla_gc_callback>", a garbage-collector
    callback), so while the block runs with `raise_now`, `sys.unraisablehook`
    drops a KeyboardInterrupt once a Ctrl-C was remembered (the next check,
    or leaving the block, raises it) and passes every other unraisable
    exception on to the hook it replaced. If the block ends with another
    exception instead, that one propagates: the work stopped either way, and
    the error is the one worth reading.

    Only Python's default handler is replaced: a SIGINT that is ignored (a
    background job) or handled by the embedding program stays so, and off
    the main thread, where Python delivers no signals, nothing changes.
    """
    caught = []

    def interrupted():
        if caught:
            raise KeyboardInterrupt

    def remember(signum, frame):
        caught.append(signum)  # before raising: `drop_lost` relies on it
        if raise_now:
            raise KeyboardInterrupt

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield interrupted
        return
    previous_hook, active = sys.unraisablehook, [True]

    def drop_lost(unraisable):
        # Off once the block is left, even if a hook set meanwhile calls this.
        if not (active and caught and unraisable.exc_type is KeyboardInterrupt):
            previous_hook(unraisable)

    previous = signal.signal(signal.SIGINT, remember)
    if raise_now:
        sys.unraisablehook = drop_lost
    try:
        yield interrupted
    finally:
        # The hook first: signal.signal() may run a pending handler, whose
        # KeyboardInterrupt would skip whatever follows it here.
        active.clear()
        if sys.unraisablehook is drop_lost:  # unless someone replaced it since
            sys.unraisablehook = previous_hook
        signal.signal(signal.SIGINT, previous)
    interrupted()  # a Ctrl-C after the last check still interrupts


def run_ray(
    units, config, keep, tally, save_dir=None, address=None, fused=True, engine="keras"
):
    """Train every unit as a Ray task; `keep(records)` as each one finishes.

    With `engine="stacked"` each task trains its unit (one seed's pending
    runs) as one block through the stacked engine: one compiled step per
    architecture in the block, the block's runs in turn. A task's records
    come back when the whole block is done, so Ctrl-C or a lost node drops
    (and a retry trains again) the runs of unfinished blocks, as it does a
    fused seed's.

    In-flight tasks are cancelled if this is interrupted (Ctrl-C, checked
    between Ray calls: see `_deferred_interrupt`), and a Ray instance started
    here is shut down.
    """
    import keras

    backend = keras.backend.backend()
    with ray_session(address) as ray:
        task = ray.remote(
            num_cpus=1, max_retries=MAX_RETRIES, scheduling_strategy="SPREAD"
        )(_remote_unit)
        pending = {
            task.remote(schemes, seed, config, fused, backend, engine): (schemes, seed)
            for schemes, seed in units
        }
        try:
            with _deferred_interrupt() as interrupted:
                while pending:
                    interrupted()
                    in_flight = sum(len(s) for s, _ in pending.values())
                    tally.show(in_flight)
                    ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                    for ref in ready:
                        _, seed = pending.pop(ref)
                        records = []
                        try:
                            finished = ray.get(ref)
                        except ray.exceptions.RayTaskError as error:
                            if str(error.cause).startswith(REFUSAL):
                                raise error.cause from None
                            raise
                        for record, data in finished:
                            if save_dir is not None:
                                record.model_path = _write_model(
                                    data, save_dir, record.scheme, seed
                                )
                            else:
                                record.model_path = None
                            records.append(record)
                        tally.finished(keep(records))
            tally.show(0, end="\n")
        finally:
            # Only tasks still running: force-cancelling one that has just
            # finished can crash Ray's core worker ("Tried to complete task
            # that was not pending", a known race in Ray's task manager).
            if pending:
                _, running = ray.wait(
                    list(pending), num_returns=len(pending), timeout=0
                )
                for ref in running:
                    ray.cancel(ref, force=True)
