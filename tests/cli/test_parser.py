"""The parser built from parent parsers: one set of flags, per-command defaults."""

import os
import re
import subprocess
import sys

import keras
import pytest

from keras_rnninit import FastSimpleRNN, __version__, schemes, tasks
from keras_rnninit.cli import CELLS, GATED_SCHEMES, TASKS, build_parser, main
from tests.helpers import REPO, run_main, run_python


def parse(*argv):
    return build_parser().parse_args(list(argv))


# No TF_CPP_MIN_LOG_LEVEL: the command line must be quiet without help.
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


ENV["PYTHONPATH"] = REPO


DIAGNOSE = ["diagnose", "--units", "8", "--length", "5", "--draws", "1"]


def cli(*argv):
    return subprocess.run(
        [sys.executable, "-m", "keras_rnninit", *map(str, argv)],
        env=ENV,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((5, 2)), FastSimpleRNN(4), keras.layers.Dense(1)]
    )
    path = tmp_path_factory.mktemp("quiet") / "m.keras"
    model.save(path)
    return path


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


def test_help_and_version(capsys):
    code, out, _ = run_main(capsys, "--help")
    assert code == 0 and "demo" in out
    code, out, _ = run_main(capsys, "--version")
    assert code == 0 and out.strip() == __version__


@pytest.mark.parametrize(
    "argv, fragment",
    [
        ([], "the following arguments are required: COMMAND"),
        (["nope"], "invalid choice: 'nope'"),
        (["demo", "--steps", "0"], "must be a positive int. Received: '0'"),
        (["demo", "--steps", "ten"], "must be a positive int. Received: 'ten'"),
        (["demo", "--seeds", "-1"], "must be comma-separated ints >= 0 or ranges"),
        (["demo", "--seeds", "5-2"], "Received: '5-2'"),
        (
            ["demo", "--length", "1"],
            "`length` must be >= 2 for the adding task. Received: length=1",
        ),
    ],
)
def test_usage_errors_are_one_line_exit_2(capsys, argv, fragment):
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1
    assert re.match(r"keras-rnninit( demo)?: error: ", err)
    assert fragment in err


def test_python_dash_m_entry_point():
    done = run_python("-m", "keras_rnninit", "--version", timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == __version__


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["compare", "--task", "parity"], "invalid choice: 'parity'"),
        (
            ["compare", "--schemes", "xavier_rnn,nope"],
            "`name` must be one of critical_tanh, he, irnn",
        ),
        (["compare", "--schemes", "a,,b"], "must be comma-separated names"),
        (["compare", "--seeds", "0,x"], "must be comma-separated ints >= 0"),
        (["compare", "--lr", "-1"], "must be a positive number. Received: '-1'"),
        (["compare", "--steps", "150"], "`steps` must be a multiple of `eval_every`"),
        (
            ["diagnose", "--scheme", "bogus"],
            "`name` must be one of critical_tanh, he, irnn",
        ),
        (["diagnose", "--units", "0"], "must be a positive int"),
    ],
)
def test_compare_and_diagnose_usage_errors(capsys, tmp_path, argv, fragment):
    code, _, err = run_main(
        capsys, *argv, *(["--out", str(tmp_path / "o")] if argv[0] == "compare" else [])
    )
    assert code == 2 and fragment in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_help_usage_errors_and_recommend_do_not_import_tensorflow():
    script = (
        "import sys, keras_rnninit.cli\n"
        "for argv in (['--help'], ['--version'], ['compare', '--steps', 'x'],\n"
        "             ['recommend', '--length', '150']):\n"
        "    try:\n"
        "        keras_rnninit.cli.main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('keras', 'jax', 'tensorflow')\n"
        "             if m in sys.modules))\n"
    )
    done = run_python("-c", script)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "uniform_diag: solved" in done.stdout  # recommend ran and answered
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_seed_ranges_and_lists():
    from keras_rnninit.cli.parser import _seed_list

    assert _seed_list("0-19") == list(range(20))
    assert _seed_list("0,3,5-9") == [0, 3, 5, 6, 7, 8, 9]
    assert _seed_list("4") == [4]
    assert len(_seed_list("0-9999")) == 10_000
    args = main.__globals__["build_parser"]().parse_args(
        ["compare", "--seeds", "2-4,7"]
    )
    assert args.seeds == [2, 3, 4, 7]


