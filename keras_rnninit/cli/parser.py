"""`keras-rnninit` command line: argument parsing, dispatch, exit codes.

Importing this module imports neither Keras nor TensorFlow (the package root
is lazy, see `keras_rnninit/__init__.py`), so `--help`, `--version` and usage
errors are fast; `keras_rnninit.cli.commands` is imported only to run a command.

While a command runs, the process's file descriptor 2 points at /dev/null, so
the lines TensorFlow's C++ code writes there at import (absl, oneDNN, cudart)
never reach the user; our own messages still go to the real stderr. With
`--verbose` nothing is hidden.

Usage errors print one line and exit 2; failures print one line and exit 1
(add `--debug` for the traceback).
"""

import argparse
import contextlib
import importlib
import logging
import math
import os
import re
import sys

from keras_rnninit.version import __version__

__all__ = [
    "CELLS",
    "GATED_SCHEMES",
    "PROG",
    "TASKS",
    "USAGE_ERRORS",
    "build_parser",
    "main",
]

PROG = "keras-rnninit"
# The names of `keras_rnninit.tasks` (checked against it by the tests; listed
# here so that parsing imports nothing heavy).
TASKS = (
    "acsf1",
    "adding",
    "chars",
    "copy",
    "digits",
    "digits_permuted",
    "japanese_vowels",
    "osuleaf",
)
# Likewise `keras_rnninit.schemes.CELLS`, and the schemes that define the
# gated cells (`schemes.names("lstm")`, the same for "gru").
CELLS = ("gru", "lstm", "simple")
GATED_SCHEMES = (
    "chrono",
    "chrono_length",
    "keras_default",
    "orthogonal",
    "pytorch_default",
    "xavier_rnn",
)
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


def _checked(convert, test, message):
    """An argparse type: `convert(text)` passing `test`, else `message`."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not test(value):
            raise argparse.ArgumentTypeError(f"{message}. Received: {text!r}")
        return value

    return parse


positive_int = _checked(int, lambda v: v >= 1, "must be a positive int")
non_negative_int = _checked(int, lambda v: v >= 0, "must be an int >= 0")
positive_float = _checked(
    float, lambda v: 0 < v < float("inf"), "must be a positive number"
)
finite_float = _checked(float, math.isfinite, "must be a finite number")


def _name_list(text):
    """argparse type: comma-separated names, none empty."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"must be comma-separated names. Received: {text!r}"
        )
    return names


MAX_SEEDS = 10_000


def _seed_list(text):
    """argparse type: comma-separated ints >= 0 and ranges: `0-19`, `0,3,5-9`.

    At most `MAX_SEEDS` seeds in all, counted before any list is built (a
    typo like `0-999999999` is refused at once instead of filling memory).
    """
    ranges = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None or (match[2] is not None and int(match[2]) < int(match[1])):
            raise argparse.ArgumentTypeError(
                "must be comma-separated ints >= 0 or ranges like 0-19. "
                f"Received: {text!r}"
            )
        first = int(match[1])
        ranges.append(range(first, int(match[2] or first) + 1))
    if sum(len(r) for r in ranges) > MAX_SEEDS:
        raise argparse.ArgumentTypeError(
            f"must name at most {MAX_SEEDS} seeds. Received: {text!r}"
        )
    return [seed for r in ranges for seed in r]


# ------------------------------------------------------------ shared options
# Each builder returns a parent parser; the defaults differ per command, so
# every command gets its own (argparse shares a parent's actions, and
# `set_defaults` on one child would change the others).


def _parent():
    return argparse.ArgumentParser(add_help=False)


def _run_options():
    """--debug and --verbose, accepted before or after the command."""
    parent = _parent()
    parent.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    parent.add_argument(
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the backend's (TensorFlow, absl, XLA) log lines",
    )
    return parent


def _out_option(default, what):
    parent = _parent()
    parent.add_argument(
        "-o", "--out", default=default, help=f"{what} (default: {default or 'none'})"
    )
    parent.add_argument(
        "--force", action="store_true", help="replace an existing output"
    )
    return parent


