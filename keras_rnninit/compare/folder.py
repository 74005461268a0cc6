"""A comparison into a folder: the one body behind `keras-rnninit compare`
(the task form and the `--model` form) and `make demo`.

It opens the folder's run store (lock, resume, `*.partial`), runs `compare`
with every finished run saved as it ends, and writes the report; on failure
(Ctrl-C included) the finished runs stay in `<out>.partial` for a resume.
"""

import contextlib
import os

from keras_rnninit.compare.runner import check_engine, compare
from keras_rnninit.compare.store import RunStore, is_temporary

__all__ = ["FolderComparison", "compare_to_folder"]


class FolderComparison:
    """What `compare_to_folder` made: `out` (the folder), `records` and
    `report` (the dict written to report.json)."""

    def __init__(self, out, records, report):
        self.out, self.records, self.report = out, records, report

    def __repr__(self):
        return f"FolderComparison(out={self.out!r}, runs={len(self.records)})"


def compare_to_folder(
    out,
    schemes,
    seeds,
    config,
    *,
    force=False,
    resume=False,
    command=None,
    reference=None,
    claim=None,
    on_open=None,
    on_failure=None,
    session=None,
    **options,
):
    """Run `compare(schemes, seeds, config, **options)` into the folder `out`.

    Args:
        out: The report folder. It is written as `<out>.partial` and renamed
            when the report is done; an existing `out` is refused unless
            `force`, an interrupted `<out>.partial` unless `resume` (continue
            it: its finished runs are reused) or `force` (start over).
        schemes: Scheme names (or `Scheme` objects).
        seeds: Int seeds.
        config: A `CompareConfig` (or, for your own model, an `own.OwnRuns`).
        command: The command line that regenerates the report, written in it.
        reference: The scheme the others are compared with (`write_report`).
        claim: A `statistics.Claim` the report tests, or None.
        on_open: Called with the open `RunStore` before any run (to tell the
            user what is reused, for example).
        on_failure: Called with (finished runs kept, the partial folder) when
            the runs fail or are interrupted, before the error propagates.
        session: A context manager entered around the runs only, once the
            folder is open (the command line's Ray session, for example).
        **options: Passed on to `compare` (progress, executor, model, ...).

    Returns:
        A `FolderComparison`.
    """
    # Refused before the folder exists (nothing half-written).
    check_engine(options.get("engine", "keras"), options.get("distribute"), config)
    with RunStore(out, config, resume=resume, force=force) as store:
        if on_open is not None:
            on_open(store)
        try:
            with session if session is not None else contextlib.nullcontext():
                records = compare(
                    schemes,
                    seeds=seeds,
                    config=config,
                    save_dir=store.models,
                    completed=store.completed,
                    on_record=store.save,
                    **options,
                )
        except BaseException:
            if on_failure is not None:
                runs = os.listdir(os.path.join(store.path, "runs"))
                on_failure(sum(not is_temporary(n) for n in runs), store.path)
            raise
        report = store.finish(
            records, command=command, reference=reference, claim=claim
        )
    return FolderComparison(store.out, records, report)
