"""Turn comparison records into report.json, report.md and PNG plots."""

import dataclasses
import json
import math
import os

import numpy as np

from keras_rnninit.compare.plots import _subject
from keras_rnninit.compare.records import as_records
from keras_rnninit.compare.statistics import km_median
from keras_rnninit.schemes import LAYERS
from keras_rnninit.utils.records import KeyedFields

__all__ = ["headline", "jsonable", "speedups", "summarize", "write_report"]


def jsonable(value):
    """Plain JSON values: records to dicts, arrays to lists, +-inf to
    "inf"/"-inf", NaN to None."""
    if isinstance(value, KeyedFields):
        return jsonable(value.to_dict())
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, np.integer):
        return int(value)
    return value


def _float(value):
    if value in ("inf", "-inf"):
        return float(value)
    return float("nan") if value is None else float(value)


# The diagnostics of a run whose layers were all refused (own model; the
# record's `undiagnosed` says why).
_UNDIAGNOSED = {
    "rnn_log10_grad_ratio": None,
    "rnn_spectral_radius": None,
    "rnn_saturated_last": None,
}


def summarize(records):
    """One row per scheme (in first-seen order) aggregated over seeds; its
    `median_steps` is the Kaplan-Meier median (see `statistics.py`)."""
    records = as_records(records)
    rows = {}
    for record in records:
        row = rows.setdefault(
            record.scheme,
            {
                "scheme": record.scheme,
                "description": record.description,
                "seeds": [],
                "steps_to_threshold": [],
                "best_test": [],
                "final_test": [],
                "log10_ratio_init": [],
                "log10_ratio_end": [],
                "spectral_radius_init": [],
                "spectral_radius_end": [],
                "saturated_init": [],
                "diverged": 0,
                "wall_seconds": [],
            },
        )
        diagnosed = record.diagnostics or [_UNDIAGNOSED]
        first, last = diagnosed[0], diagnosed[-1]
        row["seeds"].append(record.seed)
        row["steps_to_threshold"].append(record.steps_to_threshold)
        row["best_test"].append(record.best_test)
        row["final_test"].append(record.final_test)
        row["log10_ratio_init"].append(first["rnn_log10_grad_ratio"])
        row["log10_ratio_end"].append(last["rnn_log10_grad_ratio"])
        row["spectral_radius_init"].append(first["rnn_spectral_radius"])
        row["spectral_radius_end"].append(last["rnn_spectral_radius"])
        row["saturated_init"].append(first["rnn_saturated_last"])
        row["diverged"] += record.diverged is not None
        row["wall_seconds"].append(record.wall_seconds)
    budget = records[0].config["steps"]
    for row in rows.values():
        steps = [math.inf if s is None else s for s in row["steps_to_threshold"]]
        # The Kaplan-Meier median, as in the statistics (never = censored).
        row["median_steps"] = km_median(np.array(steps, dtype=float), budget)[0]
    return list(rows.values())


def _speedup_text(row, base, budget):
    if row["median_steps"] is None:
        return "never"
    if base["median_steps"] is None:
        return f"> {budget / row['median_steps']:.1f}x ({base['scheme']} never)"
    return f"{base['median_steps'] / row['median_steps']:.2f}x"


def speedups(rows, budget, baselines):
    """Speed-up in median steps-to-threshold of each scheme over each of the
    `baselines` that ran: steps(baseline) / steps(scheme); "never" if the
    scheme never gets there, "> budget/steps" if only the baseline never
    does."""
    by_name = {row["scheme"]: row for row in rows}
    return {
        row["scheme"]: {
            base: _speedup_text(row, by_name[base], budget)
            for base in dict.fromkeys(baselines)
            if base in by_name
        }
        for row in rows
    }


def _fmt(value, digits=4):
    value = _float(value) if not isinstance(value, (int, float)) else float(value)
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "-inf (exactly 0)" if value < 0 else "inf"
    return f"{value:.{digits}g}"


