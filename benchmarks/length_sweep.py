"""Length sweep: which initialization solves which dependency length.

    .venv/bin/python benchmarks/length_sweep.py                 # full protocol
    .venv/bin/python benchmarks/length_sweep.py --task adding --lengths 150 \
        --seeds 0,1,2,3 --schemes np_rnn,critical_tanh,irnn   # a subset
    .venv/bin/python benchmarks/length_sweep.py --quick --out /tmp/sweep
    .venv/bin/python benchmarks/length_sweep.py --executor ray \
        --ray-address HOST:PORT                          # seeds as Ray tasks

One protocol for every cell: `keras_rnninit.compare.compare` with the
runner's defaults (SimpleRNN(64), Adam 1e-3, batch 64, test metric on 1000
held-out sequences every 100 steps), clipnorm 1 and `--steps` (10,000)
steps; "solved" means the task's threshold (adding: test MSE < 0.01; copy:
0.1 x the memoryless baseline) was reached within the budget. The full
protocol is adding T in {50, 100, 150, 200} and copy T in {50, 100}, seeds
0..9, every scheme in SCHEMES.

With `--cell lstm` (or `gru`) every run trains an LSTM(64) (GRU(64)) in place
of the SimpleRNN, on TensorFlow (their diagnostics need it); its rows sit in
the same table as the SimpleRNN rows, named with their cell ("`chrono_length`
(LSTM)"), and `recommend` ranks them together. A length-aware scheme
(`chrono_length`) is set for each length it runs at.

With `--executor ray` each seed's runs train as one Ray task (on a cluster
with `--ray-address`, else on a local Ray instance), the records coming back
to this process; the results are the local executor's.

Each run's record is appended to `<out>/records.jsonl` as soon as it
finishes, so an interrupted sweep resumes where it stopped and subsets
accumulate (records archived as `records.jsonl.xz` by benchmarks/archive.py
are read first). From all records the script writes the summary (per task,
length, scheme: runs, solved, Wilson 95% interval, median steps to
threshold; read by `keras_rnninit.schemes.recommend`, so it ships in the
package as `keras_rnninit/schemes/evidence/length_sweep.json`; with another `--out`,
`<out>/summary.json`), `<out>/table.md`, one survival plot per cell,
`<docs>/length_sweep_<task>_T<length>.png`, and the same tables with the
plots between the length_sweep markers of `--page` (the site's "Long range"
page, docs/long_range.md), linked relative to that page.
"""

import argparse
import json
import lzma
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from scipy.stats import binomtest  # noqa: E402

import keras_rnninit.schemes as scheme_registry  # noqa: E402  (no Keras yet)
from keras_rnninit.schemes.guidance import CELL_TYPES, seed_ranges  # noqa: E402
from keras_rnninit.utils import backends  # noqa: E402

LONG_RANGE = ["critical_tanh", "irnn_xavier", "np_rnn", "spectral_095", "uniform_diag"]
SCHEMES = LONG_RANGE + ["irnn", "keras_default", "orthogonal", "xavier_rnn"]
PROTOCOL = {"adding": [50, 100, 150, 200], "copy": [50, 100]}
STEPS, CLIPNORM, SEEDS = 10000, 1.0, list(range(10))
COMMAND = "python benchmarks/length_sweep.py"
OUT = os.path.join(HERE, "results", "length_sweep")


def _ints(text):
    return [int(v) for v in text.split(",") if v]


