"""`keras-rnninit` command line: argument parsing, dispatch, exit codes.

A top-level module on purpose: importing the `keras_rnninit` package imports
Keras and TensorFlow (it must, to register the classes), which costs seconds.
Here `--help` and usage errors need nothing heavy; `keras_rnninit.commands`
is imported only to run a command, after TF's log level is set.

Usage errors print one line and exit 2; failures print one line and exit 1
(add `--debug` for the traceback).
"""

import argparse
import importlib
import os
import re
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


def name_list(text):
    """argparse type: comma-separated names, none empty."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"must be comma-separated names. Received: {text!r}"
        )
    return names


def seed_list(text):
    """argparse type: comma-separated ints >= 0 and ranges: `0-19`, `0,3,5-9`."""
    seeds = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None or (match[2] is not None and int(match[2]) < int(match[1])):
            raise argparse.ArgumentTypeError(
                "must be comma-separated ints >= 0 or ranges like 0-19. "
                f"Received: {text!r}"
            )
        first = int(match[1])
        seeds += range(first, int(match[2] or first) + 1)
    return seeds


def positive_float(text):
    """argparse type: a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(
            f"must be a positive number. Received: {text!r}"
        )
    return value


def version():
    """The installed version, read without importing the package."""
    from importlib import metadata

    try:
        return metadata.version("keras_rnninit")
    except metadata.PackageNotFoundError:  # a source checkout on PYTHONPATH
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "keras_rnninit", "version.py")) as file:
            return re.search(r'__version__ = "([^"]+)"', file.read()).group(1)


def build_parser():
    parser = _Parser(
        prog=PROG,
        description="Initialization, diagnostics and TFLite export for vanilla RNNs.",
    )
    parser.add_argument("--version", action="version", version=version())
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback on errors"
    )
    commands_parser = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands_parser.required = True

    demo = commands_parser.add_parser(
        "demo",
        help="compare 5 inits over 3 seeds on the adding problem, export to TFLite",
    )
    demo.add_argument(
        "--steps",
        type=positive_int,
        default=1500,
        help="training steps per run (default: 1500)",
    )
    demo.add_argument(
        "--length",
        type=positive_int,
        default=20,
        help="sequence length T (default: 20)",
    )
    demo.add_argument(
        "--units", type=positive_int, default=64, help="hidden units (default: 64)"
    )
    demo.add_argument(
        "--seeds",
        type=seed_list,
        default=[0, 1, 2],
        help="seeds of data and weights, at least 3: a list and ranges (default: 0-2)",
    )
    demo.add_argument(
        "--out",
        default=os.path.join("runs", "demo"),
        help="report folder (default: runs/demo)",
    )
    demo.add_argument(
        "--export",
        default=os.path.join("export", "demo_adding.tflite"),
        help="exported model (default: export/demo_adding.tflite)",
    )
    demo.add_argument(
        "--force", action="store_true", help="replace the outputs of an earlier demo"
    )
    demo.set_defaults(command="demo")

    export = commands_parser.add_parser(
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
    export.add_argument(
        "--trust-model",
        action="store_true",
        help="load MODEL with Keras safe mode off (lets Lambda layers load); "
        "only for your own files",
    )
    export.set_defaults(command="export")

    compare = commands_parser.add_parser(
        "compare", help="train one model under several inits and write a report"
    )
    compare.add_argument(
        "--task", default="adding", help="adding, chars or copy (default: adding)"
    )
    compare.add_argument(
        "--length",
        type=positive_int,
        default=50,
        help="sequence length T (default: 50)",
    )
    compare.add_argument(
        "--schemes",
        type=name_list,
        default=["xavier_rnn", "keras_default", "uniform01"],
        help="comma-separated scheme names "
        "(default: xavier_rnn,keras_default,uniform01)",
    )
    compare.add_argument(
        "--seeds",
        type=seed_list,
        default=[0, 1],
        help="seeds: a list and ranges, e.g. 0-19 or 0,3,5-9 (default: 0,1)",
    )
    compare.add_argument(
        "--reference",
        help="the scheme the others are compared with in the statistics "
        "(default: keras_default, else uniform01, else the first)",
    )
    compare.add_argument(
        "--steps",
        type=positive_int,
        default=4000,
        help="training steps per run (default: 4000)",
    )
    compare.add_argument(
        "--units", type=positive_int, default=64, help="hidden units (default: 64)"
    )
    compare.add_argument(
        "--batch-size", type=positive_int, default=64, help="batch size (default: 64)"
    )
    compare.add_argument(
        "--lr",
        type=positive_float,
        default=1e-3,
        help="Adam learning rate (default: 0.001)",
    )
    compare.add_argument(
        "--clipnorm",
        type=positive_float,
        help="clip each gradient to this norm (default: off)",
    )
    compare.add_argument(
        "--eval-every",
        type=positive_int,
        default=100,
        help="steps between test evaluations (default: 100)",
    )
    compare.add_argument(
        "--threshold",
        type=positive_float,
        help="test metric that counts as solved (default: the task's)",
    )
    compare.add_argument(
        "--out", help="report folder (default: runs/compare-TASK-TLENGTH)"
    )
    compare.add_argument(
        "--force", action="store_true", help="replace an existing report folder"
    )
    compare.add_argument(
        "--sequential",
        action="store_true",
        help="train one model per run instead of fusing the schemes of a seed",
    )
    compare.add_argument(
        "--distribute",
        choices=["mirrored"],
        help="train each run with tf.distribute.MirroredStrategy over local devices",
    )
    compare.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="where the runs train: this process, or Ray tasks (needs "
        "keras_rnninit[ray]; default: local)",
    )
    compare.add_argument(
        "--ray-address",
        metavar="HOST:PORT",
        help="a running Ray cluster for --executor ray (default: start a "
        "local Ray instance)",
    )
    compare.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted comparison, reusing its finished runs",
    )
    compare.set_defaults(command="compare")

    diagnose = commands_parser.add_parser(
        "diagnose", help="signal propagation of schemes at initialization (no training)"
    )
    diagnose.add_argument(
        "--scheme",
        type=name_list,
        default=["xavier_rnn"],
        help="comma-separated scheme names (default: xavier_rnn)",
    )
    diagnose.add_argument(
        "--units", type=positive_int, default=256, help="hidden units (default: 256)"
    )
    diagnose.add_argument(
        "--length",
        type=positive_int,
        default=100,
        help="sequence length T (default: 100)",
    )
    diagnose.add_argument(
        "--input-dim", type=positive_int, default=8, help="input features (default: 8)"
    )
    diagnose.add_argument(
        "--batch",
        type=positive_int,
        default=32,
        help="probe sequences per draw (default: 32)",
    )
    diagnose.add_argument(
        "--draws",
        type=positive_int,
        default=3,
        help="independent weight draws averaged (default: 3)",
    )
    diagnose.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of weights and data (default: 0)",
    )
    diagnose.add_argument("--out", help="folder for diagnose.json and diagnose.png")
    diagnose.add_argument(
        "--force", action="store_true", help="replace an existing --out folder"
    )
    diagnose.set_defaults(command="diagnose")
    return parser


def main(argv=None):
    """Entry point of the `keras-rnninit` console script; returns the exit code."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        commands = importlib.import_module("keras_rnninit.commands")
        return getattr(commands, args.command)(args)
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
