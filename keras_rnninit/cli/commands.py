"""The bodies of the `keras-rnninit` commands (heavy imports happen here).

`cli.parser` parses the arguments and calls the command's function here;
`compare_into` is the one body that runs a comparison into a folder for
the task form and the `--model` form of `compare`, and `print_table`
prints a report's statistics table (the examples use it too).
"""

import os

__all__ = [
    "compare",
    "compare_into",
    "demo",
    "diagnose",
    "export",
    "print_table",
    "recommend",
]


def print_table(report_md):
    """Print the headline and the statistics table of a comparison report
    (its first table; the per-seed detail stays in the file)."""
    with open(report_md) as file:
        lines = file.read().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(
        (i for i in range(first, len(lines)) if not lines[i].startswith("|")),
        len(lines),
    )
    claim = [line for line in lines[:first] if line.startswith("Claim ")]
    print("\n".join(claim + [""] * bool(claim) + lines[first:end]))


def demo(args):
    from keras_rnninit.cli.demo import DEMO_SCHEMES, LATENCY_REPEATS, run_demo

    choice = getattr(args, "backend_choice", None)
    print(
        f"keras_rnninit demo: {', '.join(DEMO_SCHEMES)} on the adding problem "
        f"(T={args.length}, FastSimpleRNN({args.units}), {args.steps} steps, seeds "
        f"{', '.join(map(str, args.seeds))}), then export a trained model to TFLite"
        + ("" if choice is None else f"; training on {choice}")
    )
    result = run_demo(
        backend=None if choice is None else choice.backend,
        out=args.out,
        export_path=args.export,
        steps=args.steps,
        length=args.length,
        units=args.units,
        seeds=args.seeds,
        batch_size=args.batch_size,
        force=args.force,
    )
    print_table(result["report"])
    run, exported = result["exported_run"], result["export"]
    reached = run.steps_to_threshold
    print(
        f"\nexported run: {run.scheme} seed {run.seed}, its lowest test MSE "
        f"(test MSE < {run.threshold:g} "
        + (f"at step {reached}" if reached else "never reached")
        + f", best {run.best_test:.4f}; always predicting 1.0 scores "
        f"{run.baseline:.4f}). Which scheme trains better is the table's "
        "verdict, not this one run's."
    )
    speed = result["latency_ms"]
    print(
        f"exported: {exported['path']} ({exported['size_bytes'] / 1024:.1f} KiB, "
        f"builtins only: {', '.join(exported['ops'])})"
    )
    print(
        f"parity with Keras in LiteRT: max abs error {exported['max_abs_error']:.2g}"
        f" on {exported['verified_sequences']} sequences"
    )
    print(
        f"latency per sequence (T={args.length}, median of {LATENCY_REPEATS} calls): "
        f"LiteRT {speed['litert']:.3f} ms; Keras tf.function "
        f"{speed['keras_compiled']:.2f} ms ({_times(speed, 'keras_compiled')}), "
        f"eager {speed['keras_eager']:.1f} ms ({_times(speed, 'keras_eager')})"
    )
    print(
        f"\nfiles: {result['report']} (+ report.json, *.png, models/), "
        f"{exported['path']} (+ {os.path.basename(exported['metadata_path'])})"
    )
    print(f"done in {result['seconds']:.0f} s")
    return 0


