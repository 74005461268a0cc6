"""`keras-rnninit diagnose`: --cell lstm / gru gives the numbers of the Python
API's `diagnose` on the same seeded models (which tests/diagnostics/test_gated.py
checks against tf.GradientTape on the real layer), a scheme x cell that does
not exist is refused before anything is printed or written, and the variance
columns name each step once."""

import json

import keras
import numpy as np
import pytest

from keras_rnninit import schemes
from keras_rnninit.diagnostics import diagnose
from tests.helpers import run_main

# Small and seeded: 2 draws, so the averaging over draws is exercised.
SETTING = dict(units=6, length=12, input_dim=3, batch=4, draws=2, seed=3)


def cli_argv(cell, scheme, out, **setting):
    s = {**SETTING, **setting}
    return [
        "diagnose", "--cell", cell, "--schemes", scheme,
        "--units", s["units"], "--length", s["length"],
        "--input-dim", s["input_dim"], "--batch-size", s["batch"],
        "--draws", s["draws"], "--seed", s["seed"], "--out", out,
    ]  # fmt: skip


def python_api(scheme, cell, units, length, input_dim, batch, draws, seed):
    """The documented protocol by hand: draw k is the model of seed + k, then
    x ~ N(0, 1) (batch, length, input_dim) and y ~ N(0, 1) (batch, 1) from one
    `default_rng(seed)`; `diagnose(..., loss="mse")`; per-draw reports and the
    candidate block of each model's recurrent kernel. A length-aware scheme
    is set for `length` (chrono_length: T_max = 3T/2)."""
    rng = np.random.default_rng(seed)
    reports, blocks = [], []
    for draw in range(draws):
        model = (
            schemes.get(scheme)
            .for_length(length)
            .build_model(input_dim=input_dim, units=units, seed=seed + draw, cell=cell)
        )
        x = rng.normal(size=(batch, length, input_dim)).astype("float32")
        y = rng.normal(size=(batch, 1)).astype("float32")
        reports.append(diagnose(model, x, y, loss="mse"))
        layer = model.get_layer("rnn")
        assert isinstance(
            layer, {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
        )
        kernel = layer.cell.recurrent_kernel
        # Keras' gate order: LSTM i, f, c, o; GRU z, r, h. c / h is block 2.
        blocks.append(keras.ops.convert_to_numpy(kernel)[:, 2 * units : 3 * units])
    return reports, blocks


def table_rows(stdout):
    """{scheme: [numbers of its row]} and the header's column names."""
    lines = stdout.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("scheme"))
    rows = {}
    for line in lines[lines.index(header) + 1 :]:
        if line.startswith("  "):
            name, *values = line.split()
            rows[name] = values
    return header, rows


@pytest.mark.slow
@pytest.mark.parametrize(
    "cell, scheme",
    [("lstm", "keras_default"), ("gru", "chrono"), ("lstm", "chrono_length")],
)
def test_gated_cell_matches_the_python_api(capsys, tmp_path, cell, scheme):
    code, stdout, err = run_main(
        capsys, *map(str, cli_argv(cell, scheme, tmp_path / "d"))
    )
    assert code == 0, err
    (report,) = json.loads((tmp_path / "d" / "diagnose.json").read_text())
    assert (report["scheme"], report["cell"]) == (scheme, cell)

    expected, blocks = python_api(scheme, cell, **SETTING)
    for key in ("variance", "mean", "saturated", "log10_grad_norms"):
        mean = np.mean([r[key] for r in expected], axis=0)
        np.testing.assert_allclose(report[key], mean, rtol=1e-12, err_msg=key)
    assert report["log10_ratio"] == pytest.approx(
        np.mean([r["log10_ratio"] for r in expected]), rel=1e-12
    )
    # `radius` is the spectral radius of the candidate block of Whh, by numpy.
    radius = np.mean([np.max(np.abs(np.linalg.eigvals(b))) for b in blocks])
    assert report["spectral_radius"] == pytest.approx(radius, rel=1e-9)

    # The printed row carries the same numbers.
    header, rows = table_rows(stdout)
    assert f"{cell} cell" in stdout and "candidate block" in stdout
    assert header.split()[1:4] == ["var", "h_1", "var"]
    values = rows[scheme]
    variance = np.mean([r["variance"] for r in expected], axis=0)
    assert values[0] == f"{variance[0]:.3f}"  # var h_1
    assert values[1] == f"{variance[9]:.3f}"  # var h_10
    assert values[2] == f"{variance[-1]:.3f}"  # var h_12
    assert values[-2] == f"{radius:.3f}"


@pytest.mark.parametrize(
    "argv, fragment",
    [
        # chrono defines LSTM and GRU only: refused even after a good scheme.
        (
            ["--schemes", "xavier_rnn,chrono"],
            "`cell` must be one of gru, lstm for scheme 'chrono'. "
            "Received: cell='simple'",
        ),
        (
            ["--cell", "lstm", "--schemes", "keras_default,uniform01"],
            "`cell` must be one of simple for scheme 'uniform01'. "
            "Received: cell='lstm'",
        ),
        (["--cell", "rnn"], "argument --cell: invalid choice: 'rnn'"),
    ],
)
def test_scheme_without_the_cell_is_refused_before_any_output(
    capsys, tmp_path, argv, fragment
):
    out = tmp_path / "new" / "d"
    code, stdout, err = run_main(capsys, "diagnose", *argv, "--out", str(out))
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and fragment in err, err
    assert list(tmp_path.iterdir()) == []  # not even the parent folder


def test_gated_cell_on_another_backend_is_refused(capsys, tmp_path, monkeypatch):
    # The LSTM/GRU diagnostics step the cell under tf.GradientTape.
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    out = tmp_path / "d"
    code, stdout, err = run_main(capsys, "diagnose", "--cell", "gru", "--out", str(out))
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert "`cell` must be 'simple' on the jax backend" in err
    assert "Received: cell='gru'" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("length, steps", [(1, [1]), (7, [1, 7]), (10, [1, 10])])
def test_each_variance_column_is_a_different_step(capsys, tmp_path, length, steps):
    argv = cli_argv("simple", "xavier_rnn", tmp_path / "d", length=length, draws=1)
    code, stdout, err = run_main(capsys, *map(str, argv))
    assert code == 0, err
    header, rows = table_rows(stdout)
    assert [f"h_{t}" for t in steps] == [w for w in header.split() if w[:2] == "h_"]
    (report,) = json.loads((tmp_path / "d" / "diagnose.json").read_text())
    printed = rows["xavier_rnn"][: len(steps)]
    assert printed == [f"{report['variance'][t - 1]:.3f}" for t in steps]
    assert rows["xavier_rnn"][len(steps)].endswith("%")  # then `saturated`