def _model_options(length, units, length_default="%(default)s"):
    parent = _parent()
    parent.add_argument(
        "--length",
        type=positive_int,
        default=length,
        help=f"sequence length T (default: {length_default})",
    )
    parent.add_argument(
        "--units",
        type=positive_int,
        default=units,
        help="hidden units (default: %(default)s)",
    )
    return parent


def _training_options(steps, seeds, seeds_help):
    parent = _parent()
    parent.add_argument(
        "--steps",
        type=positive_int,
        default=steps,
        help="training steps per run (default: %(default)s)",
    )
    parent.add_argument(
        "--seeds",
        type=_seed_list,
        default=seeds,
        help=f"seeds: a list and ranges, e.g. 0-19 or 0,3,5-9 ({seeds_help})",
    )
    return parent


def _batch_option(default, what):
    parent = _parent()
    parent.add_argument(
        "--batch-size",
        type=positive_int,
        default=default,
        help=f"{what} (default: {default or 'none'})",
    )
    return parent


def _schemes_option(default):
    parent = _parent()
    parent.add_argument(
        "--schemes",
        "--scheme",
        dest="schemes",
        type=_name_list,
        default=default,
        help=f"comma-separated scheme names (default: {','.join(default)})",
    )
    return parent


def _cell_option():
    parent = _parent()
    parent.add_argument(
        "--cell",
        choices=CELLS,
        default="simple",
        help="the recurrent cell of every scheme's model (default: %(default)s; "
        f"lstm and gru need the tensorflow backend and one of the schemes "
        f"{', '.join(GATED_SCHEMES)})",
    )
    return parent


# ------------------------------------------------------------------ commands


def _add_demo(commands):
    demo = commands.add_parser(
        "demo",
        parents=[
            _run_options(),
            _model_options(length=20, units=64),
            _training_options(1500, [0, 1, 2], "at least 3; default: 0-2"),
            _batch_option(64, "training batch size"),
            _out_option(os.path.join("runs", "demo"), "report folder"),
        ],
        help="compare 5 inits over 3 seeds on the adding problem, export to TFLite",
    )
    demo.add_argument(
        "--export",
        default=os.path.join("export", "demo_adding.tflite"),
        help="exported model (default: export/demo_adding.tflite)",
    )
    demo.add_argument(
        "--backend",
        choices=("jax", "tensorflow"),
        help="the Keras backend that trains the comparison, in a child process "
        "if not tensorflow (default: KERAS_BACKEND if set, else jax when "
        "installed); the export runs on tensorflow",
    )


def _add_export(commands):
    export = commands.add_parser(
        "export",
        parents=[
            _run_options(),
            _batch_option(None, "fixed batch of the file, 1 if none"),
            _out_option(None, "destination .tflite; none: export/<model name>.tflite"),
        ],
        help="export a .keras model to builtins-only TFLite, verified in LiteRT",
    )
    export.add_argument("model", help="the .keras file to export")
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
        "--representative",
        metavar="NPY",
        help="typical inputs (n, T, features) for --quantize int8",
    )
    export.add_argument(
        "--trust-model",
        action="store_true",
        help="load MODEL with Keras safe mode off (lets Lambda layers load); "
        "only for your own files",
    )


