"""Confidence intervals for error rates: exact binomial, and bootstrap over people.

Clopper-Pearson treats every pair as an independent trial. Pairs are not
independent: all pairs of one person share that person's photos, so a person
whose photos are unlike each other adds several false non-matches at once.
The bootstrap over people resamples whole people (clusters) and is the wider,
more honest interval for the leave-people-out figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 9  # fixed so the report is reproducible


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided exact interval for a binomial proportion k/n."""
    from scipy.stats import beta

    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"{k} successes out of {n} trials")
    alpha = 1.0 - confidence
    lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2.0, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1.0 - alpha / 2.0, k + 1, n - k))
    return (lo, hi)


def bootstrap_ratio(
    errors: Sequence[int],
    trials: Sequence[int],
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile interval of sum(errors)/sum(trials) with people resampled whole.

    errors[i] and trials[i] are one person's counts. With few people, or errors
    concentrated in one or two of them, the interval is wide, as it should be.
    """
    e = np.asarray(errors, dtype=np.float64)
    t = np.asarray(trials, dtype=np.float64)
    if len(e) != len(t) or len(e) == 0:
        raise ValueError("one error count and one trial count per person")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(e), size=(resamples, len(e)))
    tot = t[idx].sum(axis=1)
    ratios = np.divide(e[idx].sum(axis=1), tot, out=np.zeros(resamples), where=tot > 0)
    alpha = 1.0 - confidence
    lo, hi = np.quantile(ratios, [alpha / 2.0, 1.0 - alpha / 2.0])
    return (float(lo), float(hi))