def test_seed_ranges_are_counted_before_they_are_built(capsys, tmp_path):
    # A billion seeds would fill memory if the list were built first.
    code, _, err = run_main(
        capsys, "compare", "--seeds", "0-999999999", "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert "must name at most 10000 seeds. Received: '0-999999999'" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["demo", "--seeds", "0,1"], "`seeds` must hold at least 3 seeds"),
        (["compare", "--seeds", "0-2,1"], "`seeds` must not repeat a seed"),
        (["compare", "--executor", "dask"], "invalid choice: 'dask'"),
        (["compare", "--ray-address", "127.0.0.1:6379"], "needs `executor='ray'`"),
        (
            ["compare", "--executor", "ray", "--ray-address", "nohost"],
            "`ray_address` must be HOST:PORT. Received: ray_address='nohost'",
        ),
        (
            ["compare", "--executor", "ray", "--distribute", "mirrored"],
            "`distribute` cannot be combined with `executor='ray'`",
        ),
        (["compare", "--reference", "he"], "`--reference` must be one of the"),
    ],
)
def test_evidence_usage_errors(capsys, tmp_path, argv, fragment):
    out = ["--out", str(tmp_path / "o")]
    if argv[0] == "demo":
        out += ["--export", str(tmp_path / "d.tflite")]
    code, _, err = run_main(capsys, *argv, *out)
    assert code == 2 and fragment in err and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_diagnose_writes_nothing_to_stderr():
    done = cli(*DIAGNOSE)
    assert done.returncode == 0 and done.stderr == ""
    assert "xavier_rnn" in done.stdout


@pytest.mark.slow
def test_export_writes_nothing_to_stderr(model_file, tmp_path):
    done = cli("export", model_file, "-o", tmp_path / "m.tflite", "--seq-len", "5")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "builtins only" in done.stdout


@pytest.mark.slow
def test_bad_input_is_exactly_one_line(tmp_path):
    done = cli("export", tmp_path / "none.keras", "-o", tmp_path / "m.tflite")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("keras-rnninit: ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_verbose_brings_the_backend_logs_back():
    done = cli("--verbose", *DIAGNOSE)
    assert done.returncode == 0
    assert done.stderr != ""  # TensorFlow's own lines, as without the CLI


@pytest.mark.parametrize(
    "extra, need",
    [
        ([], None),
        (["--cell", "lstm", "--schemes", "chrono"], "LSTM and GRU diagnostics"),
        (["--distribute", "mirrored"], "--distribute needs TensorFlow"),
        (["--model", "m.keras", "--data", "d.npz"], "your own model"),
        (["--executor", "ray", "--ray-address", "h:1"], "a Ray cluster's workers"),
        # The stacked engine is JAX's, on a cluster too: nothing needs TF.
        (["--executor", "ray", "--ray-address", "h:1", "--engine", "stacked"], None),
    ],
)
def test_what_makes_a_comparison_need_tensorflow(extra, need):
    from keras_rnninit.cli.parser import tensorflow_need

    found = tensorflow_need(build_parser().parse_args(["compare", *extra]))
    assert found == need if need is None else need in found


def test_a_backend_other_than_the_loaded_one_is_one_line_exit_2(capsys, tmp_path):
    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    code, out, err = run_main(
        capsys,
        "compare",
        "--backend",
        other,
        "--steps",
        "10",
        "-o",
        str(tmp_path / "c"),
    )
    assert code == 2 and not (tmp_path / "c").exists()
    assert f"`backend` must be {keras.backend.backend()}, the backend" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra, backend, reason",
    [
        ([], "jax", "the fastest installed trainer"),
        (["--backend", "tensorflow"], "tensorflow", "--backend"),
    ],
)
def test_the_command_line_trains_on_the_backend_it_chooses(
    tmp_path, extra, backend, reason
):
    """A child with no KERAS_BACKEND: a SimpleRNN comparison trains on JAX
    (installed here), unless --backend says otherwise; the record says so."""
    from tests.helpers import python_env, tiny_compare_argv

    env = python_env()
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run(
        [
            sys.executable,
            *tiny_compare_argv(tmp_path / "c", "xavier_rnn", "0", 20),
            "--eval-every",
            "10",
            *extra,
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Keras on {backend} ({reason})" in done.stderr
    record = (tmp_path / "c" / "runs" / "xavier_rnn-seed0.json").read_text()
    assert f'"backend": "{backend}"' in record
