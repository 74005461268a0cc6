"""The parser built from parent parsers: one set of flags, per-command defaults."""

import pytest

from keras_rnninit import schemes, tasks
from keras_rnninit.cli import CELLS, GATED_SCHEMES, TASKS, build_parser


def parse(*argv):
    return build_parser().parse_args(list(argv))


def test_task_choices_are_the_registered_tasks():
    assert sorted(TASKS) == sorted(tasks.names())


def test_cell_choices_are_the_schemes_cells():
    assert sorted(CELLS) == sorted(schemes.CELLS)
    assert list(GATED_SCHEMES) == schemes.names("lstm") == schemes.names("gru")


@pytest.mark.parametrize("command", ["compare", "diagnose"])
def test_one_cell_option_for_compare_and_diagnose(command):
    assert parse(command).cell == "simple"
    assert parse(command, "--cell", "lstm").cell == "lstm"
    assert parse(command, "--cell", "gru").cell == "gru"


def test_each_command_keeps_its_own_defaults():
    assert (parse("demo").length, parse("demo").units) == (20, 64)
    # compare: no --length is the task's (50; a dataset's own T, CompareConfig).
    assert (parse("compare").length, parse("compare").steps) == (None, 4000)
    assert (parse("diagnose").length, parse("diagnose").units) == (100, 256)
    assert parse("compare").schemes == ["xavier_rnn", "keras_default", "uniform01"]
    assert parse("diagnose").schemes == ["xavier_rnn"]
    assert parse("demo").batch_size == parse("compare").batch_size == 64
    assert parse("diagnose").batch_size == 32
    assert parse("export", "m.keras").batch_size is None


@pytest.mark.parametrize("command", ["compare", "diagnose"])
def test_schemes_and_its_alias(command):
    assert parse(command, "--schemes", "he,irnn").schemes == ["he", "irnn"]
    assert parse(command, "--scheme", "he").schemes == ["he"]


@pytest.mark.parametrize(
    "argv", [["demo"], ["compare"], ["diagnose"], ["export", "m.keras"]]
)
def test_one_output_flag_and_run_options_everywhere(argv):
    assert parse(*argv, "-o", "x").out == "x"
    assert parse(*argv, "--out", "x").out == "x"
    args = parse(*argv, "--verbose", "--debug")
    assert args.verbose and args.debug
    args = parse("--debug", *argv)  # before the command, too
    assert args.debug and not args.verbose
