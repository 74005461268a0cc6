"""A comparison's folder on disk: finished runs survive an interruption.

While it runs, a comparison lives in `<out>.partial/`: each finished run is
written at once to `runs/<scheme>-seed<seed>.json` (and its model to
`models/`), both through a temporary file renamed into place, so a kill
mid-save leaves at most a `*.tmp` file. When every run is done the report is
written there and the folder is renamed to `<out>`, so `<out>` only ever
holds a complete report. After an interruption, `resume=True` reuses the
complete records of the same settings: temporary files are deleted, and any
other file in `runs/` that is not a complete record (empty, truncated, a
stray `.DS_Store`, a record whose model is missing) is moved to
`<out>.partial/corrupt/` and its run trained again.

A running comparison holds an OS lock on `<out>.lock` (see `lock.py`); a
second one on the same `out` is refused, whatever its `force` and `resume`.
"""

import dataclasses
import json
import os
import shutil

from keras_rnninit.compare.lock import FolderLock
from keras_rnninit.compare.records import as_record
from keras_rnninit.compare.report import jsonable, write_report
from keras_rnninit.utils.files import (
    OutputExists,
    ResumeMismatch,
    check_overwrite,
    replace_folder,
    write_json,
)

__all__ = ["RunStore", "check_out", "is_temporary"]


def is_temporary(name):
    """Whether `name` is a save in progress (`*.tmp`, `*.tmp.keras`)."""
    return name.endswith((".tmp", ".tmp.keras"))


