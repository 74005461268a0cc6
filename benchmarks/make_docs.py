"""Regenerate the small PNGs in docs/ that the site's pages show.

    make docs     # or: .venv/bin/python benchmarks/make_docs.py

- the plots of every committed comparison report (benchmarks/results/<name>/,
  beside its report.md), drawn from its report.json.xz (benchmarks/archive.py);
- docs/<name>_loss_curves.png, docs/<name>_grad_through_time.png for each
  folder in REPLOT (adding_T50, long_range_T150): re-plotted from
  benchmarks/results/<name>/report.json.xz (produced by
  `benchmarks/compare_adding.py`), at a small size;
- docs/<name>_survival.png for each folder in SURVIVAL: the survival plot of
  benchmarks/results/<name>/ (written there by `benchmarks/compare_adding.py`);
- docs/signal_propagation.png: `keras-rnninit diagnose --scheme
  xavier_rnn,keras_default,uniform01,irnn --units 256 --length 100`.
"""

import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import archive  # noqa: E402

from keras_rnninit.cli import main as cli  # noqa: E402
from keras_rnninit.compare.plots import write_plots  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(os.path.dirname(HERE), "docs")
# The comparison reports whose survival plots the site's pages show.
SURVIVAL = ("adding_T50", "adding_T100", "lstm_adding_T150")
# The comparison reports whose curves the site's pages show, re-plotted small.
REPLOT = ("adding_T50", "long_range_T150")
PLOTS = ("loss_curves", "grad_through_time")


def main():
    os.makedirs(DOCS, exist_ok=True)
    # Each committed report's own plots (its report.md shows them), drawn from
    # its report.json.xz: they are not committed (benchmarks/archive.py).
    for folder in archive.folders():
        archive.draw_plots(folder)
    for name in SURVIVAL:
        shutil.copy(
            os.path.join(HERE, "results", name, "survival.png"),
            os.path.join(DOCS, f"{name}_survival.png"),
        )
    with tempfile.TemporaryDirectory() as folder:
        for report in REPLOT:
            records = archive.load(os.path.join(HERE, "results", report))["records"]
            plots = os.path.join(folder, report)
            os.makedirs(plots)
            write_plots(records, plots, dpi=70)
            for name in PLOTS:
                shutil.copy(
                    os.path.join(plots, f"{name}.png"),
                    os.path.join(DOCS, f"{report}_{name}.png"),
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
    written = [f"{r}_{name}.png" for r in REPLOT for name in PLOTS]
    written += ["signal_propagation.png"]
    written += [f"{name}_survival.png" for name in SURVIVAL]
    print(f"wrote {DOCS}/" + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
