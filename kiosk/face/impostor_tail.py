"""Parametric models of the lower tail of impostor distances.

FMR at a threshold t is P(impostor distance <= t): the lower tail. A target of
0.1% needs the 0.1% quantile, which a few thousand pairs hardly observe (the
empirical point is the second or third closest pair), so each model is fitted
by maximum likelihood to the lowest `tail_fraction` of the distances with the
rest right-censored (they count only as "above the cut"), and the quantile is
read off the fitted curve. The bulk of the distribution cannot pull the fit.

Families: normal, skew normal, three-parameter Weibull (lower-bounded: the
extreme-value law of minima with an endpoint) and the generalised extreme
value law for minima (GEV fitted to the negated distances). They are compared
by AIC of the censored likelihood; a Kolmogorov-Smirnov test of the tail
points against the fitted conditional distribution says whether the chosen
one describes the tail at all.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Family = Literal["normal", "skew_normal", "weibull", "gev"]
FAMILIES: tuple[Family, ...] = ("normal", "skew_normal", "weibull", "gev")
TAIL_FRACTION = 0.25
MIN_TAIL_POINTS = 8  # fewer distances are fitted whole, uncensored, normal only
MIN_POINTS = 3
# Above this many tail points the likelihood is evaluated on blocks of consecutive
# order statistics (each block's median, weighted by its size): on 400 people the
# tail holds ~400,000 distances, and Nelder-Mead's thousands of evaluations on all
# of them took minutes per fit. 2,000 points change the fitted 0.1% point by far
# less than its 0.01 rounding (tests/face/test_threshold_method.py).
MAX_FIT_POINTS = 2000

_PARAM_NAMES: dict[Family, tuple[str, ...]] = {
    "normal": ("loc", "scale"),
    "skew_normal": ("shape", "loc", "scale"),
    "weibull": ("shape", "loc", "scale"),
    "gev": ("shape", "loc", "scale"),
}

Floats = npt.NDArray[np.float64]


class TailFitError(ValueError):
    """Too few distances, or no model could be fitted to them."""


def _frozen(family: Family, params: Sequence[float]) -> Any:
    from scipy import stats

    if family == "normal":
        return stats.norm(*params)
    if family == "skew_normal":
        return stats.skewnorm(*params)
    if family == "weibull":
        return stats.weibull_min(*params)
    return stats.genextreme(*params)  # of the negated distances


@dataclass(frozen=True)
class TailFit:
    family: Family
    params: tuple[float, ...]  # scipy.stats order (shape first, then loc, scale)
    tail_points: int
    total_points: int
    cut: float  # distances at or below this were fitted; the rest censored
    log_likelihood: float
    aic: float
    ks_statistic: float
    ks_pvalue: float

    def cdf(self, t: float) -> float:
        """Modelled FMR at threshold t."""
        d = _frozen(self.family, self.params)
        return float(d.sf(-t)) if self.family == "gev" else float(d.cdf(t))

    def quantile(self, fmr: float) -> float:
        """The threshold at which the modelled FMR equals `fmr`."""
        d = _frozen(self.family, self.params)
        return float(-d.isf(fmr)) if self.family == "gev" else float(d.ppf(fmr))

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "params": {
                k: round(v, 6) for k, v in zip(_PARAM_NAMES[self.family], self.params, strict=True)
            },
            "tail_points": self.tail_points,
            "total_points": self.total_points,
            "cut": round(self.cut, 4),
            "log_likelihood": round(self.log_likelihood, 3),
            "aic": round(self.aic, 3),
            "ks_statistic": round(self.ks_statistic, 4),
            "ks_pvalue": round(self.ks_pvalue, 4),
        }


def _log_terms(family: Family, p: Floats, tail: Floats, cut: float) -> tuple[Floats, float]:
    """log f at the tail points and log P(D > cut), in closed form (fast, no scipy objects)."""
    from scipy import special

    if family == "normal":
        loc, scale = p
        z = (tail - loc) / scale
        return -0.5 * z * z - math.log(scale) - 0.5 * math.log(2 * math.pi), float(
            special.log_ndtr(-(cut - loc) / scale)
        )
    if family == "skew_normal":
        a, loc, scale = p
        z = (tail - loc) / scale
        logpdf = math.log(2.0) - 0.5 * z * z - 0.5 * math.log(2 * math.pi)
        logpdf = logpdf + special.log_ndtr(a * z) - math.log(scale)
        zc = (cut - loc) / scale
        sf = 1.0 - (float(special.ndtr(zc)) - 2.0 * float(special.owens_t(zc, a)))
        return logpdf, math.log(sf) if sf > 0.0 else -math.inf
    if family == "weibull":
        c, loc, scale = p
        if c <= 0.0 or tail[0] <= loc:
            return np.full(len(tail), -np.inf), -math.inf
        z = (tail - loc) / scale
        logpdf = math.log(c) - math.log(scale) + (c - 1.0) * np.log(z) - z**c
        return logpdf, -(((cut - loc) / scale) ** c)
    # GEV of y = -d (scipy's genextreme, shape c = -xi): F(y) = exp(-(1 - c z)^(1/c)).
    c, loc, scale = p
    y = -tail
    zc = (-cut - loc) / scale
    if abs(c) < 1e-6:
        z = (y - loc) / scale
        return -math.log(scale) - z - np.exp(-z), -math.exp(-zc)
    arg = 1.0 - c * (y - loc) / scale
    arg_c = 1.0 - c * zc
    if np.any(arg <= 0.0) or arg_c <= 0.0:
        return np.full(len(tail), -np.inf), -math.inf
    logpdf = -math.log(scale) + (1.0 / c - 1.0) * np.log(arg) - arg ** (1.0 / c)
    return logpdf, -(arg_c ** (1.0 / c))  # log F(-cut) = log P(D > cut)


def _censored_nll(
    family: Family,
    params: Floats,
    tail: Floats,
    n_censored: int,
    cut: float,
    weights: Floats | None = None,
) -> float:
    if params[-1] <= 0.0:
        return math.inf
    with np.errstate(all="ignore"):
        logpdf, log_above = _log_terms(family, params, tail, cut)
        fitted = float(np.sum(logpdf)) if weights is None else float(np.dot(weights, logpdf))
        total = fitted + (n_censored * log_above if n_censored else 0.0)
    return -total if math.isfinite(total) else math.inf


def _start(family: Family, x: Floats, tail: Floats) -> list[list[float]]:
    """Starting points around a normal matched to the tail (a Q-Q line through it)."""
    from scipy import special

    n, k = len(x), len(tail)
    z = special.ndtri((np.arange(k) + 0.5) / n)
    slope, intercept = np.polyfit(z, tail, 1) if k >= 2 else (0.05, float(tail[0]))
    mu, sd = float(intercept), max(float(slope), 1e-3)
    if family == "normal":
        return [[mu, sd]]
    if family == "skew_normal":
        return [[0.0, mu, sd], [-2.0, mu + sd, 1.5 * sd], [2.0, mu - sd, 1.5 * sd]]
    lo = float(tail[0])
    if family == "weibull":
        return [[c, lo - f * sd, f * sd * 1.1] for c, f in ((2.0, 1.5), (4.0, 3.5), (8.0, 7.0))]
    return [[0.0, -mu, sd], [0.2, -mu - 0.3 * sd, sd], [-0.2, -mu, sd]]


def _blocks(tail: Floats, limit: int) -> tuple[Floats, Floats | None]:
    """The sorted tail as at most `limit` points with weights: the lowest fifth of
    them as they are (the target quantile and a lower bound live there), the rest
    as medians of blocks of consecutive order statistics weighted by block size."""
    if len(tail) <= limit:
        return tail, None
    exact = limit // 5
    rest = tail[exact:]
    edges = np.linspace(0, len(rest), limit - exact + 1).round().astype(np.int64)
    mids = [float(np.median(rest[i:j])) for i, j in itertools.pairwise(edges)]
    points = np.concatenate([tail[:exact], np.asarray(mids, dtype=np.float64)])
    weights = np.concatenate([np.ones(exact), np.diff(edges).astype(np.float64)])
    return points, weights


def fit_family(
    family: Family,
    distances: Sequence[float],
    tail_fraction: float = TAIL_FRACTION,
    max_points: int = MAX_FIT_POINTS,
) -> TailFit:
    """Censored maximum-likelihood fit of one family to the lower tail."""
    from scipy import optimize, stats

    x = np.sort(np.asarray(distances, dtype=np.float64))
    n = len(x)
    if n < MIN_POINTS:
        raise TailFitError(f"{n} impostor distances: at least {MIN_POINTS} are needed")
    k = min(n, max(MIN_TAIL_POINTS, math.ceil(tail_fraction * n)))
    tail = x[:k]
    # The cut lies between the last fitted and the first censored point.
    cut = float(x[-1]) if k == n else float((x[k - 1] + x[k]) / 2.0)
    n_censored = n - k
    points, weights = _blocks(tail, max_points)
    best: Any = None
    for start in _start(family, x, tail):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = optimize.minimize(
                lambda p: _censored_nll(family, p, points, n_censored, cut, weights),
                np.asarray(start, dtype=np.float64),
                method="Nelder-Mead",
                options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 1000, "maxfev": 1500},
            )
        if math.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise TailFitError(f"no {family} model fits these distances")
    params = tuple(float(v) for v in best.x)
    loglik = -float(best.fun)
    fit = TailFit(family, params, k, n, cut, loglik, 2 * len(params) - 2 * loglik, 0.0, 1.0)
    # Probability integral transform of the tail points, given "at or below the cut".
    f_cut = fit.cdf(cut)
    if f_cut <= 0.0:
        raise TailFitError(f"the {family} fit puts no mass below the cut")
    d = _frozen(family, params)
    below = d.sf(-tail) if family == "gev" else d.cdf(tail)
    u = np.clip(np.asarray(below, dtype=np.float64) / f_cut, 0.0, 1.0)
    ks = stats.kstest(u, "uniform")
    return TailFit(
        family, params, k, n, cut, loglik, fit.aic, float(ks.statistic), float(ks.pvalue)
    )


@dataclass(frozen=True)
class TailModel:
    """All fitted families and the chosen one (lowest AIC)."""

    chosen: TailFit
    fits: tuple[TailFit, ...]
    failed: tuple[str, ...]  # families that could not be fitted, with the reason


def fit_impostor_tail(
    distances: Sequence[float],
    tail_fraction: float = TAIL_FRACTION,
    families: Sequence[Family] = FAMILIES,
) -> TailModel:
    fits: list[TailFit] = []
    failed: list[str] = []
    if len(distances) < MIN_TAIL_POINTS:
        # A handful of distances cannot tell a shape parameter: the normal only.
        skipped = [f for f in families if f != "normal"]
        failed += [f"{f}: fewer than {MIN_TAIL_POINTS} distances" for f in skipped]
        families = [f for f in families if f == "normal"]
    for family in families:
        try:
            fits.append(fit_family(family, distances, tail_fraction))
        except TailFitError as exc:
            failed.append(f"{family}: {exc}")
    if not fits:
        raise TailFitError("; ".join(failed) or "no model family given")
    chosen = min(fits, key=lambda f: f.aic)
    return TailModel(chosen, tuple(fits), tuple(failed))
