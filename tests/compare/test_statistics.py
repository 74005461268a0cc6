"""A comparison's statistics against independent references: textbook
formulas (Wilson, Greenwood log-log band, the log-rank statistic) computed
here by hand, and a real comparison's report."""

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from keras_rnninit.compare import compare
from keras_rnninit.compare import statistics as st
from keras_rnninit.compare.report import headline, write_report

NEVER = None


BUDGET = 4000


# Eight seeds at T=50, 4000 steps (issue 13).
XAVIER = [3700, 1500, NEVER, 2100, 2600, 1700, 1900, 1300]


ORTHOGONAL = [3300, 2300, 1400, 2700, 1600, 1300, 1500, 2100]


KERAS_DEFAULT = [NEVER] * 7 + [4000]


def runs(name, steps, budget=BUDGET):
    return [
        {"scheme": name, "steps_to_threshold": s, "config": {"steps": budget}}
        for s in steps
    ]


def wilson(k, n):
    z, p = norm.ppf(0.975), k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def km_by_hand(steps):
    """Kaplan-Meier S at each event step, with the Greenwood log-log band."""
    times = sorted({s for s in steps if s is not None})
    z, surv, green, rows = norm.ppf(0.975), 1.0, 0.0, []
    for t in times:
        at_risk = sum(s is None or s >= t for s in steps)
        d = sum(s == t for s in steps)
        surv *= 1 - d / at_risk
        green += d / (at_risk * (at_risk - d)) if at_risk > d else math.inf
        if 0 < surv < 1:
            se = math.sqrt(green) / abs(math.log(surv))
            band = (surv ** math.exp(z * se), surv ** math.exp(-z * se))
        elif surv == 0:  # the upper band is undefined: it bounds nothing
            band = (surv, math.nan)
        else:
            band = (surv, surv)
        rows.append((t, surv, *band))
    return rows


ALL_SOLVED = [100, 200, 300]


def logrank_by_hand(a, b):
    """Two-sided log-rank p-value, from the hypergeometric sums."""
    observed = expected = variance = 0.0
    for t in sorted({s for s in a + b if s is not None}):
        n1 = sum(s is None or s >= t for s in a)
        n = n1 + sum(s is None or s >= t for s in b)
        d1, d = sum(s == t for s in a), sum(s == t for s in a + b)
        observed += d1
        expected += d * n1 / n
        if n > 1:
            variance += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return 2 * norm.sf(abs(observed - expected) / math.sqrt(variance))


@pytest.mark.parametrize("k, n", [(0, 3), (1, 8), (7, 8), (8, 8), (13, 20)])
def test_solved_interval_is_wilson(k, n):
    steps = [100] * k + [NEVER] * (n - k)
    got = st.scheme_statistics(runs("s", steps))
    assert (got["runs"], got["solved"]) == (n, k)
    np.testing.assert_allclose(got["solved_ci95"], wilson(k, n), atol=1e-12)