def _mean(values):
    finite = [_float(v) for v in values if v is not None]
    if any(math.isinf(v) and v < 0 for v in finite):
        return float("-inf")
    finite = [v for v in finite if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _interval(pair, unit="", digits=3):
    low, high = (_float(v) for v in pair)
    if math.isnan(low) or math.isnan(high):
        return "n/a"
    high_text = "∞" if math.isinf(high) else f"{high:.{digits}g}{unit}"
    return f"{low:.{digits}g}{unit}–{high_text}"


def _steps_text(median, pair):
    if median is None:
        return "not reached (< half solved)"
    low, high = pair
    return (
        f"{median:.0f} [{'n/a' if low is None else f'{low:.0f}'}, "
        f"{'unbounded' if high is None else f'{high:.0f}'}]"
    )


def headline(records, claim=None):
    """One sentence: does the `claim` (a `statistics.Claim`) hold against each
    of its baselines that ran, with its 95% interval? None without a claim,
    or when there is nothing to test (its scheme or every baseline missing,
    or no target)."""
    from keras_rnninit.compare import statistics as st

    if claim is None:
        return None
    records = as_records(records)
    names = list(dict.fromkeys(r.scheme for r in records))
    scheme = claim.scheme
    bases = [b for b in claim.baselines if b in names]
    untargeted = records[0].untargeted
    if scheme not in names or not bases or untargeted:
        return None
    runs = [r for r in records if r.scheme == scheme]
    parts = []
    for base in bases:
        base_runs = [r for r in records if r.scheme == base]
        result = st.comparison(runs, base_runs, base)
        ratio = result["median_ratio"]
        point = (
            "no point estimate: one of the two schemes solved fewer than half "
            "of its runs"
            if ratio is None
            else f"{ratio:.2f}x"
        )
        parts.append(
            f"against `{base}` it "
            f"{st.claim_verdict(result['median_ratio_ci95'], claim.low)} "
            f"(speed-up in median steps: {point}; 95% CI "
            f"{_interval(result['median_ratio_ci95'], 'x')}; log-rank p = "
            f"{_fmt(result['logrank_p'], 2)})"
        )
    return (
        f"Claim '`{scheme}` needs {claim.low:g}–{claim.high:g}x fewer steps than the "
        f"baselines' ({len(runs)} seeds): " + "; ".join(parts) + "."
    )


def _statistics_table(statistics, comparisons):
    reference = next(iter(comparisons.values()))["reference"] if comparisons else None
    head = [
        "scheme",
        "solved",
        "solved 95% CI",
        "median steps [95% CI]",
    ]
    if reference:
        head += [f"speed-up vs {reference} [95% CI]", "log-rank p (Holm)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in statistics.items():
        cells = [
            f"`{name}`",
            f"{row['solved']}/{row['runs']}",
            _interval([100 * row["solved_ci95"][0], 100 * row["solved_ci95"][1]], "%"),
            _steps_text(row["median_steps"], row["median_steps_ci95"]),
        ]
        if reference:
            found = comparisons.get(name)
            if found is None:
                cells += ["(reference)", ""]
            else:
                ratio = found["median_ratio"]
                cells += [
                    ("n/a" if ratio is None else f"{ratio:.2f}x")
                    + f" [{_interval(found['median_ratio_ci95'], 'x')}]",
                    _p_text(found, "logrank_p"),
                ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _p_text(found, key):
    """A p-value with its Holm-adjusted value: "0.02 (0.06)"."""
    if found.get(key) is None:
        return "n/a"
    return f"{_fmt(found[key], 2)} ({_fmt(found[f'{key}_holm'], 2)})"


def _signed(value, digits=3):
    return "n/a" if value is None else f"{value:+.{digits}g}"


def _values_table(statistics, comparisons, metric):
    """The monitored values and the effect sizes against the reference."""
    reference = next(iter(comparisons.values()))["reference"] if comparisons else None
    head = ["scheme", f"final {metric} [95% CI]", f"best {metric} [95% CI]"]
    if reference:
        head += [
            f"solved − {reference} [95% CI]",
            f"final − {reference}, median of seeds [95% CI]",
            "signed-rank p (Holm)",
        ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in statistics.items():
        cells = [f"`{name}`"]
        for key in ("final_test", "best_test"):
            cells.append(
                f"{_fmt(row[f'{key}_mean'])} [{_interval(row[f'{key}_ci95'])}]"
            )
        found = comparisons.get(name)
        if reference and found is None:
            cells += ["(reference)", "", ""]
        elif reference:
            cells += [
                f"{_signed(found['solved_difference'], 2)} "
                f"[{_interval(found['solved_difference_ci95'])}]",
                f"{_signed(found['final_difference_median'])} "
                f"[{_interval(found['final_difference_ci95'])}] "
                f"({found['pairs']} seeds)",
                _p_text(found, "rank_p"),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _own_header(config, first):
    """The opening of report.md for a comparison on the user's model."""
    validation = config["validation_size"]
    where = (
        f"on {validation} validation rows" if validation else "on the training batches"
    )
    target = (
        "no target"
        if first.threshold is None
        else "target "
        + ("above " if first.mode == "max" else "below ")
        + f"{first.threshold:g}"
    )
    return [
        f"# Initialization comparison: {_subject(config)}",
        "",
        f"{config['source']}, re-initialized per scheme and seed, compiled as "
        f"given with a fresh optimizer; batch {config['batch_size']} of "
        f"{config['train_size']} rows (the same batches for every scheme of a "
        f"seed), {config['steps']} steps, {first.metric} every "
        f"{config['eval_every']} steps and at the end {where}; {target}.",
        "",
    ]


def _markdown(records, rows, command, report):
    config, first = records[0].config, records[0]
    if config.get("task") == "own":
        lines = _own_header(config, first)
    else:
        lines = _task_header(config, first)
    return _rest(lines, records, rows, command, report)


def _task_header(config, first):
    clip = f", clipnorm {config['clipnorm']:g}" if config["clipnorm"] else ""
    return [
        f"# Initialization comparison: {config['task']}, T={config['length']}",
        "",
        # The layer the cell names (SimpleRNN runs train on FastSimpleRNN,
        # which gives SimpleRNN's numbers).
        f"{LAYERS[config.get('cell', 'simple')].__name__}({config['units']}) "
        f"+ Dense, Adam {config['learning_rate']:g}{clip}, "
        f"batch {config['batch_size']}, {config['steps']} steps, "
        f"{first.metric} every {config['eval_every']} steps on "
        f"{config['test_size']} held-out sequences; threshold "
        + ("above " if first.mode == "max" else "")
        + f"{first.threshold:g} (trivial predictor: {first.baseline:.4g}).",
        "",
    ]


def _rest(lines, records, rows, command, report):
    if command:
        lines += [f"Regenerate: `{command}`", ""]
    if report["headline"]:
        lines += [report["headline"], ""]
    lines += _statistics_table(report["statistics"], report["comparisons"])
    lines += [""] + _values_table(
        report["statistics"], report["comparisons"], records[0].metric
    )
    lines += [
        "",
        "Values: mean over seeds of the final and best monitored value, "
        "percentile-bootstrap 95% intervals (runs with a non-finite value left "
        "out). Against the reference: the difference in solved fraction "
        "(Newcombe's hybrid score interval) and the median over seeds of the "
        "paired final differences (every scheme of a seed trains on the same "
        "data; bootstrap interval) with the Wilcoxon signed-rank p. In "
        "parentheses: Holm-adjusted p over the schemes compared with the "
        "reference. See `keras_rnninit/compare/effects.py`.",
    ]
    lines += [
        "",
        "Solved: runs whose test metric reached the threshold within the budget "
        "(Wilson 95% interval). Median steps: Kaplan–Meier median of steps to "
        "threshold, unsolved runs censored at the budget (null when fewer than "
        "half are solved; an unbounded end: the runs do not bound it). "
        "Speed-up: the reference's median over the scheme's, "
        "percentile-bootstrap 95% interval (∞: unbounded, the reference's median "
        "is beyond the budget). See `keras_rnninit/compare/statistics.py`.",
        "",
        *(
            ["![fraction of runs solved](survival.png)", ""]
            if records[0].threshold is not None
            else []
        ),
        "## Per seed",
        "",
    ]
    head = [
        "scheme",
        "steps to threshold (per seed)",
        "best test",
        "final test",
        "log10 ratio init → end",
        "spectral radius init → end",
        "saturated at init",
        "diverged",
        "s/run",
    ]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        steps = ", ".join(
            "never" if s is None else str(s) for s in row["steps_to_threshold"]
        )
        cells = [
            f"`{row['scheme']}`",
            steps,
            _fmt(_mean(row["best_test"])),
            _fmt(_mean(row["final_test"])),
            f"{_fmt(_mean(row['log10_ratio_init']), 3)} → "
            f"{_fmt(_mean(row['log10_ratio_end']), 3)}",
            f"{_fmt(_mean(row['spectral_radius_init']), 3)} → "
            f"{_fmt(_mean(row['spectral_radius_end']), 3)}",
            f"{100 * _mean(row['saturated_init']):.0f}%",
            str(row["diverged"]),
            f"{_mean(row['wall_seconds']):.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "log10 ratio = log10(||dL/dh_1|| / ||dL/dh_T||) on a probe batch: 0 keeps the "
        "gradient through time, -19 means it shrinks by 10^19; -inf: exactly 0 "
        "(saturated tanh).",
        "",
        "![test metric](loss_curves.png)",
        "![gradient through time](grad_through_time.png)",
        "![hidden-state variance](state_variance.png)",
        "![spectral radius](spectral_radius.png)",
        "",
    ]
    return "\n".join(lines)


def write_report(records, out_dir, command=None, reference=None, claim=None):
    """Write report.json, report.md and five PNG plots into `out_dir`.

    `reference` is the scheme the others are compared with (default
    keras_default, else uniform01, else the first). `claim`, a
    `statistics.Claim`, is stated in one sentence above the tables (the
    demo tests the seed's "xavier_rnn needs 2-10x fewer steps"); without
    it the report states none. Speed-ups are given over the reference and
    the claim's baselines. Returns the dict written to report.json.
    """
    from keras_rnninit.compare.plots import write_plots
    from keras_rnninit.compare.statistics import _default_reference, statistics

    records = as_records(records)
    if not records:
        raise ValueError("`records` must hold at least one run. Received: []")
    os.makedirs(out_dir, exist_ok=True)
    rows = summarize(records)
    names = list(dict.fromkeys(r.scheme for r in records))
    bases = [reference or _default_reference(names)]
    bases += list(claim.baselines) if claim is not None else []
    speed = speedups(rows, records[0].config["steps"], bases)
    per_scheme, comparisons = statistics(records, reference)
    report = jsonable(
        {
            "command": command,
            "claim": None if claim is None else dataclasses.asdict(claim),
            "headline": headline(records, claim),
            "statistics": per_scheme,
            "comparisons": comparisons,
            "records": records,
            "summary": rows,
            "speedups": speed,
        }
    )
    with open(os.path.join(out_dir, "report.json"), "w") as file:
        json.dump(report, file, indent=1, allow_nan=False)
        file.write("\n")
    with open(os.path.join(out_dir, "report.md"), "w") as file:
        # From the records as written (NaN as null, inf as "inf").
        written = as_records(report["records"])
        file.write(_markdown(written, rows, command, report))
    write_plots(written, out_dir)
    return report
