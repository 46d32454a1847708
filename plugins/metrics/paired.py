"""Paired comparison of two models on the same examples: McNemar's exact test on top-1 hits, and a paired
t-test on a per-example score (human agreement) where a protocol has no single notion of right."""

from __future__ import annotations

import numpy as np
from scipy import stats

TIE_P_VALUE = 0.05


def mcnemar_exact_p(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value: under the null, the examples exactly one model gets right are split
    evenly, so the smaller discordant count is Binomial(b + c, 1/2)."""
    only_a = int(np.count_nonzero(correct_a & ~correct_b))
    only_b = int(np.count_nonzero(~correct_a & correct_b))
    if only_a + only_b == 0:
        return 1.0
    return float(stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue)


def paired_mean_p(values_a: np.ndarray, values_b: np.ndarray) -> float:
    """Two-sided paired t-test p-value of the mean per-example difference, over the examples both score (NaN
    elsewhere). With thousands of examples the mean difference is close to normal whatever the scores'
    distribution. Identical scores differ by nothing: p = 1."""
    differences = _differences(values_a, values_b)
    if len(differences) < 2 or not differences.any():
        return 1.0
    if np.all(differences == differences[0]):  # a constant difference: no variance, beyond doubt
        return 0.0
    return float(stats.ttest_1samp(differences, 0.0).pvalue)


def paired_difference(values_a: np.ndarray, values_b: np.ndarray) -> tuple[float, float, float] | None:
    """The mean per-example difference a - b over the examples both score (NaN elsewhere) and its 95% interval
    (mean_with_interval)."""
    return mean_with_interval(_differences(values_a, values_b))


def _differences(values_a: np.ndarray, values_b: np.ndarray) -> np.ndarray:
    """a - b per example, in float64, over the examples both score (NaN elsewhere)."""
    a, b = np.asarray(values_a, dtype=np.float64), np.asarray(values_b, dtype=np.float64)
    both = ~(np.isnan(a) | np.isnan(b))
    return a[both] - b[both]


def mean_with_interval(differences: np.ndarray) -> tuple[float, float, float] | None:
    """The mean of paired differences and its 95% interval from the t distribution (scipy's ttest_1samp); None
    with fewer than two. A constant difference has no spread: its interval is the difference itself."""
    differences = np.asarray(differences, dtype=np.float64)
    if len(differences) < 2:
        return None
    mean = float(differences.mean())
    if np.all(differences == differences[0]):
        return mean, mean, mean
    interval = stats.ttest_1samp(differences, 0.0).confidence_interval(0.95)
    return mean, float(interval.low), float(interval.high)
