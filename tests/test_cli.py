import json
import re

import numpy as np
import pytest

from keras_rnninit import __version__
from keras_rnninit.cli import main
from tests.helpers import run_python


def run_main(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


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


def test_demo_compares_exports_and_refuses_rerun(capsys, tmp_path, monkeypatch):
    from keras_rnninit.export.runner import TFLiteRunner

    timed = []  # (input shape, ms) of every LiteRT latency measurement
    measure = TFLiteRunner.latency_ms

    def spy(self, x, *args, **kwargs):
        timed.append((np.shape(x), measure(self, x, *args, **kwargs)))
        return timed[-1][1]

    monkeypatch.setattr(TFLiteRunner, "latency_ms", spy)
    argv = [
        "demo",
        "--steps",
        "100",
        "--length",
        "6",
        "--units",
        "4",
        "--out",
        str(tmp_path / "demo"),
        "--export",
        str(tmp_path / "d.tflite"),
    ]
    code, out, err = run_main(capsys, *argv)
    assert code == 0, err
    for scheme in ("xavier_rnn", "keras_default", "orthogonal", "he", "uniform01"):
        assert f"| `{scheme}` |" in out
    assert "parity with Keras in LiteRT" in out
    # LiteRT is timed on one sequence of the demo's T=6 (the export's own
    # timing runs at T=5, its first verification length), and printed beside
    # Keras compiled (tf.function) and eager.
    line = next(x for x in out.splitlines() if x.startswith("latency per sequence"))
    litert = [ms for shape, ms in timed if shape == (1, 6, 2)]
    assert len(litert) == 1 and f"LiteRT {litert[0]:.3f} ms" in line, (timed, line)
    pattern = r"tf\.function (\S+) ms \((\S+)x\), eager (\S+) ms \((\S+)x\)"
    match = re.search(pattern, line)
    assert match, line
    compiled, compiled_x, eager, eager_x = map(float, match.groups())
    assert compiled_x == pytest.approx(compiled / litert[0], rel=0.1, abs=0.1)
    assert eager_x == pytest.approx(eager / litert[0], rel=0.1, abs=1)
    # Three seeds, a statistics table and no single-seed winner.
    assert "| scheme | solved |" in out and "| `xavier_rnn` | " in out
    assert "best: " not in out and "exported run: xavier_rnn seed " in out
    assert (tmp_path / "d.tflite").exists() and (tmp_path / "d.json").exists()
    assert len(list((tmp_path / "demo" / "models").glob("*.keras"))) == 15
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    assert {row["runs"] for row in report["statistics"].values()} == {3}
    assert (tmp_path / "demo" / "survival.png").exists()
    code, _, err = run_main(capsys, *argv)
    assert code == 2 and "pass --force" in err
    code, _, err = run_main(capsys, *argv, "--force")
    assert code == 0, err


def test_python_dash_m_entry_point():
    done = run_python("-m", "keras_rnninit", "--version", timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == __version__


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    from keras_rnninit import schemes

    path = tmp_path_factory.mktemp("models") / "adding.keras"
    schemes.get("xavier_rnn").build_model(input_dim=2, units=8, seed=0).save(path)
    return path


def test_export_prints_table_and_refuses_overwrite(capsys, saved_model, tmp_path):
    out = tmp_path / "adding.tflite"
    code, stdout, err = run_main(capsys, "export", str(saved_model), "-o", str(out))
    assert code == 0, err
    for key in ("file", "ops", "parity", "latency", "builtins only"):
        assert key in stdout
    assert out.exists() and (tmp_path / "adding.json").exists()
    before = out.read_bytes()
    code, _, err = run_main(capsys, "export", str(saved_model), "-o", str(out))
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert out.read_bytes() == before
    code, _, err = run_main(
        capsys,
        "export",
        str(saved_model),
        "-o",
        str(out),
        "--force",
        "--quantize",
        "float16",
    )
    assert code == 0, err
    assert json.loads((tmp_path / "adding.json").read_text())["quantize"] == "float16"


def test_export_int8_with_representative_file(capsys, saved_model, tmp_path):
    data = tmp_path / "rep.npy"
    np.save(data, np.random.default_rng(0).normal(size=(32, 10, 2)).astype("float32"))
    out = tmp_path / "q.tflite"
    code, stdout, err = run_main(
        capsys,
        "export",
        str(saved_model),
        "-o",
        str(out),
        "--quantize",
        "int8",
        "--representative",
        str(data),
    )
    assert code == 0, err
    assert "int8" in stdout and "WHILE" not in stdout


@pytest.mark.parametrize(
    "case, code, fragment",
    [
        ("missing", 2, "`model` must be an existing .keras file"),
        ("corrupt", 1, "could not be loaded as a Keras model"),
        ("int8_no_data", 2, "`representative_data` must be given"),
        ("bad_quantize", 2, "invalid choice: 'int4'"),
        ("bad_dir", 2, "`path` must be in an existing folder"),
    ],
)
def test_export_errors(capsys, saved_model, tmp_path, case, code, fragment):
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"junk")
    argv = {
        "missing": ["export", str(tmp_path / "none.keras")],
        "corrupt": ["export", str(corrupt), "-o", str(tmp_path / "c.tflite")],
        "int8_no_data": [
            "export",
            str(saved_model),
            "-o",
            str(tmp_path / "q.tflite"),
            "--quantize",
            "int8",
        ],
        "bad_quantize": ["export", str(saved_model), "--quantize", "int4"],
        "bad_dir": [
            "export",
            str(saved_model),
            "-o",
            str(tmp_path / "no" / "m.tflite"),
        ],
    }[case]
    got, _, err = run_main(capsys, *argv)
    assert got == code and fragment in err and err.count("\n") == 1
    assert not list(tmp_path.glob("*.tflite"))


def test_compare_writes_report_and_refuses_existing_out(capsys, tmp_path):
    out = tmp_path / "cmp"
    argv = [
        "compare",
        "--task",
        "adding",
        "--length",
        "6",
        "--schemes",
        "xavier_rnn,uniform01",
        "--seeds",
        "0",
        "--steps",
        "100",
        "--units",
        "4",
        "--out",
        str(out),
    ]
    code, stdout, err = run_main(capsys, *argv)
    assert code == 0, err
    assert "| `xavier_rnn` |" in stdout and "| `uniform01` |" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["command"] == "keras-rnninit " + " ".join(argv)
    assert sorted(p.name for p in out.iterdir()) == [
        "grad_through_time.png",
        "loss_curves.png",
        "models",
        "report.json",
        "report.md",
        "runs",
        "spectral_radius.png",
        "state_variance.png",
        "survival.png",
    ]
    before = (out / "report.json").read_bytes()
    code, _, err = run_main(capsys, *argv)
    assert code == 2 and "exists; pass --force" in err and err.count("\n") == 1
    assert (out / "report.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]  # no temp folder left


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


def test_diagnose_prints_and_writes(capsys, tmp_path):
    out = tmp_path / "diag"
    code, stdout, err = run_main(
        capsys,
        "diagnose",
        "--scheme",
        "xavier_rnn,uniform01",
        # 64 units: uniform01's pre-activations (~32) round tanh to exactly 1,
        # so its gradient is exactly 0 (with 32 units it is ~1e-276, not 0).
        "--units",
        "64",
        "--length",
        "30",
        "--draws",
        "1",
        "--out",
        str(out),
    )
    assert code == 0, err
    lines = {
        line.split()[0]: line
        for line in stdout.splitlines()
        if line.startswith("  ") and "scheme" not in line
    }
    assert "-inf (=0)" in lines["uniform01"]
    assert float(lines["uniform01"].split()[4].rstrip("%")) > 90  # saturated
    reports = json.loads((out / "diagnose.json").read_text())
    assert [r["scheme"] for r in reports] == ["xavier_rnn", "uniform01"]
    assert reports[1]["log10_ratio"] == "-inf"
    assert (out / "diagnose.png").read_bytes()[:4] == b"\x89PNG"


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
    from keras_rnninit.cli import _seed_list

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
