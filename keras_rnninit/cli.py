"""`keras-rnninit` command line.

Usage errors print one line and exit 2; failures print one line and exit 1
(add `--debug` for the traceback). Heavy modules are imported inside the
command functions, after the arguments are known to be valid.
"""

import argparse
import os
import sys

PROG = "keras-rnninit"
# Bad arguments or paths: exit 2. Anything else that fails: exit 1.
USAGE_ERRORS = (
    ValueError,
    TypeError,
    FileExistsError,
    FileNotFoundError,
    PermissionError,
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def positive_int(text):
    """argparse type: an int >= 1, with a Keras-style message."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int. Received: {text!r}")
    return value


def non_negative_int(text):
    """argparse type: an int >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"must be an int >= 0. Received: {text!r}")
    return value


def _cmd_demo(args):
    from keras_rnninit.demo import run_demo

    result = run_demo(
        steps=args.steps,
        length=args.length,
        units=args.units,
        seed=args.seed,
        verbose=2 if args.verbose else 0,
    )
    width = max(len(k) for k in result)
    print("\nkeras_rnninit demo: SimpleRNN with XavierRNN on the adding problem")
    for key, value in result.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"  {key:<{width}}  {shown}")
    solved = result["best_test_mse"] < 0.1 * result["baseline_mse"]
    print(
        f"  -> best test MSE {result['best_test_mse']:.4f} vs "
        f"{result['baseline_mse']:.4f} for always predicting 1.0: "
        + ("learned the task." if solved else "did not learn the task yet.")
    )
    return 0


def _cmd_export(args):
    import numpy as np

    from keras_rnninit.export import export_tflite

    output = args.output or os.path.join(
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
        (
            "parity",
            f"max abs error {report.max_abs_error:.3g}, relative "
            f"{report.max_rel_error:.3g} on {report.verified_sequences} "
            f"sequences (allowed: {report.atol:g} + {report.rtol:g} x max|y|)",
        ),
        ("latency", f"{report.latency_ms:.3f} ms per invocation in LiteRT"),
        ("converted", f"in {report.conversion_seconds:.2f} s"),
    ]
    for key, value in rows:
        print(f"  {key:<10}  {value}")
    return 0


def build_parser():
    from keras_rnninit.version import __version__

    parser = _Parser(
        prog=PROG,
        description="Initialization, diagnostics and TFLite export for vanilla RNNs.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback on errors"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    demo = commands.add_parser(
        "demo", help="train a SimpleRNN with XavierRNN on the adding problem"
    )
    demo.add_argument(
        "--steps",
        type=positive_int,
        default=2000,
        help="training steps (default: 2000)",
    )
    demo.add_argument(
        "--length",
        type=positive_int,
        default=30,
        help="sequence length T (default: 30)",
    )
    demo.add_argument(
        "--units", type=positive_int, default=32, help="hidden units (default: 32)"
    )
    demo.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of data and weights (default: 0)",
    )
    demo.add_argument(
        "--quiet",
        dest="verbose",
        action="store_false",
        help="no per-epoch progress lines",
    )
    demo.set_defaults(func=_cmd_demo)

    export = commands.add_parser(
        "export",
        help="export a .keras model to builtins-only TFLite, verified in LiteRT",
    )
    export.add_argument("model", help="the .keras file to export")
    export.add_argument(
        "-o",
        "--output",
        help="destination .tflite (default: export/<model name>.tflite)",
    )
    export.add_argument(
        "--quantize",
        choices=["dynamic", "float16", "int8"],
        help="post-training quantization (default: float32)",
    )
    export.add_argument(
        "--seq-len",
        type=positive_int,
        help="fix the sequence length (required by --unroll)",
    )
    export.add_argument(
        "--unroll",
        action="store_true",
        help="unroll the recurrence: no WHILE loop, dynamic batch",
    )
    export.add_argument(
        "--batch-size", type=positive_int, help="fixed batch of the file (default 1)"
    )
    export.add_argument(
        "--representative",
        metavar="NPY",
        help="typical inputs (n, T, features) for --quantize int8",
    )
    export.add_argument(
        "--force", action="store_true", help="replace an existing output file"
    )
    export.set_defaults(func=_cmd_export)
    return parser


def main(argv=None):
    """Entry point of the `keras-rnninit` console script; returns the exit code."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except USAGE_ERRORS as error:
        if args.debug:
            raise
        sys.stderr.write(f"{PROG}: error: {error}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except Exception as error:  # noqa: BLE001 - one line for the user, --debug for more
        if args.debug:
            raise
        sys.stderr.write(f"{PROG}: failed: {type(error).__name__}: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
