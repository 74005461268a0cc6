"""A comparison's statistics against independent references: textbook
formulas (Wilson, Greenwood log-log band, the log-rank statistic) computed
here by hand, and a real comparison's report."""

import math

import numpy as np
import pytest

from keras_rnninit.compare import effects


def value_runs(name, finals, bests=None):
    bests = finals if bests is None else bests
    return [
        {"scheme": name, "seed": s, "final_test": f, "best_test": b}
        for s, (f, b) in enumerate(zip(finals, bests, strict=True))
    ]


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 = 0.03, 0.06, 0.04 -> monotone.
    assert effects.holm([0.01, 0.04, 0.03, None]) == pytest.approx(
        [0.03, 0.06, 0.06, None]
    )
    assert effects.holm([0.5, 0.9]) == [1.0, 1.0]
    assert effects.holm([]) == []


@pytest.mark.parametrize(
    "counts, expected",
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
        ((56, 70, 48, 80), (0.2, 0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.6, 0.1705, 0.8090)),
    ],
)
def test_solved_difference_is_newcombes_interval(counts, expected):
    difference, (low, high) = effects.solved_difference(*counts)
    assert (difference, low, high) == pytest.approx(expected, abs=1e-4)


def test_values_statistics_and_paired_rank_test():
    rng = np.random.default_rng(0)
    finals = rng.normal(0.5, 0.1, size=40)
    out = effects.values_statistics(value_runs("a", [*finals, math.nan]))
    assert out["nonfinite"] == 1
    assert out["final_test_mean"] == pytest.approx(finals.mean())
    low, high = out["final_test_ci95"]
    # The normal approximation of the mean's 95% interval (n = 40).
    half = 1.96 * finals.std(ddof=1) / math.sqrt(finals.size)
    assert high - low == pytest.approx(2 * half, rel=0.2)
    assert low < finals.mean() < high
    # Paired by seed: every difference positive, n = 5 -> exact two-sided
    # p = 2 / 2**5 of the signed-rank test.
    base = value_runs("ref", [0.1, 0.2, 0.3, 0.4, 0.5])
    shifted = value_runs("a", [2 * b for b in (0.1, 0.2, 0.3, 0.4, 0.5)])
    shifted = [shifted[i] for i in (3, 0, 4, 1, 2)]  # pairing is by seed
    found = effects.values_comparison(shifted, base)
    assert found["pairs"] == 5 and found["rank_p"] == pytest.approx(2 / 32)
    assert found["final_difference_median"] == pytest.approx(0.3)
    same = effects.values_comparison(base, base)
    assert same["rank_p"] is None and same["final_difference_median"] == 0
