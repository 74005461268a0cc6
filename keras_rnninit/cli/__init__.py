"""The command line, `keras-rnninit`: the parser (`parser.py`, which imports
no Keras, so `--help` is fast), the commands' bodies (`commands.py`, where the
heavy imports happen) and the main job of `make demo` (`demo.py`)."""

from keras_rnninit.cli.parser import (
    CELLS,
    GATED_SCHEMES,
    PROG,
    TASKS,
    USAGE_ERRORS,
    build_parser,
    main,
)

__all__ = [
    "CELLS",
    "GATED_SCHEMES",
    "PROG",
    "TASKS",
    "USAGE_ERRORS",
    "build_parser",
    "main",
]
