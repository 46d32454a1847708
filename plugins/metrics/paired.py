"""Paired comparison of two models on the same examples: McNemar's exact test."""

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


def statistically_tied(correct_a: np.ndarray, correct_b: np.ndarray) -> bool:
    return mcnemar_exact_p(correct_a, correct_b) >= TIE_P_VALUE
