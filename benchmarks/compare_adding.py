"""Convergence benchmark: steps to test MSE < 0.01 on the adding problem.

    .venv/bin/python benchmarks/compare_adding.py          # T=50, 4000 steps
    .venv/bin/python benchmarks/compare_adding.py --length 150 --steps 12000 \
        --clipnorm 1
    .venv/bin/python benchmarks/compare_adding.py --quick  # tiny, for the tests

SimpleRNN(64) (as FastSimpleRNN, like every comparison run), Adam 1e-3,
batch 64, test MSE every 100 steps, seeds 0 and 1 (DESIGN.md, "Convergence
facts"). Writes the full comparison report (JSON,
Markdown, plots) to benchmarks/results/adding_T<length>/ and prints its table.
Target (issue 3): xavier_rnn reaches test MSE < 0.01 at T=50 while uniform01
stays near 0.17. Run on demand; not part of the unit tests.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_rnninit.cli import main  # noqa: E402

SCHEMES = "xavier_rnn,orthogonal,he,keras_default,pytorch_default,irnn,uniform01"


def run(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--clipnorm", type=float)
    parser.add_argument("--schemes", default=SCHEMES)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--out", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.steps, args.seeds = 8, 200, "0"
        args.schemes = "xavier_rnn,uniform01"
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", f"adding_T{args.length}"
    )
    cli = [
        "compare",
        "--task",
        "adding",
        "--length",
        str(args.length),
        "--steps",
        str(args.steps),
        "--schemes",
        args.schemes,
        "--seeds",
        args.seeds,
        "--out",
        out,
        "--force",
    ]
    if args.clipnorm:
        cli += ["--clipnorm", str(args.clipnorm)]
    if args.quick:
        cli += ["--units", "8", "--eval-every", "100"]
    return main(cli)


if __name__ == "__main__":
    sys.exit(run())
