"""Memory of FastSimpleRNN's XLA compilations over many distinct sequence lengths.

    .venv/bin/python benchmarks/xla_cache_memory.py           # ~2 minutes
    .venv/bin/python benchmarks/xla_cache_memory.py --quick   # for the tests

Each variant runs in a fresh process: one training step (forward and backward,
`training=True`) of FastSimpleRNN(64) on a batch of 32 for every length
T = 1..N, reading the resident set size (VmRSS) before the first length and
after every `--every` lengths. Variants: the shipped cap
(`recurrence.MAX_COMPILED_SHAPES`), the cap lifted (every length compiled, as
before the cap existed), and `jit_compile=False` (no XLA). Writes
benchmarks/results/xla_cache_memory.json and prints a Markdown table.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = ("capped", "uncapped", "no_xla")

CHILD = r"""
import json, sys
import numpy as np, tensorflow as tf
from keras_rnninit.layers.recurrence import tensorflow as recurrence
from keras_rnninit.layers import FastSimpleRNN

variant, lengths, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if variant == "uncapped":
    recurrence.MAX_COMPILED_SHAPES = 10**9

def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

layer = FastSimpleRNN(64, seed=0, jit_compile=variant != "no_xla")
x = np.random.default_rng(0).normal(size=(32, lengths, 8)).astype("float32")
layer(x[:, :1])
samples = [[0, rss_mib()]]
for steps in range(1, lengths + 1):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x[:, :steps], training=True))
    tape.gradient(loss, layer.trainable_variables)
    if steps % every == 0:
        samples.append([steps, rss_mib()])
print(json.dumps({"samples": samples, "compiled": len(recurrence._compiled)}))
"""


def run(variant, lengths, every):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    env["PYTHONPATH"] = os.path.dirname(HERE)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant, str(lengths), str(every)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        sys.exit(f"{variant} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, default=200)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--quick", action="store_true", help="6 lengths")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "xla_cache_memory.json")
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.lengths, args.every = 6, 3
    results = {v: run(v, args.lengths, args.every) for v in VARIANTS}
    report = {"lengths": args.lengths, "units": 64, "batch": 32, "results": results}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    growth = f"RSS growth after {args.lengths} lengths (MiB)"
    print(f"| variant | compiled shapes | {growth} |")
    print("|---|---|---|")
    for variant, result in results.items():
        first, last = result["samples"][0][1], result["samples"][-1][1]
        print(f"| {variant} | {result['compiled']} | {last - first:.0f} |")


if __name__ == "__main__":
    main()
