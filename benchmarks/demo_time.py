"""`make demo`'s wall time, training on TensorFlow (before 0.2) against the
backend the command line now picks (JAX when installed).

    .venv/bin/python benchmarks/demo_time.py            # ~7 minutes
    .venv/bin/python benchmarks/demo_time.py --quick    # for the tests

Times `keras-rnninit demo --force` (the command `make demo` runs, its
default 5 schemes x 3 seeds x 1,500 steps at T=20, the report, the export and
its LiteRT check included) from process start to exit, with
`--backend tensorflow` and with no flag (the pick), alternating, `--rounds`
times each, in fresh processes with no KERAS_BACKEND set. Writes
benchmarks/results/demo_time.json and prints a table.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = {"tensorflow (before)": ["--backend", "tensorflow"], "picked (after)": []}


def run(out, extra, quick):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = os.path.dirname(HERE)
    command = [sys.executable, "-m", "keras_rnninit", "demo", "--force"]
    command += [
        "-o",
        os.path.join(out, "demo"),
        "--export",
        os.path.join(out, "d.tflite"),
    ]
    if quick:
        command += ["--steps", "100", "--length", "6", "--units", "4"]
    start = time.perf_counter()
    done = subprocess.run([*command, *extra], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"demo {' '.join(extra)} failed:\n{done.stderr[-2000:]}")
    first = done.stdout.splitlines()[0]
    return wall, first.split("training on ")[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "demo_time.json")
    )
    args = parser.parse_args(argv)
    walls, trained_on = {name: [] for name in VARIANTS}, {}
    scratch = tempfile.mkdtemp(prefix="demo_time-")
    try:
        for r in range(1 if args.quick else args.rounds):
            names = list(VARIANTS) if r % 2 == 0 else list(VARIANTS)[::-1]
            for name in names:
                wall, trained_on[name] = run(scratch, VARIANTS[name], args.quick)
                walls[name].append(wall)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = {
        name: {
            "command": "keras-rnninit demo --force " + " ".join(VARIANTS[name]),
            "training_on": trained_on[name],
            "wall_s_min": min(times),
            "wall_s_median": statistics.median(times),
            "samples_s": times,
        }
        for name, times in walls.items()
    }
    before, after = (rows[name]["wall_s_min"] for name in VARIANTS)
    result = {
        "benchmark": "demo_time",
        "command": "python benchmarks/demo_time.py",
        "quick": args.quick,
        "rows": rows,
        "speedup_min": before / after,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(result, file, indent=1)
    print("| demo | trains on | wall s (min / median) |")
    print("|---|---|---|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['training_on']} | "
            f"{row['wall_s_min']:.1f} / {row['wall_s_median']:.1f} |"
        )
    print(f"speed-up (min / min): {result['speedup_min']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
