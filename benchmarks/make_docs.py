"""Regenerate the small PNGs in docs/ that the README shows.

    make docs     # or: .venv/bin/python benchmarks/make_docs.py

- docs/adding_T50_loss_curves.png, docs/adding_T50_grad_through_time.png:
  re-plotted from benchmarks/results/adding_T50/report.json (produced by
  `benchmarks/compare_adding.py`), at a small size;
- docs/<name>_survival.png for each folder in SURVIVAL: the survival plot of
  benchmarks/results/<name>/ (written there by `benchmarks/compare_adding.py`);
- docs/signal_propagation.png: `keras-rnninit diagnose --scheme
  xavier_rnn,keras_default,uniform01,irnn --units 256 --length 100`.
"""

import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_rnninit.cli import main as cli  # noqa: E402
from keras_rnninit.compare.plots import write_plots  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(os.path.dirname(HERE), "docs")
# The comparison reports whose survival plots the README shows.
SURVIVAL = ("adding_T50", "adding_T100", "lstm_adding_T150")


def main():
    os.makedirs(DOCS, exist_ok=True)
    with open(os.path.join(HERE, "results", "adding_T50", "report.json")) as file:
        records = json.load(file)["records"]
    for name in SURVIVAL:
        shutil.copy(
            os.path.join(HERE, "results", name, "survival.png"),
            os.path.join(DOCS, f"{name}_survival.png"),
        )
    with tempfile.TemporaryDirectory() as folder:
        write_plots(records, folder, dpi=70)
        for name in ("loss_curves", "grad_through_time"):
            shutil.copy(
                os.path.join(folder, f"{name}.png"),
                os.path.join(DOCS, f"adding_T50_{name}.png"),
            )
        out = os.path.join(folder, "diagnose")
        code = cli(
            [
                "diagnose",
                "--scheme",
                "xavier_rnn,keras_default,uniform01,irnn",
                "--units",
                "256",
                "--length",
                "100",
                "--out",
                out,
            ]
        )
        if code:
            return code
        shutil.copy(
            os.path.join(out, "diagnose.png"),
            os.path.join(DOCS, "signal_propagation.png"),
        )
    print(
        f"wrote {DOCS}/adding_T50_loss_curves.png, adding_T50_grad_through_time.png, "
        "signal_propagation.png, "
        + ", ".join(f"{name}_survival.png" for name in SURVIVAL)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
