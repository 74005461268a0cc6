"""`keras-rnninit compare --model M.keras --data D.npz ...`: the command's body.

Every argument, the model file, the arrays and the monitor are checked before
a folder is created or a step trained; the comparison then runs as
`compare(model=..., data=...)` does, into a run store (resume, lock) and a
report.
"""

import math
import os

import numpy as np

__all__ = ["compare_own", "read_arrays"]

# Options of the built-in tasks that a comparison on your own model does not
# take (its architecture and compile settings are the model's).
TASK_ONLY = (
    "--cell",
    "--clipnorm",
    "--distribute",
    "--engine",
    "--length",
    "--lr",
    "--sequential",
    "--task",
    "--units",
)


def _given(argv, flag):
    return any(a == flag or a.startswith(flag + "=") for a in argv)


def read_arrays(path, option, required=("x", "y")):
    """{key: array} of an .npz file: `required` keys present, no pickles."""
    try:
        with np.load(path, allow_pickle=False) as file:
            arrays = {key: file[key] for key in file.files}
    except FileNotFoundError:
        raise FileNotFoundError(
            f"`{option}` must be an existing .npz file. Received: {path!r}"
        ) from None
    except (OSError, ValueError) as error:
        raise ValueError(
            f"`{option}` must be an .npz file of arrays (numpy.savez). "
            f"Received: {path!r} ({str(error).splitlines()[0]})"
        ) from None
    missing = [key for key in required if key not in arrays]
    if missing:
        raise ValueError(
            f"`{option}` must hold the arrays {', '.join(required)}; "
            f"{', '.join(missing)} missing. Received: {path!r} with "
            f"{', '.join(sorted(arrays)) or 'no arrays'}"
        )
    return arrays


def _data(args):
    """(data, validation_data) from --data, --validation, --validation-split."""
    arrays = read_arrays(args.data, "--data")
    data = (arrays["x"], arrays["y"])
    sources = [
        name
        for name, given in (
            ("x_val/y_val in --data", "x_val" in arrays or "y_val" in arrays),
            ("--validation", args.validation is not None),
            ("--validation-split", args.validation_split is not None),
        )
        if given
    ]
    if len(sources) > 1:
        raise ValueError(
            "validation data must come from one place. Received: " + ", ".join(sources)
        )
    if "x_val" in arrays or "y_val" in arrays:
        found = read_arrays(args.data, "--data", ("x", "y", "x_val", "y_val"))
        return data, (found["x_val"], found["y_val"])
    if args.validation is not None:
        found = read_arrays(args.validation, "--validation")
        return data, (found["x"], found["y"])
    if args.validation_split is not None:
        rows = len(data[0])
        cut = rows - int(math.floor(rows * args.validation_split))
        if not 0 < cut < rows:
            raise ValueError(
                f"`--validation-split` must leave rows on both sides of {rows}. "
                f"Received: {args.validation_split}"
            )
        return (data[0][:cut], data[1][:cut]), (data[0][cut:], data[1][cut:])
    return data, None


def compare_own(args):
    from keras_rnninit.cli.commands import compare_into
    from keras_rnninit.compare.own.runs import check_runs, runs_of

    if args.model is None or args.data is None:
        missing = "--model" if args.model is None else "--data"
        raise ValueError(f"`--model` and `--data` go together. Received: no {missing}")
    for flag in TASK_ONLY:
        if _given(args.argv, flag):
            raise ValueError(
                f"`{flag}` is for the built-in tasks; with --model the "
                f"model's own settings train. Received: {flag}"
            )
    if args.epochs is not None and _given(args.argv, "--steps"):
        raise ValueError("`--epochs` and `--steps` exclude each other. Received: both")
    if args.tensorboard is not None:
        from keras_rnninit.compare.tensorboard import check_tensorboard_dir

        check_tensorboard_dir(args.tensorboard, "--tensorboard")
    data, validation = _data(args)
    steps = args.steps
    if args.epochs is not None:
        steps = args.epochs * math.ceil(len(data[0]) / args.batch_size)
    monitor = args.monitor
    if validation is None and monitor.startswith("val_"):
        monitor = (
            monitor.removeprefix("val_")
            if not _given(args.argv, "--monitor")
            else monitor
        )
    runs = runs_of(
        args.model,
        data,
        validation,
        trust_model=args.trust_model,
        steps=steps,
        batch_size=args.batch_size,
        eval_every=min(args.eval_every, steps),
        monitor=monitor,
        target=args.threshold,
        mode=args.mode,
    )
    resolved, seeds = check_runs(args.schemes, args.seeds, runs)
    names = [s.name for s in resolved]
    if args.reference is not None and args.reference not in names:
        raise ValueError(
            "`--reference` must be one of the compared schemes "
            f"({', '.join(sorted(names))}). Received: {args.reference!r}"
        )
    out = args.out or os.path.join("runs", f"compare-{runs.model.name}")
    return compare_into(
        out, runs, args, names, seeds, f"{runs.source} with {args.data}", steps
    )