def check_out(out):
    """`out` as an absolute path; refuses what can never be a report folder."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"`out` must be a path. Received: out={out!r}")
    if not os.fspath(out):
        raise ValueError(f"`out` must name a folder. Received: out={out!r}")
    path = os.path.abspath(out)
    for candidate in (path, path + ".partial"):
        if os.path.exists(candidate) and not os.path.isdir(candidate):
            raise ValueError(
                f"`out` must be a folder, and {candidate} is a file. "
                f"Received: out={os.fspath(out)!r}"
            )
    return path


class RunStore:
    """The `<out>.partial` folder of one comparison, locked while it is open.

    Use it as a context manager (or call `close()`): the lock is released at
    the end, and by the OS if the process dies.

    Args:
        out: The final report folder.
        config: The `CompareConfig` (or `own.OwnRuns`) every stored run must
            share.
        resume: Reuse finished runs of an earlier, interrupted comparison.
        force: Start over, replacing `<out>` (and any partial folder) at the end.

    Attributes:
        completed: {(scheme, seed): record} of the reused runs.
        notes: One line per stray file cleaned or corrupt record moved aside.
    """

    def __init__(self, out, config, resume=False, force=False):
        self.out = check_out(out)
        self.path = self.out + ".partial"
        # A comparison on your own model (`own.OwnRuns`) stores the settings
        # its records keep: the model's and the data's fingerprints.
        plain = getattr(config, "record_config", None)
        self.config = jsonable(plain() if plain else dataclasses.asdict(config))
        self.notes = []
        parent = os.path.dirname(self.out)
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as error:
            raise PermissionError(
                f"`out` must be in a writable folder. Received: out={out!r} "
                f"({error.strerror})"
            ) from error
        self._lock = FolderLock(self.out + ".lock", os.fspath(out))
        try:
            self._open(out, resume, force)
        except BaseException:
            self._lock.release()
            raise

    def _open(self, out, resume, force):
        check_overwrite(self.out, force, "force")
        if os.path.exists(self.path) and not (resume or force):
            raise OutputExists(
                self.path,
                "{path} holds an interrupted comparison; pass {resume} to "
                "continue it or {force} to start over.",
            )
        if resume:
            self.completed = self._load()
        else:
            self.completed = {}
            if os.path.exists(self.path):
                shutil.rmtree(self.path)
        try:
            os.makedirs(os.path.join(self.path, "runs"), exist_ok=True)
            os.makedirs(self.models, exist_ok=True)
        except OSError as error:
            raise PermissionError(
                f"`out` must be in a writable folder. Received: out={out!r} "
                f"({error.strerror})"
            ) from error

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Release the lock (the folder stays as it is)."""
        self._lock.release()

    @property
    def models(self):
        return os.path.join(self.path, "models")

    def _read(self, name):
        """The record in `runs/<name>`, or the reason it is not a complete one."""
        try:
            with open(os.path.join(self.path, "runs", name)) as file:
                record = json.load(file)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            return f"not a readable JSON record ({error})"
        if (
            not isinstance(record, dict)
            or not {"scheme", "seed", "config"} <= set(record)
            or not isinstance(record["config"], dict)
        ):
            return "not a run record"
        if name != f"{record['scheme']}-seed{record['seed']}.json":
            return f"holds the run {record['scheme']!r} seed {record['seed']!r}"
        model = record.get("model_path")
        if model and not os.path.isfile(os.path.join(self.path, model)):
            return f"its model {model} is missing"
        return record

    def _load(self):
        """Complete records; deletes unfinished saves, moves the rest aside."""
        import keras

        found, temporary, corrupt = {}, [], []
        backend = keras.backend.backend()
        for sub in ("runs", "models"):
            folder = os.path.join(self.path, sub)
            for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
                if is_temporary(name):
                    temporary.append(f"{sub}/{name}")
                elif sub == "runs":
                    record = self._read(name)
                    if isinstance(record, str):
                        corrupt.append((name, record))
                    elif record["config"] != self.config:
                        raise ResumeMismatch(
                            "`{resume}` must use the settings of the interrupted "
                            "comparison in {path}. Received: {differences}",
                            path=self.path,
                            differences=_differences(record["config"], self.config),
                        )
                    elif _backend(record) not in (None, backend):
                        raise ResumeMismatch(
                            "`{resume}` must train on the backend of the "
                            "interrupted comparison in {path}. Received: "
                            f"backend={backend!r} (its runs used "
                            f"{_backend(record)!r})",
                            path=self.path,
                        )
                    else:
                        found[(record["scheme"], record["seed"])] = as_record(record)
        for name in temporary:
            os.remove(os.path.join(self.path, name))
            self.notes.append(f"deleted {name}, an unfinished save")
        aside = os.path.join(self.path, "corrupt")
        for name, reason in corrupt:
            os.makedirs(aside, exist_ok=True)
            os.replace(os.path.join(self.path, "runs", name), os.path.join(aside, name))
            self.notes.append(
                f"moved runs/{name} to corrupt/ ({reason}); its run is trained again"
            )
        return found

    def save(self, record):
        """Keep a finished run, a `RunRecord` or its dict (model path made
        relative to the folder)."""
        record = as_record(record)
        if record.model_path and os.path.isabs(record.model_path):
            record.model_path = os.path.relpath(record.model_path, self.path)
        name = f"{record.scheme}-seed{record.seed}.json"
        target = os.path.join(self.path, "runs", name)
        write_json(target, jsonable(record))

    def finish(self, records, command=None, reference=None, claim=None):
        """Write the report (`write_report`'s `command`, `reference` and
        `claim`), move the folder to `out` and unlock; returns the report."""
        report = write_report(
            records, self.path, command=command, reference=reference, claim=claim
        )
        replace_folder(self.path, self.out)
        self.close()
        return report


def _backend(record):
    """The backend a stored record trained on (None: a record without it)."""
    versions = record.get("versions")
    return versions.get("backend") if isinstance(versions, dict) else None


def _differences(stored, given):
    """`name=given (the runs used stored)` for every setting that differs."""
    names = sorted(set(stored) | set(given))
    return ", ".join(
        f"{name}={given.get(name)!r} (its runs used {stored.get(name)!r})"
        for name in names
        if stored.get(name) != given.get(name)
    )
