"""Statistics of a comparison over seeds: solved fraction, censored median,
speed-up over a reference, all with 95% intervals (SciPy).

A run is an event at its `steps_to_threshold`, or right-censored at the step
budget when it never gets there. A run that diverged is censored at the budget
too, not at its divergence step: its weights are NaN from then on, so it is
known not to reach the threshold within the budget (censoring it earlier would
count it as a run that might still have got there).

- `solved_ci95`: Wilson interval for k/n (`scipy.stats.binomtest`).
- `median_steps`: Kaplan-Meier median (`scipy.stats.ecdf` on `CensoredData`),
  the first step at which the survival curve S (fraction not yet solved) is
  <= 0.5; null when fewer than half of the runs are solved. Its interval is
  where the log-log 95% band of S crosses 0.5; a null end is not bounded by
  the runs (the band never crosses 0.5: beyond the budget, or, when the
  last run is solved, past it: the band is undefined where S = 0).
- `median_ratio`: median(reference) / median(scheme), how many times fewer
  steps the scheme needs (> 1: faster); null unless both medians exist. Its
  interval is a percentile bootstrap (`scipy.stats.bootstrap`, seeded,
  resampling each scheme's runs). A median that is undefined in a resample
  lies beyond the budget, at an unknown step, so the interval is made
  conservative: for its lower end it counts as the budget in the numerator
  and as infinite in the denominator, for its upper end the other way round.
  An upper end "inf" (JSON) means unbounded: the reference's median is beyond
  the budget too often to bound the speed-up.
- `logrank_p`: `scipy.stats.logrank` p-value; null when no run of either
  scheme is solved (nothing to compare).

`statistics` adds the effect sizes of `effects.py`: the final and best
monitored values with bootstrap intervals, their paired rank test against the
reference, the difference in solved fraction, and Holm-adjusted p-values
(`logrank_p_holm`, `rank_p_holm`).
"""

import dataclasses
import math
import warnings

import numpy as np

from keras_rnninit.compare import effects
from keras_rnninit.compare.records import as_records

__all__ = [
    "Claim",
    "claim_verdict",
    "comparison",
    "km_median",
    "run_steps",
    "scheme_statistics",
    "statistics",
    "survival_curve",
]

RESAMPLES = 9999


def __getattr__(name):
    # 0.2 made the claim a report option (`Claim`); CLAIM, its old bounds,
    # warns for one minor version (CHANGELOG.md).
    if name == "CLAIM":
        warnings.warn(
            "keras_rnninit.compare.statistics.CLAIM is deprecated: pass "
            "write_report(..., claim=Claim(scheme, baselines, low, high)); "
            "CLAIM goes in 0.3.",
            DeprecationWarning,
            stacklevel=2,
        )
        return (2.0, 10.0)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclasses.dataclass(frozen=True)
class Claim:
    """A claim a report tests: `scheme` needs `low`-`high`x fewer steps to
    the threshold than each of `baselines`.

    The verdict rests on the 95% interval of the speed-up in median steps
    (`claim_verdict`): it holds when the interval's lower end is at least
    `low`. `write_report(..., claim=...)` states it in one sentence per
    baseline; without a claim a report states none.

    Example:

        >>> claim = Claim("xavier_rnn", ["keras_default", "uniform01"])
        >>> claim.baselines, claim.low, claim.high
        (('keras_default', 'uniform01'), 2.0, 10.0)
    """

    scheme: str
    baselines: tuple
    low: float = 2.0
    high: float = 10.0

    def __post_init__(self):
        if isinstance(self.baselines, str):
            raise TypeError(
                "`baselines` must be a list or tuple of scheme names. "
                f"Received: baselines={self.baselines!r}"
            )
        object.__setattr__(self, "baselines", tuple(self.baselines))
        if not self.baselines or self.scheme in self.baselines:
            raise ValueError(
                "`baselines` must name at least one scheme other than "
                f"`scheme`. Received: scheme={self.scheme!r}, "
                f"baselines={self.baselines!r}"
            )
        if not 0 < self.low <= self.high:
            raise ValueError(
                "`low` and `high` must satisfy 0 < low <= high. "
                f"Received: low={self.low!r}, high={self.high!r}"
            )


def run_steps(records):
    """Steps to threshold per run as floats, never = inf; and the budget."""
    records = as_records(records)
    steps = np.array(
        [
            math.inf if r.steps_to_threshold is None else r.steps_to_threshold
            for r in records
        ],
        dtype=float,
    )
    return steps, float(records[0].config["steps"])


def _censored(steps, budget):
    from scipy import stats

    solved = steps[np.isfinite(steps)]
    return stats.CensoredData(
        uncensored=solved, right=np.full(steps.size - solved.size, budget)
    )


def survival_curve(steps, budget):
    """(steps, S, S_low, S_high): the Kaplan-Meier survival curve of
    `steps` (inf = never) with its log-log 95% band, at each distinct step."""
    from scipy import stats

    result = stats.ecdf(_censored(steps, budget))
    sf = result.sf
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(0.95, method="log-log")
    survival = sf.probabilities
    # log-log is undefined where S is 0 or 1: the band collapses onto S there.
    low = np.where(np.isnan(band.low.probabilities), survival, band.low.probabilities)
    high = np.where(
        np.isnan(band.high.probabilities), survival, band.high.probabilities
    )
    return sf.quantiles, survival, low, high


def _first_at_most_half(times, values):
    below = np.flatnonzero(values <= 0.5)
    return float(times[below[0]]) if below.size else None


