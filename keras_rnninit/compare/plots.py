"""PNG plots of a comparison (matplotlib, headless)."""

import math
import os

import numpy as np

from keras_rnninit.compare.records import as_records

__all__ = ["survival_plot", "write_plots"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _number(value):
    if value in ("inf", "-inf"):
        return float(value)
    return math.nan if value is None else float(value)


def _styles(records):
    """A colour per scheme, a line style per seed."""
    plt = _pyplot()
    schemes = list(dict.fromkeys(r.scheme for r in records))
    seeds = list(dict.fromkeys(r.seed for r in records))
    colours = plt.get_cmap("tab10")
    dashes = ["-", "--", ":", "-."]
    return (
        {s: colours(i % 10) for i, s in enumerate(schemes)},
        {s: dashes[i % len(dashes)] for i, s in enumerate(seeds)},
    )


def _save(fig, out_dir, name, dpi):
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, name), dpi=dpi)
    _pyplot().close(fig)


def _subject(config):
    """What a comparison trained on, for titles: the task and T, or the
    user's model (`own.py` records)."""
    if config.get("task") == "own":
        return f"{config['model']} on your data"
    return f"{config['task']} T={config['length']}"


def _loss_curves(records, out_dir, colour, dash, dpi):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for r in records:
        test = np.array([_number(v) for v in r.curve["test"]])
        ax.plot(
            r.curve["step"][: len(test)],
            test,
            dash[r.seed],
            color=colour[r.scheme],
            label=f"{r.scheme} (seed {r.seed})",
        )
    if r.threshold is not None:
        ax.axhline(r.threshold, color="black", lw=0.8, ls=":", label="threshold")
    if r.baseline is not None:
        ax.axhline(r.baseline, color="grey", lw=0.8, ls="--", label="trivial predictor")
    if r.mode != "max":  # a loss spans decades; accuracy is in [0, 1]
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(r.metric)
    ax.set_title(f"{_subject(r.config)}: {r.metric} during training")
    ax.legend(fontsize=7, ncol=2)
    _save(fig, out_dir, "loss_curves.png", dpi)


def _profile_plot(records, out_dir, colour, key, name, ylabel, title, log, dpi):
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    for ax, which, when in (
        (axes[0], 0, "at initialization"),
        (axes[1], -1, "after training"),
    ):
        for r in records:
            if r.seed != records[0].seed or not r.diagnostics:
                continue  # one seed keeps the picture readable
            values = np.array([_number(v) for v in r.diagnostics[which][key]])
            label = r.scheme
            if log:
                if np.any(values == 0):
                    label += " (exactly 0 where not drawn)"
                values = np.where(values > 0, values, np.nan)
            t = np.arange(1, len(values) + 1)
            ax.plot(t, values, color=colour[r.scheme], label=label)
        ax.set_xlabel("time step t")
        ax.set_title(when)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=7)
    axes[0].set_ylabel(ylabel)
    fig.suptitle(title)
    _save(fig, out_dir, name, dpi)


def _spectral_radius(records, out_dir, colour, dash, dpi):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for r in records:
        steps = [d["step"] for d in r.diagnostics]
        rho = [_number(d["rnn_spectral_radius"]) for d in r.diagnostics]
        ax.plot(
            steps,
            rho,
            dash[r.seed],
            marker="o",
            ms=3,
            color=colour[r.scheme],
            label=f"{r.scheme} (seed {r.seed})",
        )
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("spectral radius of Whh (max |eig|)")
    ax.set_title("Spectral radius of the recurrent kernel during training")
    ax.legend(fontsize=7, ncol=2)
    _save(fig, out_dir, "spectral_radius.png", dpi)


def survival_plot(records, path, title=None, dpi=110):
    """Fraction of runs solved against steps (1 - Kaplan-Meier survival), one
    step line per scheme with its 95% band, written to `path` (PNG).

    `records` need `scheme`, `steps_to_threshold`, `config["steps"]` (the
    budget) and, unless `title` is given, `config`'s task and length,
    `metric`, `mode` and `threshold`."""
    records = as_records(records)
    colour, _ = _styles(records)
    _survival(
        records,
        os.path.dirname(path) or ".",
        colour,
        dpi,
        os.path.basename(path),
        title,
    )


def _survival(records, out_dir, colour, dpi, name="survival.png", title=None):
    from keras_rnninit.compare.statistics import run_steps, survival_curve

    def pad(values):  # S = 1 at step 0; flat after the last event
        return np.concatenate([[1.0], values, [values[-1]]])

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for scheme in colour:
        runs = [r for r in records if r.scheme == scheme]
        steps, budget = run_steps(runs)
        times, survival, low, high = survival_curve(steps, budget)
        x = np.concatenate([[0.0], times, [budget]])
        solved = int(np.isfinite(steps).sum())
        ax.step(
            x,
            1 - pad(survival),
            where="post",
            color=colour[scheme],
            label=f"{scheme} ({solved}/{len(runs)} solved)",
        )
        ax.fill_between(
            x,
            1 - pad(high),
            1 - pad(low),
            step="post",
            color=colour[scheme],
            alpha=0.15,
        )
    ax.set_xlim(0, records[0].config["steps"])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training step")
    ax.set_ylabel("fraction of runs solved")
    r = records[0]
    ax.set_title(
        title
        or f"{_subject(r.config)}: {r.metric} "
        f"{'>' if r.mode == 'max' else '<'} {r.threshold:g} "
        "(Kaplan–Meier, 95% band)"
    )
    ax.legend(fontsize=7)
    _save(fig, out_dir, name, dpi)


def write_plots(records, out_dir, dpi=110):
    """loss_curves.png, grad_through_time.png, state_variance.png,
    spectral_radius.png and (with a threshold) survival.png for JSON-ready
    `records`."""
    records = as_records(records)
    colour, dash = _styles(records)
    if records[0].threshold is not None:  # no target: nothing is solved
        _survival(records, out_dir, colour, dpi)
    _loss_curves(records, out_dir, colour, dash, dpi)
    _profile_plot(
        records,
        out_dir,
        colour,
        "grad_norms",
        "grad_through_time.png",
        "||dL/dh_t|| on the probe batch",
        "Gradient norm through time, ||dL/dh_t||",
        log=True,
        dpi=dpi,
    )
    _profile_plot(
        records,
        out_dir,
        colour,
        "variance",
        "state_variance.png",
        "Var(h_t) over batch and units",
        "Hidden-state variance per step",
        log=False,
        dpi=dpi,
    )
    _spectral_radius(records, out_dir, colour, dash, dpi)


def _write_signal_plot(reports, path):
    """Two panels for `signal_propagation` reports: Var(h_t) and ||dL/dh_t||."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    for r in reports:
        t = np.arange(1, len(r["variance"]) + 1)
        left.plot(t, [_number(v) for v in r["variance"]], label=r["scheme"])
        logs = np.array([_number(v) for v in r["log10_grad_norms"]])
        label = r["scheme"] + (
            " (exactly 0 where not drawn)" if np.any(np.isneginf(logs)) else ""
        )
        right.plot(t, np.where(np.isfinite(logs), 10.0**logs, np.nan), label=label)
    left.set(xlabel="time step t", ylabel="Var(h_t)", title="Hidden-state variance")
    right.set(
        xlabel="time step t",
        ylabel="||dL/dh_t|| (geometric mean)",
        title="Gradient norm through time",
        yscale="log",
    )
    for ax in (left, right):
        ax.legend(fontsize=7)
    r = reports[0]
    fig.suptitle(
        f"At initialization: units {r['units']}, T={r['length']}, {r['draws']} draws"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