def _times(speed, path):
    """How many times LiteRT's latency `path` takes: '338x', '2.4x'."""
    ratio = speed[path] / speed["litert"]
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def export(args):
    import numpy as np

    from keras_rnninit.export import export_tflite

    output = args.out or os.path.join(
        "export", os.path.splitext(os.path.basename(args.model))[0] + ".tflite"
    )
    representative = None
    if args.representative:
        try:
            representative = np.load(args.representative)
        except (OSError, ValueError) as error:
            raise ValueError(
                "`--representative` must be a .npy file of shape (n, T, features). "
                f"Received: {args.representative!r} ({error})"
            ) from error
    report = export_tflite(
        args.model,
        output,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        unroll=True if args.unroll else None,
        quantize=args.quantize,
        representative_data=representative,
        overwrite=args.force,
        safe_mode=not args.trust_model,
    )
    builtins = (
        "builtins only"
        if not any(op.startswith("Flex") for op in report.ops)
        else "needs Flex"
    )
    rows = [
        (
            "file",
            f"{report.path} ({report.size_bytes / 1024:.1f} KiB), "
            f"metadata {report.metadata_path}",
        ),
        (
            "input",
            f"{report.input_name} {tuple(report.input_shape)} "
            f"{report.input_dtype} (-1 = any)",
        ),
        ("signatures", ", ".join(report.signatures)),
        ("quantize", report.quantize or "none (float32)"),
        ("ops", f"{', '.join(report.ops)} ({builtins})"),
        ("recurrent path", _recurrent_path_line(report)),
        ("state", _state_line(report)),
        (
            "parity",
            f"max abs error {report.max_abs_error:.3g}, relative "
            f"{report.max_rel_error:.3g} on {report.verified_sequences} "
            f"sequences (allowed: {report.atol:g} + {report.rtol:g} x max|y|)",
        ),
        (
            "latency",
            f"{report.latency_ms:.3f} ms per invocation in LiteRT on input "
            f"{tuple(report.latency_input_shape)}",
        ),
        ("converted", f"in {report.conversion_seconds:.2f} s"),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    return 0


def _state_line(report):
    """What the file keeps between invokes and how an app resets it."""
    kept = []
    if report.state_variables:
        kept.append(
            f"{len(report.state_variables)} stateful-model variable(s), zeroed only "
            "by the `reset` signature"
        )
    if report.state_tensors:
        kept.append(
            f"{len(report.state_tensors)} fused-LSTM state tensor(s): call "
            "reset_all_variables() between independent sequences"
        )
    if not kept:
        return "none kept between invokes"
    return f"kept between invokes: {'; '.join(kept)} (docs/guides/export.md)"


def _check_out(out, force):
    """`out` may be replaced only with --force; its parent must exist."""
    from keras_rnninit.utils.files import check_overwrite

    out = os.path.abspath(out)
    check_overwrite(out, force, "force")
    parent = os.path.dirname(out)
    if not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)
    return out


def compare(args):
    if args.model is not None or args.data is not None:
        from keras_rnninit.cli.compare_own import compare_own

        return compare_own(args)

    from keras_rnninit.compare import CompareConfig
    from keras_rnninit.compare.runner import check_engine, check_executor, check_runs

    # Every argument is checked before a folder is created or a step trained;
    # the task's length first (a length-aware scheme is set for it).
    config = CompareConfig(
        task=args.task,
        length=args.length,
        units=args.units,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        clipnorm=args.clipnorm,
        eval_every=args.eval_every,
        threshold=args.threshold,
        cell=args.cell,
    )
    resolved, seeds = check_runs(args.schemes, args.seeds, args.cell, config.length)
    names = [s.name for s in resolved]
    check_executor(args.executor, args.ray_address, args.distribute)
    check_engine(args.engine, args.distribute, config)
    if args.reference is not None and args.reference not in names:
        raise ValueError(
            "`--reference` must be one of the compared schemes "
            f"({', '.join(sorted(names))}). Received: {args.reference!r}"
        )
    if args.tensorboard is not None:
        from keras_rnninit.compare.tensorboard import check_tensorboard_dir

        check_tensorboard_dir(args.tensorboard, "--tensorboard")
    out = args.out
    if out is None:
        out = os.path.join("runs", f"compare-{args.task}-T{config.length}")
    return compare_into(
        out,
        config,
        args,
        names,
        seeds,
        f"{args.task} T={config.length}",
        args.steps,
        distribute=args.distribute,
        fused=not args.sequential,
        engine=args.engine,
    )