def wilson(solved, runs):
    """The Wilson 95% interval of solved / runs."""
    ci = binomtest(solved, runs).proportion_ci(confidence_level=0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def load(path, key=None):
    """All records of `records.jsonl`, the latest per `key(record)` (default:
    task, length, scheme, seed, steps, clipnorm).

    Records archived beside it as `records.jsonl.xz` (benchmarks/archive.py
    --records) come first, then the lines appended since, so a later record
    of a run replaces an archived one."""
    key = key or _key
    records = {}
    for r in read_lines(path):
        records[key(r)] = r
    return records


def read_lines(path):
    """Every record of `path` in order: the archived `path`.xz, then `path`."""
    if os.path.exists(path + ".xz"):
        with lzma.open(path + ".xz", "rt", encoding="utf-8") as f:
            yield from (json.loads(line) for line in f)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            yield from (json.loads(line) for line in f)


def _key(r):
    return (
        r["task"],
        r["length"],
        r["scheme"],
        cell_of(r),
        r["seed"],
        r["steps"],
        r["clipnorm"],
    )


def cell_of(record):
    """A record's recurrent cell; records from before `--cell` are SimpleRNN's."""
    return record.get("cell", "simple")


# Rows of one cell, as `recommend` breaks ties: SimpleRNN, then GRU, then LSTM.
CELL_ORDER = {cell: i for i, cell in enumerate(CELL_TYPES)}


def label(row, code=False):
    """A row's name in the tables: the scheme (as Markdown code with `code`),
    with its cell unless SimpleRNN."""
    cell = row.get("cell_type", "simple")
    name = f"`{row['scheme']}`" if code else row["scheme"]
    return name + ("" if cell == "simple" else f" ({cell.upper()})")


def _column(row):
    """A row's place among a table's columns: SimpleRNN rows first, by name."""
    return (CELL_ORDER[row.get("cell_type", "simple")], row["scheme"])


def slim(record):
    """What the sweep keeps of a comparison record."""
    config = record.config
    return {
        "task": config["task"],
        "length": config["length"],
        "scheme": record.scheme,
        "cell": config["cell"],
        "seed": record.seed,
        "steps": config["steps"],
        "clipnorm": config["clipnorm"],
        "units": config["units"],
        "batch_size": config["batch_size"],
        "learning_rate": config["learning_rate"],
        "threshold": record.threshold,
        "steps_to_threshold": record.steps_to_threshold,
        "best_test": record.best_test,
        "final_test": record.final_test,
        "diverged": record.diverged is not None,
        "wall_seconds": record.wall_seconds,
        "backend": record.versions.get("backend"),
    }


def summarize(records):
    """Per cell (task, length, steps, clipnorm): one row per scheme and
    recurrent cell (`cell_type`), SimpleRNN rows first."""
    cells = {}
    for r in records.values():
        cell = (r["task"], r["length"], r["steps"], r["clipnorm"])
        row = (CELL_ORDER[cell_of(r)], r["scheme"])
        cells.setdefault(cell, {}).setdefault(row, []).append(r)
    out = []
    for (task, length, steps, clipnorm), by_scheme in sorted(
        cells.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[0][2])
    ):
        if any(c["task"] == task and c["length"] == length for c in out):
            continue  # one budget per cell: the largest measured
        rows = []
        for (_, scheme), runs in sorted(by_scheme.items()):
            # Per-seed lists are in seed order, aligned with "seeds".
            runs = sorted(runs, key=lambda r: r["seed"])
            hits = [r["steps_to_threshold"] for r in runs]
            done = [h for h in hits if h is not None]
            rows.append(
                {
                    "scheme": scheme,
                    "cell_type": cell_of(runs[0]),
                    "activation": scheme_registry.get(scheme).activation,
                    "runs": len(runs),
                    "solved": len(done),
                    "interval": wilson(len(done), len(runs)),
                    "median_steps": statistics.median(done) if done else None,
                    "steps_to_threshold": hits,
                    "seeds": sorted(r["seed"] for r in runs),
                    "best_test": [r["best_test"] for r in runs],
                    "final_test": [r["final_test"] for r in runs],
                    "diverged": [r["diverged"] for r in runs],
                }
            )
        seeds = sorted({s for row in rows for s in row["seeds"]})
        out.append(
            {
                "task": task,
                "length": length,
                "steps": steps,
                "clipnorm": clipnorm,
                "threshold": next(iter(by_scheme.values()))[0]["threshold"],
                "seeds": seeds,
                "rows": rows,
            }
        )
    return out


def _fraction(row):
    low, high = row["interval"]
    median = "" if row["median_steps"] is None else f", median {row['median_steps']:g}"
    return f"{row['solved']}/{row['runs']} [{low:.2f}, {high:.2f}]{median}"


