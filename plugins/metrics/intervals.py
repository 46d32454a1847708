"""95% confidence intervals: Wilson's for accuracies (a binomial proportion), a percentile bootstrap otherwise."""

from __future__ import annotations

import numpy as np
from scipy import stats

LEVEL = 0.95
Z = float(stats.norm.ppf(0.5 + LEVEL / 2))
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


def wilson_intervals(successes: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals for many proportions at once (NaN where total is 0).

    Written out because scipy's binomtest(...).proportion_ci also computes an exact p-value on each call,
    which made re-scoring thousands of slices a hundred times slower; tests check it against scipy.
    """
    successes, totals = np.asarray(successes, np.float64), np.asarray(totals, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = successes / totals
        denominator = 1 + Z**2 / totals
        centre = (share + Z**2 / (2 * totals)) / denominator
        half = Z / denominator * np.sqrt(share * (1 - share) / totals + Z**2 / (4 * totals**2))
    return centre - half, centre + half


def wilson_interval(correct: int, total: int) -> tuple[float, float]:
    low, high = wilson_intervals(np.array([correct]), np.array([total]))
    return (float(low[0]), float(high[0]))


def bootstrap_mean_interval(values: np.ndarray) -> tuple[float, float]:
    """Percentile bootstrap of a mean over examples: 1,000 resamples, fixed seed (reproducible)."""
    if len(values) < 2:
        return (float("nan"), float("nan"))
    result = stats.bootstrap(
        (values,),
        np.mean,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=LEVEL,
        method="percentile",
        random_state=BOOTSTRAP_SEED,
        vectorized=True,
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))