@pytest.mark.parametrize(
    "steps", [XAVIER, ORTHOGONAL, KERAS_DEFAULT, [NEVER] * 4, ALL_SOLVED]
)
def test_median_and_its_interval_match_kaplan_meier_by_hand(steps):
    rows = km_by_hand(steps)

    def first(column):
        hits = [row[0] for row in rows if row[column] <= 0.5]
        return float(hits[0]) if hits else None

    median, interval = st.km_median(st.run_steps(runs("s", steps))[0], BUDGET)
    assert median == first(1)
    assert interval == [first(2), first(3)]
    # Censoring only at the budget: the median is the ceil(n/2)-th smallest.
    ordered = sorted(math.inf if s is None else s for s in steps)
    expected = ordered[(len(steps) + 1) // 2 - 1]
    assert median == (None if math.isinf(expected) else expected)


def test_issue_example_numbers():
    stats, comparisons = st.statistics(
        runs("xavier_rnn", XAVIER)
        + runs("orthogonal", ORTHOGONAL)
        + runs("keras_default", KERAS_DEFAULT)
    )
    assert stats["xavier_rnn"]["median_steps"] == 1900
    assert stats["orthogonal"]["median_steps"] == 1600
    assert stats["keras_default"]["median_steps"] is None  # 1 of 8 solved
    assert set(comparisons) == {"xavier_rnn", "orthogonal"}
    for name in comparisons:
        found = comparisons[name]
        assert found["reference"] == "keras_default"
        assert found["median_ratio"] is None
        low, high = found["median_ratio_ci95"]
        # keras_default's median is beyond 4000 steps: unbounded above, and
        # bounded below by 4000 / (a median in the scheme's own range).
        assert high == math.inf
        assert BUDGET / 3700 <= low <= BUDGET / 1300


@pytest.mark.parametrize(
    "a, b", [(XAVIER, KERAS_DEFAULT), (XAVIER, ORTHOGONAL), (ORTHOGONAL, XAVIER)]
)
def test_logrank_p_matches_the_formula(a, b):
    found = st.comparison(runs("a", a), runs("b", b), "b")
    assert found["logrank_p"] == pytest.approx(logrank_by_hand(a, b), rel=1e-9)


def test_ratio_of_medians_and_bootstrap_interval():
    found = st.comparison(runs("o", ORTHOGONAL), runs("x", XAVIER), "x")
    assert found["median_ratio"] == pytest.approx(1900 / 1600)
    low, high = found["median_ratio_ci95"]
    # Each end is a ratio of two order statistics the resamples can take.
    values = {a / b for a in XAVIER if a for b in ORTHOGONAL}
    assert low < found["median_ratio"] < high
    assert min(values, key=lambda v: abs(v - low)) == pytest.approx(low)
    assert min(values, key=lambda v: abs(v - high)) == pytest.approx(high)
    # Seeded: the same records give the same interval.
    again = st.comparison(runs("o", ORTHOGONAL), runs("x", XAVIER), "x")
    assert again == found


def test_all_solved_median_has_no_upper_bound():
    # S reaches 0 at the last run: the band cannot bound the median from above.
    steps = st.run_steps(runs("s", ALL_SOLVED))[0]
    assert st.km_median(steps, BUDGET) == (200.0, [100.0, None])


def test_one_run_per_scheme_gives_statistics_without_a_bootstrap():
    found = st.comparison(runs("a", [300]), runs("b", [NEVER]), "b")
    assert found["median_ratio"] is None and found["median_ratio_ci95"] == [None, None]
    assert 0 < found["logrank_p"] <= 1
    both = st.comparison(runs("a", [300]), runs("b", [600]), "b")
    assert both["median_ratio"] == 2.0 and both["median_ratio_ci95"] == [None, None]


def test_nothing_solved_has_no_numbers():
    found = st.comparison(runs("a", [NEVER] * 3), runs("b", [NEVER] * 3), "b")
    assert found == {
        "reference": "b",
        "median_ratio": None,
        "median_ratio_ci95": [None, None],
        "logrank_p": None,
    }


def test_claim_verdicts_and_headline():
    assert st.claim_verdict([2.5, math.inf]) == "holds"
    assert st.claim_verdict([0.5, 1.9]) == "does not hold"
    assert st.claim_verdict([1.1, 3.0]) == "is not established"
    assert st.claim_verdict([None, None]) == "cannot be tested"
    fast = [100, 200, 150, 120, 180, 110, 130, 140]
    claim = st.Claim("xavier_rnn", ("keras_default", "uniform01"))
    text = headline(runs("xavier_rnn", fast) + runs("keras_default", XAVIER), claim)
    assert text.startswith("Claim '`xavier_rnn` needs 2–10x fewer steps")
    assert "against `keras_default` it holds" in text
    assert "uniform01" not in text  # a baseline that did not run is left out
    records = runs("xavier_rnn", XAVIER) + runs("keras_default", KERAS_DEFAULT)
    text = headline(records, claim)
    assert "against `keras_default` it is not established" in text
    # The claim is a parameter: no claim, no sentence; another claim, its own.
    assert headline(records) is None
    assert headline(records, st.Claim("he", ("keras_default",))) is None
    other = st.Claim("keras_default", ("xavier_rnn",), low=1.5, high=3.0)
    assert headline(records, other).startswith(
        "Claim '`keras_default` needs 1.5–3x fewer steps than the baselines'"
    )
    assert st.claim_verdict([1.6, 2.5], low=1.5) == "holds"
    with pytest.raises(ValueError, match=r"^`baselines` must name at least one"):
        st.Claim("a", ("a",))
    with pytest.raises(TypeError, match=r"^`baselines` must be a list or tuple"):
        st.Claim("a", "keras_default")
    with pytest.raises(ValueError, match=r"^`low` and `high` must satisfy"):
        st.Claim("a", ("b",), low=3.0, high=2.0)


def test_reference_must_be_compared():
    with pytest.raises(ValueError, match=r"`reference` must be one of the compared"):
        st.statistics(runs("a", [100]), reference="b")


@pytest.mark.slow
def test_real_comparison_report(tmp_path):
    # A threshold a 4-unit RNN reaches on 2 or 3 of 3 seeds in 300 steps at T=6.
    records = compare(
        ["xavier_rnn", "keras_default", "uniform01"],
        seeds=[0, 1, 2],
        length=6,
        units=4,
        steps=300,
        threshold=0.2,
        progress=False,
    )
    write_report(records, tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    for name in ("xavier_rnn", "keras_default", "uniform01"):
        mine = [r for r in records if r["scheme"] == name]
        solved = sum(r["steps_to_threshold"] is not None for r in mine)
        row = report["statistics"][name]
        assert (row["runs"], row["solved"]) == (3, solved)
        np.testing.assert_allclose(row["solved_ci95"], wilson(solved, 3), atol=1e-12)
        assert solved >= 2  # so the median exists: the ceil(n/2)-th smallest
        ordered = sorted(r["steps_to_threshold"] or math.inf for r in mine)
        assert row["median_steps"] == ordered[1]
    assert set(report["comparisons"]) == {"xavier_rnn", "uniform01"}
    markdown = (tmp_path / "report.md").read_text()
    tables = [i for i, line in enumerate(markdown.splitlines()) if line[:2] == "| "]
    assert markdown.splitlines()[tables[0]].startswith("| scheme | solved |")
    assert markdown.index("| scheme | solved |") < markdown.index("## Per seed")
    png = (tmp_path / "survival.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