def _backend_text(args):
    """The backend that trains, and why it was chosen (`utils/backends.py`)."""
    import keras

    choice = getattr(args, "backend_choice", None)
    return keras.backend.backend() if choice is None else str(choice)


def compare_into(out, config, args, names, seeds, subject, steps, **options):
    """A comparison into the folder `out`: its run store (lock, resume), the
    runs, then the report and its table; one body for the task command and
    the own-model command (`cli/compare_own.py`). On failure it says how
    many finished runs the folder keeps."""
    import sys

    from keras_rnninit.compare.folder import compare_to_folder

    def opened(store):
        for note in store.notes:
            print(f"--resume: {note}", file=sys.stderr)
        reused = len(store.completed)
        print(
            f"Comparing {', '.join(names)} on {subject}, seeds "
            f"{', '.join(map(str, seeds))}, {steps} steps each"
            + (f" ({reused} finished run(s) reused)" if reused else "")
            + f"; Keras on {_backend_text(args)}",
            file=sys.stderr,
        )

    def failed(kept, partial):
        print(
            f"{kept} finished run(s) kept in {partial}; rerun the same "
            "command with --resume to continue.",
            file=sys.stderr,
        )

    out = compare_to_folder(
        out,
        names,
        seeds,
        config,
        force=args.force,
        resume=args.resume,
        command="keras-rnninit " + " ".join(args.argv),
        reference=args.reference,
        on_open=opened,
        on_failure=failed,
        session=_ray_session(args),
        executor=args.executor,
        ray_address=args.ray_address,
        tensorboard_dir=args.tensorboard,
        **options,
    ).out
    print_table(os.path.join(out, "report.md"))
    print(
        f"\nreport: {out}/report.md, {out}/report.json, plots: {out}/*.png, "
        f"trained models: {out}/models/"
    )
    return 0


def _ray_session(args):
    """Ray for `compare --executor ray`, started (or connected) here so that
    its "ray" logger shows errors only; `--verbose` keeps Ray's own level
    (INFO unless RAY_LOGGER_LEVEL says otherwise). The comparison then runs
    in this session (`start_ray` finds Ray initialized), which ends with the
    block."""
    import contextlib
    import logging

    if args.executor != "ray":
        return contextlib.nullcontext()
    from keras_rnninit.compare.executors import ray_session

    level = None if args.verbose else logging.ERROR
    return ray_session(args.ray_address, logging_level=level)


def diagnose(args):
    import json

    import numpy as np

    from keras_rnninit.compare.report import jsonable
    from keras_rnninit.diagnostics.gated import CANDIDATE
    from keras_rnninit.diagnostics.signal import check_cell, signal_propagation

    # Every scheme x cell is checked before anything is printed or written.
    names = [check_cell(name, args.cell, args.length).name for name in args.schemes]
    out = _check_out(args.out, args.force) if args.out else None
    reports = []
    # Var(h_t) at t = 1, 10 and T, each step once (T <= 10 repeats one).
    steps = sorted({1, min(10, args.length), args.length})
    print(
        f"Signal propagation at init: {args.cell} cell, units {args.units}, "
        f"T={args.length}, input dim {args.input_dim}, batch {args.batch_size}, "
        f"{args.draws} draws"
        + (
            f"; radius, max sv: Whh's candidate block {CANDIDATE[args.cell]}"
            if args.cell in CANDIDATE
            else ""
        )
    )
    print(
        f"  {'scheme':<16} "
        + " ".join(f"{f'var h_{t}':>9}" for t in steps)
        + f" {'saturated':>9} {'log10 ratio':>12} {'radius':>8} {'max sv':>8}"
    )
    for name in names:
        r = signal_propagation(
            name,
            units=args.units,
            length=args.length,
            input_dim=args.input_dim,
            batch=args.batch_size,
            draws=args.draws,
            seed=args.seed,
            cell=args.cell,
        )
        reports.append(r.to_dict())
        ratio = r.log10_ratio
        ratio_text = "-inf (=0)" if ratio == float("-inf") else f"{ratio:.2f}"
        print(
            f"  {name:<16} "
            + " ".join(f"{r.variance[t - 1]:>9.3f}" for t in steps)
            + f" {100 * np.mean(r.saturated):>8.1f}% "
            f"{ratio_text:>12} {r.spectral_radius:>8.3f} "
            f"{r.max_singular_value:>8.3f}"
        )
    if out:
        import shutil

        from keras_rnninit.compare.plots import _write_signal_plot
        from keras_rnninit.utils.files import replace_folder, temp_dir

        tmp = temp_dir(out)  # the user's umask, not mkdtemp's 0700
        try:
            with open(os.path.join(tmp, "diagnose.json"), "w") as file:
                json.dump(jsonable(reports), file, indent=1, allow_nan=False)
            _write_signal_plot(jsonable(reports), os.path.join(tmp, "diagnose.png"))
            replace_folder(tmp, out)
        finally:
            if os.path.isdir(tmp):
                shutil.rmtree(tmp)
        print(f"\nwrote {out}/diagnose.json and {out}/diagnose.png")
    return 0


