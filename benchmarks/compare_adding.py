"""Convergence benchmark: steps to test MSE < 0.01 on the adding problem,
over many seeds, with the statistics of `keras-rnninit compare` (solved
fraction, Kaplan-Meier median, speed-up over keras_default, all with 95%
intervals; survival.png).

    .venv/bin/python benchmarks/compare_adding.py --seeds 0-19           # T=50
    .venv/bin/python benchmarks/compare_adding.py --length 100 --steps 4000 \
        --seeds 0-9 --out benchmarks/results/adding_T100
    .venv/bin/python benchmarks/compare_adding.py --seeds 0-19 --executor ray \
        [--ray-address HOST:PORT]                                # on a cluster
    .venv/bin/python benchmarks/compare_adding.py --cell lstm --length 150 \
        --schemes keras_default,chrono,orthogonal --clipnorm 1 --seeds 0-9
    .venv/bin/python benchmarks/compare_adding.py --quick  # tiny, for the tests

SimpleRNN(64) (as FastSimpleRNN, like every comparison run; `--cell lstm|gru`:
Keras' LSTM/GRU(64) instead), Adam 1e-3,
batch 64, test MSE every 100 steps. Writes the full comparison report (JSON,
compressed to report.json.xz as committed, see benchmarks/archive.py;
Markdown; plots) to benchmarks/results/adding_T<length>/, prints its
statistics table and the wall time. `--resume` continues an interrupted
sweep. Run on demand; not part of the unit tests.
"""

import argparse
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import archive  # noqa: E402

from keras_rnninit.cli import CELLS, main  # noqa: E402

SCHEMES = "xavier_rnn,orthogonal,he,keras_default,pytorch_default,irnn,uniform01"


def run(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--clipnorm", type=float)
    parser.add_argument("--schemes", default=SCHEMES)
    parser.add_argument(
        "--cell",
        choices=CELLS,
        default="simple",
        help="the recurrent cell (default: simple); lstm/gru write to "
        "results/<cell>_adding_T<length>/",
    )
    parser.add_argument("--seeds", default="0-19", help="e.g. 0-19 or 0,3,5-9")
    parser.add_argument("--executor", choices=["local", "ray"], default="local")
    parser.add_argument("--ray-address", metavar="HOST:PORT")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.steps, args.seeds = 8, 200, "0-2"
        args.schemes = "xavier_rnn,uniform01"
    prefix = "" if args.cell == "simple" else f"{args.cell}_"
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "results",
        f"{prefix}adding_T{args.length}",
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
        "--cell",
        args.cell,
        "--executor",
        args.executor,
        "--resume" if args.resume else "--force",
    ]
    if args.ray_address:
        cli += ["--ray-address", args.ray_address]
    if args.clipnorm:
        cli += ["--clipnorm", str(args.clipnorm)]
    if args.quick:
        cli += ["--units", "8", "--eval-every", "100"]
    start = time.perf_counter()
    code = main(cli)
    if code == 0:
        archive.compress(out)
    print(
        f"wall time: {time.perf_counter() - start:.0f} s on {os.cpu_count()} CPU(s) "
        f"({platform.processor() or platform.machine()}), executor {args.executor}"
    )
    return code


if __name__ == "__main__":
    sys.exit(run())
