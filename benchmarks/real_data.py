"""Real data: do the initializations that win on synthetic tasks win on real sequences?

    .venv/bin/python benchmarks/real_data.py                    # the whole protocol
    .venv/bin/python benchmarks/real_data.py --datasets digits --cells simple \
        --lrs 0.001                                             # one cell
    .venv/bin/python benchmarks/real_data.py --report-only      # pages from the records
    .venv/bin/python benchmarks/real_data.py --quick --out /tmp/real   # tiny, for tests

The protocol (stated in docs/real_data.md before the 10-seed runs): each
dataset task of `keras_rnninit.tasks` (its fixed, stratified, seeded split;
`keras_rnninit/tasks/datasets.py`) is trained by `keras_rnninit.compare.compare`
with the runner's model (one recurrent layer of 64 units + Dense), Adam at
each learning rate of LRS, clipnorm 1, batch 64, BUDGET[dataset] steps, the
test accuracy on the whole test split every 100 steps, seeds 0-9, every scheme
of CELLS[cell]. "Solved" is the task's registered target accuracy. SimpleRNN
cells train on JAX, LSTM cells on TensorFlow (gated cells need it), each job
(dataset, cell, learning rate) in its own process.

Each run's record is appended to `<out>/records.jsonl` when it finishes and
each job's wall time to `<out>/jobs.jsonl`, so an interrupted sweep resumes
where it stopped (the committed records are archived as records.jsonl.xz by
benchmarks/archive.py --records, read first, then any lines appended since).
From all records the script writes `<out>/summary.json`,
the evidence `schemes.recommend` reads for the real datasets (for the
committed results the package's `keras_rnninit/schemes/evidence/real_data.json`,
else `<out>/evidence.json`),
the tables between the real_data markers of `--page` (docs/real_data.md) and
one survival plot per (dataset, cell) at the shared learning rate,
`<docs>/real_data_<dataset>_<cell>.png`: they regenerate byte for byte.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from length_sweep import load as load_records  # noqa: E402
from length_sweep import splice  # noqa: E402

BUDGET = {
    "digits": 3000,
    "digits_permuted": 3000,
    "japanese_vowels": 2000,
    "osuleaf": 2000,  # joined the protocol on 2026-12-06, before its first run
}
CELLS = {
    "simple": [
        "keras_default",
        "xavier_rnn",
        "orthogonal",
        "uniform_diag",
        "irnn_xavier",
    ],
    "lstm": ["keras_default", "chrono"],
}
BACKEND = {"simple": "jax", "lstm": "tensorflow"}
SHARED_LR, LRS = 1e-3, [1e-3, 3e-4, 3e-3]  # the shared rate runs first
SEEDS, CLIPNORM, REFERENCE, CLAIMED = (
    list(range(10)),
    1.0,
    "keras_default",
    "xavier_rnn",
)
COMMAND = "python benchmarks/real_data.py"
# What `keras_rnninit.schemes.recommend` reads for the real datasets.
EVIDENCE = os.path.join(ROOT, "keras_rnninit", "schemes", "evidence", "real_data.json")
OUT = os.path.join(HERE, "results", "real_data")
PAGE = os.path.join(ROOT, "docs", "real_data.md")
MARKERS = ("<!-- real_data:begin -->", "<!-- real_data:end -->")
# Published accuracies on the archive's own train/test split (not ours), as
# context. JapaneseVowels: Bagnall et al. (2018), the UEA archive's benchmark
# table, as reprinted in Table 13 of Sun et al. (ICLR 2024, "TEST") and in the
# teNN README (DTW only); the original table was not reachable from here.
PUBLISHED = {
    "japanese_vowels": "on the UEA archive's own split, 1-NN Euclidean 0.924, "
    "1-NN DTW_I 0.959, 1-NN DTW_D 0.949 (Bagnall et al. 2018)",
    # 1 - the error rates of the UCR archive's DataSummary.csv (Dau et al.).
    "osuleaf": "on the UCR archive's own split, 1-NN Euclidean 0.521, 1-NN DTW "
    "(learned window) 0.612, 1-NN DTW (full) 0.591 (Dau et al. 2019)",
}


def _floats(text):
    return [float(v) for v in text.split(",") if v]


def _ints(text):
    return [int(v) for v in text.split(",") if v]


def _key(r):
    c = r["config"]
    return (
        c["task"],
        c["cell"],
        c["learning_rate"],
        r["scheme"],
        r["seed"],
        c["steps"],
    )


def load(path):
    """The records of `path` (JSON lines), the latest per run key."""
    return load_records(path, _key)


def slim(record):
    """What the sweep keeps of a comparison record: enough for the
    statistics of `keras_rnninit.compare.statistics` and the plots."""
    config = record.config
    return {
        "config": {
            key: config[key]
            for key in (
                "task",
                "length",
                "cell",
                "units",
                "steps",
                "batch_size",
                "learning_rate",
                "clipnorm",
                "eval_every",
                "test_size",
            )
        },
        "backend": record.versions["backend"],
        "scheme": record.scheme,
        "seed": record.seed,
        "metric": record.metric,
        "mode": record.mode,
        "threshold": record.threshold,
        "steps_to_threshold": record.steps_to_threshold,
        "best_test": record.best_test,
        "final_test": record.final_test,
        "test_curve": record.curve["test"],
        "diverged": record.diverged is not None,
        "wall_seconds": record.wall_seconds,
    }


def _append(path, row):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def run_job(args):
    """One (dataset, cell, learning rate): the seeds not yet recorded. A job
    with none left imports no Keras (a resumed sweep passes through it in a
    fraction of a second)."""
    dataset, cell, lr = args.job[0], args.job[1], float(args.job[2])
    names = args.schemes or CELLS[cell]
    path = os.path.join(args.out, "records.jsonl")
    steps = args.steps or BUDGET[dataset]
    completed = {
        (r["scheme"], r["seed"]): r
        for r in load(path).values()
        if _key(r)[:3] == (dataset, cell, lr)
        and r["config"]["steps"] == steps
        and r["scheme"] in names
        and r["seed"] in args.seeds
    }
    todo = [s for s in args.seeds if any((n, s) not in completed for n in names)]
    if not todo:
        return 0
    from keras_rnninit.compare import compare

    start = time.perf_counter()
    extra = {"units": 8} if args.quick else {}
    compare(
        names,
        seeds=todo,
        task=dataset,
        cell=cell,
        steps=steps,
        learning_rate=lr,
        clipnorm=CLIPNORM,
        progress=None,
        on_record=lambda record: _append(path, slim(record)),
        completed={k: v for k, v in completed.items() if k[1] in todo},
        **extra,
    )
    _append(
        os.path.join(args.out, "jobs.jsonl"),
        {
            "task": dataset,
            "cell": cell,
            "learning_rate": lr,
            "steps": steps,
            "schemes": names,
            "seeds": todo,
            "wall_seconds": round(time.perf_counter() - start, 1),
        },
    )
    return 0


def _cells(records):
    """{(dataset, cell, steps): {lr: {scheme: [records by seed]}}}."""
    cells = {}
    for r in records.values():
        c = r["config"]
        by_lr = cells.setdefault((c["task"], c["cell"], c["steps"]), {})
        by_lr.setdefault(c["learning_rate"], {}).setdefault(r["scheme"], []).append(r)
    return cells


def summarize(records):
    """Per (dataset, cell, budget, learning rate): the comparison statistics
    against keras_default; per (dataset, cell): each scheme's best rate."""
    from keras_rnninit.compare.statistics import statistics

    out = []
    order = list(CELLS)
    for (dataset, cell, steps), by_lr in sorted(
        _cells(records).items(),
        key=lambda kv: (kv[0][0], order.index(kv[0][1]), kv[0][2]),
    ):
        rates = []
        for lr, by_scheme in sorted(by_lr.items()):
            runs = [r for scheme in CELLS[cell] for r in by_scheme.get(scheme, [])]
            runs += [
                r
                for s, rs in sorted(by_scheme.items())
                if s not in CELLS[cell]
                for r in rs
            ]
            runs = sorted(runs, key=lambda r: r["seed"])
            reference = REFERENCE if REFERENCE in by_scheme else None
            stats, comparisons = statistics(runs, reference)
            rows = []
            for scheme in sorted(stats, key=_scheme_order(cell)):
                mine = sorted(by_scheme[scheme], key=lambda r: r["seed"])
                rows.append(
                    {
                        "scheme": scheme,
                        "seeds": [r["seed"] for r in mine],
                        "steps_to_threshold": [r["steps_to_threshold"] for r in mine],
                        "final_test": [r["final_test"] for r in mine],
                        **stats[scheme],
                        "versus_reference": comparisons.get(scheme),
                    }
                )
            rates.append({"learning_rate": lr, "rows": rows})
        first = next(iter(next(iter(by_lr.values())).values()))[0]
        out.append(
            {
                "task": dataset,
                "cell": cell,
                "steps": steps,
                "length": first["config"]["length"],
                "units": first["config"]["units"],
                "threshold": first["threshold"],
                "backend": first["backend"],
                "rates": rates,
                "best_rate": _best_rates(rates),
            }
        )
    return out