def recommend(args):
    """Print the length sweep's recommendation and the cell it rests on.

    Reads only the summary JSON (keras_rnninit.schemes.guidance): no backend import.
    """
    import dataclasses
    import json

    from keras_rnninit.schemes.guidance import recommend as find
    from keras_rnninit.schemes.guidance import seed_ranges

    rec = find(args.task, args.length, evidence=args.evidence)
    if args.json:
        answer = {**dataclasses.asdict(rec), "command": rec.command}
        print(json.dumps(answer, indent=1, allow_nan=False))
        return 0
    print(rec)
    if rec.measured_length != rec.length:
        print(
            f"T={rec.length} was not measured: this is the nearest measured length "
            f"not shorter, T={rec.measured_length}."
        )
    # A real dataset's target is an accuracy to exceed (benchmarks/real_data.py).
    metric, above = ("test accuracy", ">") if rec.metric else ("test metric", "<")
    solved = (
        ""
        if rec.threshold is None
        else f", solved = {metric} {above} {rec.threshold:.3g}"
    )
    clipnorm = "off" if rec.clipnorm is None else f"{rec.clipnorm:g}"
    script = "real_data.py" if rec.metric else "length_sweep.py"
    print(
        f"protocol: {rec.steps} steps, clipnorm {clipnorm}{solved} "
        f"(benchmarks/{script})"
    )
    if rec.command:
        print(f"run it: {rec.command}")
    print()
    # A real dataset's rows: each at a rate of the grid, with its accuracy.
    extra = " Adam | final accuracy [95% CI] |" if rec.metric else ""
    print(
        "| scheme | cell type | activation | solved | Wilson 95% | median steps "
        f"| seeds |{extra}"
    )
    print("|---|---|---|---|---|---|---|" + ("---|---|" if rec.metric else ""))
    for row in rec.cell:
        low, high = row["interval"]
        median = row["median_steps"]
        more = ""
        if rec.metric:
            final, (a, b) = row["final_test_mean"], row["final_test_ci95"]
            more = f" {row['learning_rate']:g} | {final:.3f} [{a:.3f}, {b:.3f}] |"
        print(
            f"| `{row['scheme']}` | {row.get('cell_type', 'simple')} | "
            f"{row.get('activation', '')} | "
            f"{row['solved']}/{row['runs']} | [{low:.2f}, {high:.2f}] | "
            f"{'–' if median is None else f'{median:g}'} | "
            f"{seed_ranges(row.get('seeds', ()))} |{more}"
        )
    return 0


def _recurrent_path_line(report):
    """'fused', 'while', ... plus why any LSTM stayed a WHILE loop."""
    reasons = "; ".join(f"{k}: {v}" for k, v in sorted(report.lstm_fallbacks.items()))
    return report.recurrent_path + (f" (not fused: {reasons})" if reasons else "")
