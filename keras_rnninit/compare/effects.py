"""Effect sizes and their tests beside the steps-to-threshold statistics
(`statistics.py`): the monitored values themselves, the solved fraction, and
the p-values adjusted for comparing many schemes with one reference.

- `values_statistics`: the mean final and best monitored value of a scheme's
  runs with percentile-bootstrap 95% intervals (`scipy.stats.bootstrap`,
  seeded). A run whose value is not finite (it diverged) is left out and
  counted in `nonfinite`.
- `values_comparison`: the runs of a scheme and of the reference paired by
  seed (every scheme of a seed trains on the same batches): the median of the
  paired differences scheme - reference of the final value, with a bootstrap
  interval over the pairs, and the Wilcoxon signed-rank p-value
  (`scipy.stats.wilcoxon`, two-sided) of those differences; null with fewer
  than two pairs or when every difference is 0.
- `solved_difference`: k1/n1 - k2/n2 with Newcombe's hybrid score interval
  (method 10 of Newcombe, 1998), built from the two Wilson intervals.
- `holm`: Holm's step-down adjustment of a family of p-values (one per
  scheme against the reference), which keeps the family-wise error at 5%
  however many schemes are compared.
"""

import math

import numpy as np

from keras_rnninit.compare.records import as_records

__all__ = ["holm", "solved_difference", "values_comparison", "values_statistics"]

RESAMPLES = 9999


def _bootstrap(samples, statistic, seed=0):
    """Percentile-bootstrap 95% interval of `statistic`, or [None, None]
    with fewer than two samples or no spread."""
    from scipy import stats

    values = np.asarray(samples, dtype=float)
    if values.size < 2 or np.all(values == values[0]):
        point = float(statistic(values)) if values.size else None
        return [point, point] if values.size >= 2 else [None, None]
    result = stats.bootstrap(
        (values,),
        statistic,
        vectorized=True,
        n_resamples=RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return [float(interval.low), float(interval.high)]


def _finite(values):
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def values_statistics(records):
    """{final_test_mean, final_test_ci95, best_test_mean, best_test_ci95,
    nonfinite} of one scheme's runs."""
    records = as_records(records)
    out = {}
    for key in ("final_test", "best_test"):
        values = _finite(getattr(r, key) for r in records)
        out[f"{key}_mean"] = float(np.mean(values)) if values else None
        out[f"{key}_ci95"] = _bootstrap(values, lambda v, axis=-1: np.mean(v, axis))
    out["nonfinite"] = len(records) - len(_finite(r.final_test for r in records))
    return out


def values_comparison(records, reference_records):
    """{final_difference_median, final_difference_ci95, pairs, rank_p}: the
    final values of `records` and the reference's, paired by seed."""
    from scipy import stats

    theirs = {r.seed: r.final_test for r in as_records(reference_records)}
    pairs = [_finite([r.final_test, theirs.get(r.seed)]) for r in as_records(records)]
    differences = np.array([a - b for a, b in (p for p in pairs if len(p) == 2)])
    pvalue = None
    if differences.size >= 2 and np.any(differences != 0):
        pvalue = float(stats.wilcoxon(differences).pvalue)
    return {
        "final_difference_median": (
            float(np.median(differences)) if differences.size else None
        ),
        "final_difference_ci95": _bootstrap(
            differences, lambda v, axis=-1: np.median(v, axis)
        ),
        "pairs": int(differences.size),
        "rank_p": pvalue,
    }


def solved_difference(k1, n1, k2, n2):
    """(k1/n1 - k2/n2, [low, high]): Newcombe's hybrid score interval."""
    from scipy import stats

    def wilson(k, n):
        interval = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        return k / n, interval.low, interval.high

    p1, low1, high1 = wilson(k1, n1)
    p2, low2, high2 = wilson(k2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    high = d + math.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return float(d), [float(max(low, -1.0)), float(min(high, 1.0))]


def holm(pvalues):
    """Holm-adjusted p-values in the order given (None stays None and does
    not count in the family)."""
    known = [(p, i) for i, p in enumerate(pvalues) if p is not None]
    adjusted = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(known)):
        running = max(running, min(1.0, (len(known) - rank) * p))
        adjusted[i] = running
    return adjusted