def _add_compare(commands):
    compare = commands.add_parser(
        "compare",
        parents=[
            _run_options(),
            _schemes_option(["xavier_rnn", "keras_default", "uniform01"]),
            _cell_option(),
            _model_options(None, 64, "50; a dataset task: its own T"),
            _training_options(4000, [0, 1], "default: 0,1"),
            _batch_option(64, "training batch size"),
            _out_option(None, "report folder; none: runs/compare-TASK-TLENGTH"),
        ],
        help="train one model under several inits and write a report",
    )
    compare.add_argument(
        "--task",
        choices=TASKS,
        default="adding",
        help="the task (default: %(default)s)",
    )
    compare.add_argument(
        "--backend",
        choices=("jax", "tensorflow"),
        help="the Keras backend that trains (default: KERAS_BACKEND if set, "
        "else jax when installed and the job allows it, else tensorflow)",
    )
    compare.add_argument(
        "--reference",
        help="the scheme the others are compared with in the statistics "
        "(default: keras_default, else uniform01, else the first)",
    )
    for flag, kind, default, text in (
        ("--lr", positive_float, 1e-3, "Adam learning rate"),
        ("--clipnorm", positive_float, None, "clip each gradient to this norm"),
        ("--eval-every", positive_int, 100, "steps between test evaluations"),
    ):
        shown = "off" if default is None else "%(default)s"
        compare.add_argument(
            flag, type=kind, default=default, help=f"{text} (default: {shown})"
        )
    compare.add_argument(
        "--target",
        "--threshold",
        dest="threshold",
        metavar="X",
        type=finite_float,
        help="the monitored value that counts as solved (default: the task's; "
        "your model: none)",
    )
    own = compare.add_argument_group(
        "your own model and data (instead of --task; see docs/guides/compare.md)"
    )
    own.add_argument("--model", metavar="M.keras", help="a compiled Keras model file")
    own.add_argument(
        "--data", metavar="D.npz", help="arrays x and y (optionally x_val and y_val)"
    )
    own.add_argument("--validation", metavar="V.npz", help="validation arrays x and y")
    own.add_argument(
        "--validation-split",
        type=_checked(float, lambda v: 0 < v < 1, "must be a number in (0, 1)"),
        metavar="F",
        help="validate on the last fraction F of the data's rows, as Keras' "
        "validation_split",
    )
    own.add_argument(
        "--epochs",
        type=positive_int,
        help="passes over the data per run, instead of --steps",
    )
    own.add_argument(
        "--monitor",
        default="val_loss",
        help="the logged value that decides (default: %(default)s; loss "
        "when there is no validation data)",
    )
    own.add_argument(
        "--mode",
        choices=["max", "min"],
        help="the monitor's better direction (default: inferred as Keras' "
        "EarlyStopping infers it)",
    )
    own.add_argument(
        "--trust-model",
        action="store_true",
        help="load --model outside Keras' safe mode (it may run Python code)",
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
        "--engine",
        choices=["keras", "stacked"],
        default="keras",
        help="keras: each run (or each fused seed) through its own fit; "
        "stacked: the runs of one architecture share one compiled training "
        "step (JAX, built-in tasks; the same records; with --executor ray "
        "each seed's runs are one block, one task)",
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
    compare.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write each run into DIR/SCHEME/seedK for TensorBoard: curves, "
        "diagnostics and the HParams table (needs keras_rnninit[tensorboard])",
    )


