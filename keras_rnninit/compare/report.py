"""Turn comparison records into report.json, report.md and PNG plots."""

import json
import math
import os

import numpy as np

__all__ = ["jsonable", "speedups", "summarize", "write_report"]

BASELINES = ("keras_default", "uniform01")


def jsonable(value):
    """Plain JSON values: arrays to lists, +-inf to "inf"/"-inf", NaN to None."""
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


def summarize(records):
    """One row per scheme (in first-seen order) aggregated over seeds."""
    rows = {}
    for record in records:
        row = rows.setdefault(
            record["scheme"],
            {
                "scheme": record["scheme"],
                "description": record["description"],
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
        first, last = record["diagnostics"][0], record["diagnostics"][-1]
        row["seeds"].append(record["seed"])
        row["steps_to_threshold"].append(record["steps_to_threshold"])
        row["best_test"].append(record["best_test"])
        row["final_test"].append(record["final_test"])
        row["log10_ratio_init"].append(first["rnn_log10_grad_ratio"])
        row["log10_ratio_end"].append(last["rnn_log10_grad_ratio"])
        row["spectral_radius_init"].append(first["rnn_spectral_radius"])
        row["spectral_radius_end"].append(last["rnn_spectral_radius"])
        row["saturated_init"].append(first["rnn_saturated_last"])
        row["diverged"] += record["diverged"] is not None
        row["wall_seconds"].append(record["wall_seconds"])
    for row in rows.values():
        steps = [math.inf if s is None else s for s in row["steps_to_threshold"]]
        median = float(np.median(steps))
        row["median_steps"] = None if math.isinf(median) else median
    return list(rows.values())


def _speedup_text(row, base, budget):
    if row["median_steps"] is None:
        return "never"
    if base["median_steps"] is None:
        return f"> {budget / row['median_steps']:.1f}x ({base['scheme']} never)"
    return f"{base['median_steps'] / row['median_steps']:.2f}x"


def speedups(rows, budget):
    """Speed-up in median steps-to-threshold of each scheme over the baselines:
    steps(baseline) / steps(scheme); "never" if the scheme never gets there,
    "> budget/steps" if only the baseline never does."""
    by_name = {row["scheme"]: row for row in rows}
    return {
        row["scheme"]: {
            base: _speedup_text(row, by_name[base], budget)
            for base in BASELINES
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


def _markdown(records, rows, speed, command):
    config, first = records[0]["config"], records[0]
    clip = f", clipnorm {config['clipnorm']:g}" if config["clipnorm"] else ""
    lines = [
        f"# Initialization comparison: {config['task']}, T={config['length']}",
        "",
        f"SimpleRNN({config['units']}) + Dense, Adam {config['learning_rate']:g}"
        f"{clip}, batch {config['batch_size']}, {config['steps']} steps, "
        f"{first['metric']} every {config['eval_every']} steps on "
        f"{config['test_size']} held-out sequences; threshold "
        f"{first['threshold']:g} (trivial predictor: {first['baseline']:.4g}).",
        "",
    ]
    if command:
        lines += [f"Regenerate: `{command}`", ""]
    bases = [b for b in BASELINES if any(r["scheme"] == b for r in rows)]
    head = [
        "scheme",
        "steps to threshold (per seed)",
        "median",
        "best test",
        "final test",
        "log10 ratio init → end",
        "spectral radius init → end",
        "saturated at init",
        "diverged",
        "s/run",
    ]
    head += [f"speed-up vs {b}" for b in bases]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        steps = ", ".join(
            "never" if s is None else str(s) for s in row["steps_to_threshold"]
        )
        cells = [
            f"`{row['scheme']}`",
            steps,
            "never" if row["median_steps"] is None else f"{row['median_steps']:.0f}",
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
        cells += [speed[row["scheme"]].get(b, "n/a") for b in bases]
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


def write_report(records, out_dir, command=None):
    """Write report.json, report.md and four PNG plots into `out_dir`.

    Returns the dict written to report.json.
    """
    from keras_rnninit.compare.plots import write_plots

    if not records:
        raise ValueError("`records` must hold at least one run. Received: []")
    rows = summarize(records)
    speed = speedups(rows, records[0]["config"]["steps"])
    report = jsonable(
        {"command": command, "records": records, "summary": rows, "speedups": speed}
    )
    with open(os.path.join(out_dir, "report.json"), "w") as file:
        json.dump(report, file, indent=1, allow_nan=False)
        file.write("\n")
    with open(os.path.join(out_dir, "report.md"), "w") as file:
        file.write(_markdown(report["records"], rows, speed, command))
    write_plots(report["records"], out_dir)
    return report