def _scheme_order(cell):
    order = CELLS.get(cell, [])
    return lambda s: (order.index(s) if s in order else len(order), s)


def _best_rates(rates):
    """{scheme: the learning rate of its highest mean final accuracy} over
    the rates where it ran every seed of the shared rate."""
    shared = {
        r["scheme"]: r["seeds"]
        for rate in rates
        if rate["learning_rate"] == SHARED_LR
        for r in rate["rows"]
    }
    best = {}
    for rate in rates:
        for row in rate["rows"]:
            scheme, mean = row["scheme"], row["final_test_mean"]
            if mean is None or row["seeds"] != shared.get(scheme):
                continue
            if scheme not in best or mean > best[scheme][1]:
                best[scheme] = (rate["learning_rate"], mean)
    return {scheme: lr for scheme, (lr, _) in sorted(best.items())}


def _num(value, digits=3):
    if value is None:
        return "n/a"
    return "unbounded" if value == float("inf") else f"{value:.{digits}g}"


def _interval(pair, digits=3):
    low, high = pair
    if low is None and high is None:
        return "n/a"
    return f"{_num(low, digits)}–{'unbounded' if high is None else _num(high, digits)}"


def _p(value):
    return "" if value is None else f"{value:.2g}"


def nearest_neighbour(dataset):
    """Test accuracy of 1-NN with Euclidean distance on our split (padded
    steps are zeros on both sides): a reference classifier as context."""
    from sklearn.neighbors import KNeighborsClassifier

    from keras_rnninit.tasks.datasets import load_dataset

    data = load_dataset(dataset)
    flat = lambda x: x.reshape(len(x), -1)  # noqa: E731
    knn = KNeighborsClassifier(n_neighbors=1).fit(flat(data.x_train), data.y_train)
    return float(knn.score(flat(data.x_test), data.y_test))


