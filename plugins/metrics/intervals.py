"""95% confidence intervals: Wilson's for accuracies (a binomial proportion), a percentile bootstrap otherwise."""

from __future__ import annotations

import numpy as np
from scipy import stats

LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


def wilson_interval(correct: int, total: int) -> tuple[float, float]:
    """Wilson score interval of correct / total (scipy's binomtest)."""
    if total == 0:
        return (float("nan"), float("nan"))
    interval = stats.binomtest(int(correct), int(total)).proportion_ci(confidence_level=LEVEL, method="wilson")
    return (float(interval.low), float(interval.high))


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