def _add_diagnose(commands):
    diagnose = commands.add_parser(
        "diagnose",
        parents=[
            _run_options(),
            _schemes_option(["xavier_rnn"]),
            _cell_option(),
            _model_options(length=100, units=256),
            _batch_option(32, "probe sequences per draw"),
            _out_option(None, "folder for diagnose.json and diagnose.png"),
        ],
        help="signal propagation of schemes at initialization (no training)",
    )
    diagnose.add_argument(
        "--input-dim", type=positive_int, default=8, help="input features (default: 8)"
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


def _add_recommend(commands):
    recommend = commands.add_parser(
        "recommend",
        parents=[_run_options()],
        help="the scheme our sweeps support for a task and length (no training)",
    )
    recommend.add_argument(
        "--task",
        default="adding",
        help="a task the sweep measured (default: %(default)s)",
    )
    recommend.add_argument(
        "--length",
        type=positive_int,
        help="the dependency length T (required for adding and copy; a real "
        "dataset's own T by default)",
    )
    recommend.add_argument(
        "--evidence",
        metavar="JSON",
        help="a summary written by benchmarks/length_sweep.py or "
        "benchmarks/real_data.py (default: the two shipped in the package)",
    )
    recommend.add_argument(
        "--json",
        action="store_true",
        help="print the recommendation and its cell as JSON",
    )


def build_parser():
    parser = _Parser(
        prog=PROG,
        description="Initialization, diagnostics and TFLite export for vanilla RNNs.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback on errors"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show the backend's log lines"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for add in (_add_demo, _add_export, _add_compare, _add_diagnose, _add_recommend):
        add(commands)
    return parser


def _errors_only(record):
    return record.levelno >= logging.ERROR


@contextlib.contextmanager
def _quiet_backend(verbose):
    """Hide what the backend writes to fd 2 (TensorFlow's C++ logs), keep ours.

    Environment variables alone do not do it: TensorFlow's absl and oneDNN
    lines are written at import, before `TF_CPP_MIN_LOG_LEVEL` is read by
    every library that logs. So fd 2 points at /dev/null while the command
    runs, and if `sys.stderr` is the process's fd 2 it is rebound to a copy
    of the real stderr, so our messages (and Python warnings) still show.
    TensorFlow's Python loggers (`absl`, `tensorflow`) show errors only.
    """
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # TensorFlow's Python side logs through these ("WARNING:absl:...").
    # Their levels are reset by absl when it parses flags, so a filter.
    loggers = [logging.getLogger(name) for name in ("absl", "tensorflow")]
    for logger in loggers:
        logger.addFilter(_errors_only)
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    original = sys.stderr
    try:
        is_fd2 = original.fileno() == 2
    except (AttributeError, OSError, ValueError):  # e.g. pytest's capture
        is_fd2 = False
    if is_fd2:
        sys.stderr = open(  # noqa: SIM115 - closed below
            saved, "w", buffering=1, encoding=original.encoding, closefd=False
        )
    try:
        yield
    finally:
        sys.stderr.flush()
        if is_fd2:
            sys.stderr.close()
            sys.stderr = original
        os.dup2(saved, 2)
        os.close(saved)
        for logger in loggers:
            logger.removeFilter(_errors_only)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `keras-rnninit` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    with _quiet_backend(args.verbose):
        return _run(args)


def tensorflow_need(args):
    """Why a `compare` job needs TensorFlow, or None if any backend trains it."""
    if args.model is not None or args.data is not None:
        return "comparisons on your own model run on TensorFlow"
    if args.cell != "simple":
        return "LSTM and GRU diagnostics need TensorFlow"
    if args.distribute is not None:
        return "--distribute needs TensorFlow"
    if args.ray_address is not None and args.engine == "keras":
        # The stacked engine is JAX's: the cluster's nodes must run JAX too
        # (a worker on another backend refuses in one line).
        return "a Ray cluster's workers start on TensorFlow unless told otherwise"
    return None


def _choose_backend(args):
    """The backend that trains, set before Keras is imported
    (`utils/backends.py`): `compare`'s, and the demo's comparison (the demo
    itself runs on TensorFlow, which its export needs). Other commands keep
    Keras' own default."""
    if args.command not in ("compare", "demo"):
        return
    from keras_rnninit.utils.backends import Choice, choose, require_installed, use

    need = tensorflow_need(args) if args.command == "compare" else None
    args.backend_choice = choose(args.backend, need)
    if args.command == "demo":
        require_installed(args.backend_choice.backend)  # its child's
        use(Choice("tensorflow", "the export needs TensorFlow"))
    else:
        use(args.backend_choice)


def _reader_left():
    """True if stdout is a pipe whose reader has closed it (POLLERR)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no fd (pytest), no poll
        return False


def _run(args):
    try:
        _choose_backend(args)
        commands = importlib.import_module("keras_rnninit.cli.commands")
        code = getattr(commands, args.command)(args)
        # Write what is buffered now (an 8 KiB block when stdout is a pipe),
        # so a reader that left is seen here, not at interpreter exit.
        sys.stdout.flush()
        return code
    except USAGE_ERRORS as error:
        if args.debug:
            raise
        # The library names its arguments (overwrite=True); we, our flags.
        message = error.cli_message() if hasattr(error, "cli_message") else error
        sys.stderr.write(f"{PROG}: error: {message}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except Exception as error:  # noqa: BLE001 - one line for the user, --debug for more
        if args.debug:
            raise
        if isinstance(error, BrokenPipeError) and _reader_left():
            # `... | head`: no message, and no second error when Python
            # flushes stdout at exit (the Python docs' recipe, signal module).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            return 1
        sys.stderr.write(f"{PROG}: failed: {type(error).__name__}: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