def km_median(steps, budget):
    """(median, [low, high]) of steps to threshold; None where not reached."""
    if not np.isfinite(steps).any():
        return None, [None, None]
    times, survival, low, high = survival_curve(steps, budget)
    # Where S = 0 the log-log band is undefined (survival_curve draws it
    # collapsed onto S): it cannot bound the median from above there.
    high = np.where(survival > 0, high, np.nan)
    return _first_at_most_half(times, survival), [
        _first_at_most_half(times, low),
        _first_at_most_half(times, high),
    ]


def _wilson(k, n):
    from scipy import stats

    interval = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return [float(interval.low), float(interval.high)]


def scheme_statistics(records):
    """The `report.json` statistics of one scheme's runs."""
    steps, budget = run_steps(records)
    k = int(np.isfinite(steps).sum())
    median, interval = km_median(steps, budget)
    return {
        "runs": int(steps.size),
        "solved": k,
        "solved_ci95": _wilson(k, int(steps.size)),
        "median_steps": median,
        "median_steps_ci95": interval,
    }


def _order_median(steps, axis=-1):
    """KM median with every censoring at the budget: the ceil(n/2)-th
    smallest value (inf = never), vectorized for the bootstrap."""
    ordered = np.sort(steps, axis=axis)
    return np.take(ordered, (ordered.shape[axis] + 1) // 2 - 1, axis=axis)


def _ratio_bounds(budget):
    """The bootstrap statistic: (lower, upper) bounds of the median ratio of
    one resample, an undefined median counted as the budget or infinite."""

    def statistic(scheme, reference, axis=-1):
        mine, theirs = _order_median(scheme, axis), _order_median(reference, axis)
        with np.errstate(divide="ignore"):
            low = np.minimum(theirs, budget) / mine
            high = theirs / np.minimum(mine, budget)
        return np.stack([low, high])

    return statistic


def comparison(records, reference_records, reference, seed=0):
    """The `report.json` comparison of one scheme's runs with the reference's."""
    from scipy import stats

    steps, budget = run_steps(records)
    ref_steps, _ = run_steps(reference_records)
    median, _ = km_median(steps, budget)
    ref_median, _ = km_median(ref_steps, budget)
    both = median is not None and ref_median is not None
    ratio = ref_median / median if both else None
    interval, pvalue = [None, None], None
    if min(steps.size, ref_steps.size) >= 2 and (
        np.isfinite(steps).any() or np.isfinite(ref_steps).any()
    ):  # a bootstrap resamples two or more runs per scheme
        with warnings.catch_warnings():  # its standard error of inf values
            warnings.simplefilter("ignore", RuntimeWarning)
            boot = stats.bootstrap(
                (steps, ref_steps),
                _ratio_bounds(budget),
                vectorized=True,
                n_resamples=RESAMPLES,
                method="percentile",
                rng=np.random.default_rng(seed),
            )
        low, high = boot.bootstrap_distribution
        interval = [
            float(np.quantile(low, 0.025, method="inverted_cdf")),
            float(np.quantile(high, 0.975, method="inverted_cdf")),
        ]
    if np.isfinite(steps).any() or np.isfinite(ref_steps).any():
        pvalue = float(
            stats.logrank(_censored(steps, budget), _censored(ref_steps, budget)).pvalue
        )
    return {
        "reference": reference,
        "median_ratio": ratio,
        "median_ratio_ci95": interval,
        "logrank_p": pvalue,
    }


def _default_reference(names):
    """keras_default if it ran, else uniform01, else the first scheme."""
    for name in ("keras_default", "uniform01"):
        if name in names:
            return name
    return names[0]


def statistics(records, reference=None):
    """({scheme: statistics}, {scheme: comparison}) for a comparison's
    records (schemes in first-seen order; the reference is not compared with
    itself)."""
    by_scheme = {}
    for record in as_records(records):
        by_scheme.setdefault(record.scheme, []).append(record)
    names = list(by_scheme)
    reference = _default_reference(names) if reference is None else reference
    if reference not in by_scheme:
        raise ValueError(
            "`reference` must be one of the compared schemes "
            f"({', '.join(sorted(names))}). Received: reference={reference!r}"
        )
    stats_ = {
        name: {**scheme_statistics(runs), **effects.values_statistics(runs)}
        for name, runs in by_scheme.items()
    }
    comparisons = {}
    for name, runs in by_scheme.items():
        if name == reference:
            continue
        found = comparison(runs, by_scheme[reference], reference)
        found.update(effects.values_comparison(runs, by_scheme[reference]))
        mine, theirs = stats_[name], stats_[reference]
        difference, interval = effects.solved_difference(
            mine["solved"], mine["runs"], theirs["solved"], theirs["runs"]
        )
        found["solved_difference"] = difference
        found["solved_difference_ci95"] = interval
        comparisons[name] = found
    # Many schemes against one reference: Holm within each family of tests.
    for key in ("logrank_p", "rank_p"):
        names = list(comparisons)
        adjusted = effects.holm([comparisons[n][key] for n in names])
        for name, value in zip(names, adjusted, strict=True):
            comparisons[name][f"{key}_holm"] = value
    return stats_, comparisons


def claim_verdict(interval, low=2.0):
    """Whether a speed-up interval supports "at least `low`x fewer steps":
    "holds" if its lower end is >= `low`, "does not hold" if its upper end
    is < `low`, else "is not established" (the interval straddles `low`)."""
    start, end = interval
    if start is None or end is None:
        return "cannot be tested"
    if start >= low:
        return "holds"
    if end < low:
        return "does not hold"
    return "is not established"