def claim_line(rate):
    """Whether "xavier_rnn needs 2-10x fewer steps than keras_default" holds
    in this cell, stated whichever way it comes out."""
    from keras_rnninit.compare.statistics import claim_verdict

    rows = {row["scheme"]: row for row in rate["rows"]}
    if CLAIMED not in rows or REFERENCE not in rows:
        return ""
    versus = rows[CLAIMED]["versus_reference"]
    verdict = claim_verdict(versus["median_ratio_ci95"])
    ratio = versus["median_ratio"]
    return (
        f'Claim "{CLAIMED} needs 2–10x fewer steps than {REFERENCE}": **{verdict}** '
        f"(speed-up {_num(ratio)} [{_interval(versus['median_ratio_ci95'])}]; "
        f"final accuracy {CLAIMED} − {REFERENCE}: median of seeds "
        f"{_num(versus['final_difference_median'], 2)} "
        f"[{_interval(versus['final_difference_ci95'], 2)}]).\n"
    )


def cell_table(cell, rate):
    """The statistics of one (dataset, cell, rate) as a Markdown table."""
    lines = [
        f"| scheme | final accuracy at {cell['steps']} steps [95% CI] | solved "
        f"[Wilson 95%] | median steps to {cell['threshold']:g} [95% CI] | speed-up "
        f"vs {REFERENCE} [95% CI] | log-rank p (Holm) | final − {REFERENCE} "
        "[95% CI] | signed-rank p (Holm) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rate["rows"]:
        versus = row["versus_reference"]
        median = row["median_steps"]
        steps = (
            "not reached"
            if median is None
            else f"{median:g} [{_interval(row['median_steps_ci95'], 4)}]"
        )
        if versus is None:
            against = ["(reference)", "", "", ""]
        else:
            against = [
                f"{_num(versus['median_ratio'])} "
                f"[{_interval(versus['median_ratio_ci95'])}]",
                _p(versus["logrank_p_holm"]),
                f"{_num(versus['final_difference_median'], 2)} "
                f"[{_interval(versus['final_difference_ci95'], 2)}]",
                _p(versus["rank_p_holm"]),
            ]
        low, high = row["solved_ci95"]
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{row['scheme']}`",
                    f"{_num(row['final_test_mean'])} "
                    f"[{_interval(row['final_test_ci95'])}]",
                    f"{row['solved']}/{row['runs']} [{low:.2f}, {high:.2f}]",
                    steps,
                    *against,
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def rate_table(cell):
    """Mean final accuracy of every scheme at every rate; its best in bold."""
    rates = [rate["learning_rate"] for rate in cell["rates"]]
    means = {
        (rate["learning_rate"], row["scheme"]): row
        for rate in cell["rates"]
        for row in rate["rows"]
    }
    schemes = sorted({s for _, s in means}, key=_scheme_order(cell["cell"]))
    lines = [
        "| scheme | " + " | ".join(f"lr {lr:g}" for lr in rates) + " | best rate |",
        "|---|" + "---|" * (len(rates) + 1),
    ]
    for scheme in schemes:
        best = cell["best_rate"].get(scheme)
        cells = []
        for lr in rates:
            row = means.get((lr, scheme))
            text = (
                "—"
                if row is None
                else f"{_num(row['final_test_mean'])} ({len(row['seeds'])} seeds)"
            )
            cells.append(f"**{text}**" if lr == best and len(rates) > 1 else text)
        lines.append(
            f"| `{scheme}` | "
            + " | ".join(cells)
            + f" | {'n/a' if best is None else f'{best:g}'} |"
        )
    return "\n".join(lines) + "\n"


def _wall(jobs, cell, lr, seeds):
    """The recorded wall time of a (dataset, cell, rate): the sum of its jobs,
    saying so when they timed only some of its seeds (an interrupted job
    records none)."""
    mine = [
        j
        for j in jobs
        if (j["task"], j["cell"], j["learning_rate"], j["steps"])
        == (cell["task"], cell["cell"], lr, cell["steps"])
    ]
    seconds = sum(j["wall_seconds"] for j in mine)
    timed = {s for j in mine for s in j["seeds"]} & set(seeds)
    if not seconds:
        return "not recorded"
    if len(timed) < len(seeds):
        return f"{seconds / 60:.0f} min for {len(timed)} of its {len(seeds)} seeds"
    return f"{seconds / 60:.0f} min"


def page_text(cells, jobs, docs_prefix, context):
    """The generated part of the results page."""
    parts = []
    for cell in cells:
        name = {"simple": "SimpleRNN", "lstm": "LSTM"}[cell["cell"]]
        name += f"({cell['units']})"
        parts.append(
            f"### {cell['task']} (T={cell['length']}), {name}, "
            f"{cell['steps']} steps\n\n"
            f"Target: test accuracy > {cell['threshold']:g}. {context[cell['task']]}\n"
        )
        for rate in cell["rates"]:
            lr = rate["learning_rate"]
            seeds = sorted({s for row in rate["rows"] for s in row["seeds"]})
            command = (
                f"{COMMAND} --datasets {cell['task']} --cells {cell['cell']} "
                f"--lrs {lr:g}"
            )
            parts.append(
                f"\n**Adam {lr:g}** ({len(seeds)} seeds; `{command}`, "
                f"{_wall(jobs, cell, lr, seeds)} on {cell['backend']}):\n\n"
                + cell_table(cell, rate)
                + ("\n" + claim_line(rate) if lr == SHARED_LR else "")
            )
        if len(cell["rates"]) > 1:
            parts.append(
                "\nMean final test accuracy at each learning rate (best in bold):\n\n"
                + rate_table(cell)
            )
        parts.append(
            f"\n![{cell['task']} {cell['cell']} survival]({docs_prefix}real_data_"
            f"{cell['task']}_{cell['cell']}.png)\n\n"
        )
    return "".join(parts)


def evidence(cells):
    """What `schemes.recommend` reads: per dataset one cell of the length
    sweep's shape, one row per (cell, scheme, learning rate) with its solved
    fraction, median steps to the target and mean final test accuracy."""
    from keras_rnninit.schemes import get

    by_task = {}
    for cell in cells:
        task = by_task.setdefault(
            cell["task"],
            {
                "task": cell["task"],
                "length": cell["length"],
                "steps": cell["steps"],
                "clipnorm": CLIPNORM,
                "threshold": cell["threshold"],
                "metric": "accuracy",
                "seeds": set(),
                "rows": [],
            },
        )
        for rate in cell["rates"]:
            for r in rate["rows"]:
                task["seeds"].update(r["seeds"])
                task["rows"].append(
                    {
                        "scheme": r["scheme"],
                        "cell_type": cell["cell"],
                        "activation": get(r["scheme"]).activation,
                        "learning_rate": rate["learning_rate"],
                        "solved": r["solved"],
                        "runs": r["runs"],
                        "interval": r["solved_ci95"],
                        "median_steps": r["median_steps"],
                        "final_test_mean": r["final_test_mean"],
                        "final_test_ci95": r["final_test_ci95"],
                        "seeds": r["seeds"],
                    }
                )
    out = []
    for t in by_task.values():
        seeds = sorted(t["seeds"])
        # A row's seeds are written only where they are not the cell's.
        rows = [
            {k: v for k, v in row.items() if k != "seeds" or v != seeds}
            for row in t["rows"]
        ]
        out.append({**t, "seeds": seeds, "rows": rows})
    return out


def write_outputs(out, docs, page, evidence_path=None):
    from keras_rnninit.compare.plots import survival_plot
    from keras_rnninit.tasks.datasets import majority_accuracy

    records = load(os.path.join(out, "records.jsonl"))
    jobs = []
    if os.path.exists(os.path.join(out, "jobs.jsonl")):
        with open(os.path.join(out, "jobs.jsonl"), encoding="utf-8") as f:
            jobs = [json.loads(line) for line in f]
    cells = summarize(records)
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump({"command": COMMAND, "cells": cells}, f, indent=1)
        f.write("\n")
    evidence_path = evidence_path or os.path.join(out, "evidence.json")
    with open(evidence_path, "w", encoding="utf-8") as f:
        # Compact (package data, read by programs): one line per row.
        found = evidence(cells)
        f.write('{"command": ' + json.dumps(COMMAND) + ', "cells": [\n')
        for i, cell in enumerate(found):
            head = {k: v for k, v in cell.items() if k != "rows"}
            f.write(json.dumps(head)[:-1] + ', "rows": [\n')
            f.write(",\n".join(json.dumps(row) for row in cell["rows"]))
            f.write("\n]}" + (",\n" if i < len(found) - 1 else "\n"))
        f.write("]}\n")
    context = {}
    for dataset in sorted({c["task"] for c in cells}):
        context[dataset] = (
            f"Context on this split: majority class {majority_accuracy(dataset):.3f}, "
            f"1-NN Euclidean {nearest_neighbour(dataset):.3f}"
            + (f"; {PUBLISHED[dataset]}" if dataset in PUBLISHED else "")
            + "."
        )
    os.makedirs(docs, exist_ok=True)
    for cell in cells:
        shared = [
            r
            for r in records.values()
            if _key(r)[:3] == (cell["task"], cell["cell"], SHARED_LR)
            and r["config"]["steps"] == cell["steps"]
        ]
        if shared:
            survival_plot(
                sorted(
                    shared,
                    key=lambda r: (_scheme_order(cell["cell"])(r["scheme"]), r["seed"]),
                ),
                os.path.join(docs, f"real_data_{cell['task']}_{cell['cell']}.png"),
                title=f"{cell['task']}, {cell['cell']}, Adam {SHARED_LR:g}: test "
                f"accuracy > {cell['threshold']:g} (Kaplan–Meier, 95% band)",
            )
    prefix = os.path.relpath(docs, os.path.dirname(os.path.abspath(page))) + "/"
    text = page_text(cells, jobs, "" if prefix == "./" else prefix, context)
    splice(page, text, MARKERS)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=lambda t: t.split(","), default=list(BUDGET))
    parser.add_argument("--cells", type=lambda t: t.split(","), default=list(CELLS))
    parser.add_argument("--lrs", type=_floats, default=LRS)
    parser.add_argument("--seeds", type=_ints, default=SEEDS)
    parser.add_argument(
        "--schemes", type=lambda t: t.split(","), help="default: the cell's"
    )
    parser.add_argument("--steps", type=int, help="default: the dataset's budget")
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--docs", default=os.path.join(ROOT, "docs"))
    parser.add_argument("--page", default=PAGE)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--quick", action="store_true", help="tiny, for the tests")
    parser.add_argument("--job", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.steps, args.lrs = [0, 1], 200, [SHARED_LR, 3e-3]
        args.datasets, args.cells = ["japanese_vowels"], ["simple"]
        args.schemes = ["keras_default", "xavier_rnn"]
        args.docs, args.page = args.out, os.path.join(args.out, "real_data.md")
    os.makedirs(args.out, exist_ok=True)
    if args.quick and not os.path.exists(args.page):
        with open(args.page, "w", encoding="utf-8") as f:
            f.write("# Real data (quick)\n\n" + "\n".join(MARKERS) + "\n")
    if args.job:
        return run_job(args)
    for name in args.datasets:
        if name not in BUDGET:
            parser.error(
                f"`--datasets` must name {', '.join(BUDGET)}. Received: {name}"
            )
    for lr in args.lrs if not args.report_only else []:
        for dataset in args.datasets:
            for cell in args.cells:
                command = [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--job",
                    dataset,
                    cell,
                    repr(lr),
                    "--out",
                    args.out,
                    "--seeds",
                    ",".join(map(str, args.seeds)),
                ]
                command += ["--steps", str(args.steps)] if args.steps else []
                command += ["--schemes", ",".join(args.schemes)] if args.schemes else []
                command += ["--quick"] if args.quick else []
                print(f"{dataset} {cell} lr {lr:g}", file=sys.stderr, flush=True)
                env = {**os.environ, "KERAS_BACKEND": BACKEND[cell]}
                subprocess.run(command, env=env, check=True)
    # The committed sweep's evidence ships in the package (schemes.recommend).
    same = os.path.abspath(args.out) == os.path.abspath(OUT) and not args.quick
    print(write_outputs(args.out, args.docs, args.page, EVIDENCE if same else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
