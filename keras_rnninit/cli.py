"""`keras-rnninit` lives in the top-level module `keras_rnninit_cli` (so that
`--help` does not import TensorFlow); this module re-exports it."""

from keras_rnninit_cli import USAGE_ERRORS, build_parser, main

__all__ = ["USAGE_ERRORS", "build_parser", "main"]