# A run whose final test metric ends this many times above its best blew up
# (or forgot what it had learnt) without a non-finite loss; the table says so.
BLEW_UP = 100


def outcome(hit, best, final, diverged, threshold):
    """One run in the per-seed table: its step to threshold, or "–" and its
    best test metric; then "diverged" if its loss turned non-finite (after
    reaching the threshold, or before any finite test value), else "ended at
    F" if its final test metric F is over BLEW_UP times its best and above
    the threshold (it ended unsolved)."""
    if best is None:
        return "– (diverged)"
    note = ""
    if diverged:
        note = "diverged" + (" later" if hit is not None else "")
    elif final is not None and final > max(BLEW_UP * best, threshold):
        note = f"ended at {final:.3g}"
    if hit is not None:
        return f"{hit:g}" + (f" ({note})" if note else "")
    return f"– ({best:.3f}" + (f", {note}" if note else "") + ")"


def per_seed(cell):
    """One cell's runs seed by seed (see `outcome`)."""
    seeds = cell["seeds"]
    lines = [
        f"{cell['task']} T={cell['length']}, steps to threshold per seed "
        "(–: not within the budget, best test metric in brackets; diverged: "
        f"the loss turned non-finite; ended at: a final test metric over {BLEW_UP}x "
        "the run's best and above the threshold):",
        "",
        "| scheme | " + " | ".join(str(seed) for seed in seeds) + " |",
        "|---|" + "---|" * len(seeds),
    ]
    for row in cell["rows"]:
        outcomes = zip(
            row["steps_to_threshold"],
            row["best_test"],
            row["final_test"],
            row["diverged"],
            strict=True,
        )
        runs = dict(zip(row["seeds"], outcomes, strict=True))
        shown = [
            outcome(*runs[seed], cell["threshold"]) if seed in runs else ""
            for seed in seeds
        ]
        lines.append(f"| {label(row, code=True)} | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"


def tables(cells, summary_path):
    """The sweep table and the 'which initialization for which length' table."""
    columns = {_column(r): r for c in cells for r in c["rows"]}
    order = sorted(columns)
    lines = [
        "| task | T | steps | clipnorm | seeds | "
        + " | ".join(label(columns[k], code=True) for k in order)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(order),
    ]
    for c in cells:
        by = {_column(row): row for row in c["rows"]}
        lines.append(
            f"| {c['task']} | {c['length']} | {c['steps']} | {c['clipnorm']} | "
            f"{_cell_seeds(c)} | "
            + " | ".join(_fraction(by[k]) if k in by else "–" for k in order)
            + " |"
        )
    guide = [
        "| task | T | recommended | solved [Wilson 95%] | seeds | steps |",
        "|---|---|---|---|---|---|",
    ]
    for c in cells:
        rec = scheme_registry.recommend(c["task"], c["length"], evidence=summary_path)
        low, high = rec.interval
        name = (
            label({"scheme": rec.scheme, "cell_type": rec.cell_type}, code=True)
            if rec.scheme
            else "none solved"
        )
        guide.append(
            f"| {c['task']} | {c['length']} | {name} | {rec.solved}/{rec.runs} "
            f"[{low:.2f}, {high:.2f}] | {seed_ranges(rec.seeds)} | {rec.steps} |"
        )
    return "\n".join(lines) + "\n", "\n".join(guide) + "\n"


def survival_plot(cell, path):
    """Left: fraction of seeds not yet solved against training step, per
    scheme. Right: each run's best test metric against the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, best) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=[3, 2])
    dashes = ["-", "--", ":", "-."]
    for i, row in enumerate(cell["rows"]):
        hits = sorted(h for h in row["steps_to_threshold"] if h is not None)
        xs, ys = [0], [1.0]
        for k, h in enumerate(hits, 1):
            xs += [h, h]
            ys += [ys[-1], 1 - k / row["runs"]]
        xs.append(cell["steps"])
        ys.append(ys[-1])
        name = f"{label(row)} ({row['solved']}/{row['runs']})"
        (line,) = ax.plot(xs, ys, dashes[i % 4], lw=2, label=name)
        values = [v for v in row["best_test"] if v is not None]
        best.plot([i] * len(values), values, "o", color=line.get_color(), alpha=0.7)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training step")
    ax.set_ylabel("fraction of seeds not yet solved")
    ax.set_title(
        f"{cell['task']} T={cell['length']}: seeds {_cell_seeds(cell)}, "
        f"clipnorm {cell['clipnorm']}"
    )
    ax.legend(fontsize=7)
    best.axhline(cell["threshold"], color="black", lw=0.8, ls=":", label="threshold")
    best.set_yscale("log")
    best.set_xticks(range(len(cell["rows"])), [label(r) for r in cell["rows"]])
    best.tick_params(axis="x", labelrotation=30, labelsize=7)
    best.set_ylabel("best test metric of each run")
    best.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell_seeds(cell):
    """The seeds of a cell, saying so when its rows ran different ones."""
    differ = len({tuple(row["seeds"]) for row in cell["rows"]}) > 1
    return seed_ranges(cell["seeds"]) + (" (not every row)" if differ else "")


BEGIN, END = "<!-- length_sweep:begin -->", "<!-- length_sweep:end -->"


def splice(page, text, markers=(BEGIN, END)):
    """Replace what lies between the `markers` of file `page` by `text`."""
    begin_marker, end_marker = markers
    with open(page, encoding="utf-8") as f:
        old = f.read()
    head, begin, rest = old.partition(begin_marker)
    _, end, tail = rest.partition(end_marker)
    if not (begin and end):
        raise ValueError(
            f"`page` must contain {begin_marker} and {end_marker}. "
            f"Received: page={page!r}"
        )
    with open(page, "w", encoding="utf-8") as f:
        f.write(head + begin_marker + "\n" + text + end_marker + tail)


def write_outputs(out, docs, page=None, summary_path=None):
    records = load(os.path.join(out, "records.jsonl"))
    cells = summarize(records)
    summary_path = summary_path or os.path.join(out, "summary.json")
    with open(summary_path, "w", encoding="utf-8") as f:
        json.dump({"command": COMMAND, "cells": cells}, f, indent=1)
        f.write("\n")
    sweep, guide = tables(cells, summary_path)
    with open(os.path.join(out, "table.md"), "w", encoding="utf-8") as f:
        f.write(sweep + "\n" + guide)
    os.makedirs(docs, exist_ok=True)
    for c in cells:
        survival_plot(
            c,
            os.path.join(docs, f"length_sweep_{c['task']}_T{c['length']}.png"),
        )
    if page:
        # The plots are linked relative to the page (docs/long_range.md: "").
        prefix = os.path.relpath(docs, os.path.dirname(os.path.abspath(page)))
        prefix = "" if prefix == "." else prefix.replace(os.sep, "/") + "/"
        plots = "".join(
            f"![{c['task']} T={c['length']} survival]({prefix}length_sweep_"
            f"{c['task']}_T{c['length']}.png)\n"
            for c in cells
        )
        seeds = "\n".join(per_seed(c) for c in cells)
        splice(page, f"{guide}\n{sweep}\n{seeds}\n{plots}")
    return sweep, guide


def run(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(PROTOCOL), help="default: all")
    parser.add_argument("--lengths", type=_ints, help="default: the protocol's")
    parser.add_argument("--seeds", type=_ints, default=SEEDS)
    parser.add_argument(
        "--schemes",
        help="comma-separated scheme names (default: the protocol's nine "
        "SimpleRNN schemes; with --cell lstm|gru, every scheme of that cell)",
    )
    parser.add_argument(
        "--cell",
        choices=sorted(CELL_ORDER),
        default="simple",
        help="the recurrent cell of every run (default: simple, SimpleRNN(64); "
        "lstm and gru train on TensorFlow, which their diagnostics need)",
    )
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--clipnorm", type=float, default=CLIPNORM)
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--docs", default=os.path.join(os.path.dirname(HERE), "docs"))
    parser.add_argument(
        "--page",
        help="file whose length_sweep markers get the tables (default: "
        "docs/long_range.md; with --quick: none)",
    )
    # The tables used to live in the README; the old spelling still works.
    parser.add_argument("--readme", dest="page", help=argparse.SUPPRESS)
    parser.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="where the runs train: this process, or one Ray task per seed "
        "(needs keras_rnninit[ray]; default: local)",
    )
    parser.add_argument(
        "--ray-address",
        metavar="HOST:PORT",
        help="a running Ray cluster for --executor ray (default: start a local "
        "Ray instance)",
    )
    parser.add_argument(
        "--backend",
        choices=["jax", "tensorflow"],
        help="the Keras backend that trains (default: KERAS_BACKEND, else jax "
        "when installed; keras_rnninit/utils/backends.py)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny, for the tests")
    args = parser.parse_args(argv)
    # Chosen before Keras is imported (SimpleRNN cells: any backend trains).
    why = "LSTM and GRU diagnostics need TensorFlow"
    needs = None if args.cell == "simple" else why
    choice = backends.choose(args.backend, needs=needs)
    backends.use(choice)
    print(f"Keras on {choice.backend} ({choice.reason})", file=sys.stderr)
    from keras_rnninit.compare import compare

    extra = {}
    if args.quick:
        plan = {"adding": [8]}
        gated = "chrono_length,keras_default"
        schemes = "np_rnn,xavier_rnn" if args.cell == "simple" else gated
        args.seeds, args.steps, args.schemes = [0, 1], 200, schemes
        args.docs = args.out
        args.page = args.page or ""
        extra = {"units": 8, "test_size": 200}
    elif args.task:
        plan = {args.task: args.lengths or PROTOCOL[args.task]}
    else:
        plan = {t: args.lengths or ls for t, ls in PROTOCOL.items()}
    if args.page is None:
        args.page = os.path.join(os.path.dirname(HERE), "docs", "long_range.md")
    if args.schemes is None:
        simple = args.cell == "simple"
        args.schemes = ",".join(SCHEMES if simple else scheme_registry.names(args.cell))
    names = args.schemes.split(",")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "records.jsonl")
    done = load(path)
    for task, lengths in plan.items():
        for length in lengths:
            completed = {}
            for r in done.values():
                if (
                    (r["task"], r["length"], r["steps"], r["clipnorm"], cell_of(r))
                    == (task, length, args.steps, args.clipnorm, args.cell)
                    and r["scheme"] in names
                    and r["seed"] in args.seeds
                ):
                    completed[(r["scheme"], r["seed"])] = r
            pending = len(names) * len(args.seeds) - len(completed)
            where = f"{task} T={length}" + (
                "" if args.cell == "simple" else f" ({args.cell})"
            )
            print(f"{where}: {pending} runs to train", file=sys.stderr)
            start = time.perf_counter()

            def save(record):
                with open(path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(slim(record)) + "\n")

            # Seeds whose every scheme is done are skipped; a partly done seed
            # trains again (fused), and only its new records are saved.
            todo = [
                s for s in args.seeds if any((n, s) not in completed for n in names)
            ]
            if todo:
                compare(
                    names,
                    seeds=todo,
                    task=task,
                    length=length,
                    steps=args.steps,
                    clipnorm=args.clipnorm,
                    progress=None,
                    on_record=save,
                    completed={k: v for k, v in completed.items() if k[1] in todo},
                    executor=args.executor,
                    ray_address=args.ray_address,
                    cell=args.cell,
                    **extra,
                )
            print(
                f"{where}: {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )
    # The committed sweep's summary is the package's evidence (see the docstring).
    same = os.path.abspath(args.out) == os.path.abspath(OUT)
    summary = scheme_registry.EVIDENCE if same and not args.quick else None
    sweep, guide = write_outputs(args.out, args.docs, args.page, summary)
    print(sweep + "\n" + guide)
    return 0


if __name__ == "__main__":
    sys.exit(run())
