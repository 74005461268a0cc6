import json
import re

import numpy as np
import pytest

from tests.helpers import run_main


@pytest.mark.slow
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
    # `make demo` trains on JAX in a child process and exports here, on
    # TensorFlow: the same report and export from a `.keras` file that
    # crossed backends.
    code, out, err = run_main(capsys, *argv, "--force", "--backend", "jax")
    assert code == 0, err
    assert "training on jax (--backend)" in out and "parity with Keras" in out
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    assert {r["versions"]["backend"] for r in report["records"]} == {"jax"}
    assert len(report["records"]) == 15 and (tmp_path / "d.tflite").exists()
