"""A comparison's folder on disk: finished runs survive an interruption.

While it runs, a comparison lives in `<out>.partial/`: each finished run is
written at once to `runs/<scheme>-seed<seed>.json` (and its model to
`models/`). When every run is done the report is written there and the folder
is renamed to `<out>`, so `<out>` only ever holds a complete report. After an
interruption, `resume=True` reuses the finished runs of the same settings.
"""

import dataclasses
import json
import os
import shutil

from keras_rnninit.compare.report import jsonable, write_report

__all__ = ["RunStore"]


class RunStore:
    """The `<out>.partial` folder of one comparison.

    Args:
        out: The final report folder.
        config: The `CompareConfig` every stored run must share.
        resume: Reuse finished runs of an earlier, interrupted comparison.
        force: Start over, replacing `<out>` (and any partial folder) at the end.
    """

    def __init__(self, out, config, resume=False, force=False):
        self.out = os.path.abspath(out)
        self.path = self.out + ".partial"
        self.config = jsonable(dataclasses.asdict(config))
        if os.path.exists(self.out) and not force:
            raise FileExistsError(f"{self.out} exists; pass --force to replace it.")
        if os.path.exists(self.path) and not (resume or force):
            raise FileExistsError(
                f"{self.path} holds an interrupted comparison; pass --resume to "
                "continue it or --force to start over."
            )
        if os.path.exists(self.path) and not resume:
            shutil.rmtree(self.path)
        self.completed = self._load() if resume else {}
        try:
            os.makedirs(os.path.join(self.path, "runs"), exist_ok=True)
            os.makedirs(self.models, exist_ok=True)
        except OSError as error:
            raise PermissionError(
                f"`out` must be in a writable folder. Received: out={out!r} "
                f"({error.strerror})"
            ) from error

    @property
    def models(self):
        return os.path.join(self.path, "models")

    def _load(self):
        found = {}
        folder = os.path.join(self.path, "runs")
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            with open(os.path.join(folder, name)) as file:
                record = json.load(file)
            if record["config"] != self.config:
                raise ValueError(
                    f"`--resume` must use the settings of the interrupted comparison "
                    f"in {self.path}. Received different settings; its runs used "
                    f"{record['config']}"
                )
            found[(record["scheme"], record["seed"])] = record
        return found

    def save(self, record):
        """Keep a finished run (model path made relative to the folder)."""
        if record.get("model_path") and os.path.isabs(record["model_path"]):
            record["model_path"] = os.path.relpath(record["model_path"], self.path)
        name = f"{record['scheme']}-seed{record['seed']}.json"
        target = os.path.join(self.path, "runs", name)
        with open(target + ".tmp", "w") as file:
            json.dump(jsonable(record), file, allow_nan=False)
        os.replace(target + ".tmp", target)

    def finish(self, records, command=None):
        """Write the report and move the folder to `out`; returns the report."""
        report = write_report(records, self.path, command=command)
        if os.path.exists(self.out):
            shutil.rmtree(self.out)
        os.replace(self.path, self.out)
        return report
