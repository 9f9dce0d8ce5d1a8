"""The threshold method on synthetic distances with known tails, and the intervals' coverage."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from kiosk.config import FaceSection, load_config
from kiosk.face import calibration as cal
from kiosk.face.impostor_tail import TailFitError, fit_family, fit_impostor_tail
from kiosk.face.intervals import bootstrap_ratio, clopper_pearson
from kiosk.face.matcher import SHIPPED_THRESHOLD, MatcherSettings

# Impostor-like distance laws: symmetric, skewed towards small distances, and
# lower-bounded (Weibull), each with a 0.1% point where real thresholds lie.
KNOWN = {
    "normal": stats.norm(0.85, 0.09),
    "left_skewed": stats.skewnorm(-4.0, 0.95, 0.14),
    "weibull": stats.weibull_min(3.0, 0.4, 0.5),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_fitted_threshold_lands_near_the_true_quantile(name: str) -> None:
    law = KNOWN[name]
    true_q = float(law.ppf(0.001))
    for seed in range(3):
        sample = law.rvs(1700, random_state=seed).tolist()  # the size of the dev set
        choice = cal.choose_threshold(sample)
        assert choice.basis == "tail_fit"
        assert choice.fitted_quantile == pytest.approx(true_q, abs=0.035)
        # The setting is the quantile rounded down, and its true FMR is near the target.
        assert choice.threshold <= choice.fitted_quantile < choice.threshold + 0.01
        assert 0.0001 < law.cdf(choice.threshold) < 0.003


def test_the_fit_extrapolates_below_the_closest_pair() -> None:
    # 300 pairs: the empirical rule can only say "below the closest pair", the
    # fit puts the 0.1% point where it is, well below it.
    law = KNOWN["normal"]
    sample = law.rvs(300, random_state=4)
    choice = cal.choose_threshold(sample.tolist())
    assert choice.fitted_quantile == pytest.approx(float(law.ppf(0.001)), abs=0.04)
    assert cal.empirical_threshold(sample.tolist()) == pytest.approx(sample.min(), abs=1e-9)


def test_family_choice_follows_the_tail_shape() -> None:
    # A lower-bounded tail: the Weibull (or the GEV for minima, which contains it)
    # beats the normal by AIC, and the normal's quantile would be far too low.
    law = KNOWN["weibull"]
    sample = law.rvs(3000, random_state=11)
    model = fit_impostor_tail(sample.tolist())
    assert model.chosen.family in ("weibull", "gev")
    by_family = {f.family: f for f in model.fits}
    assert by_family["normal"].aic > model.chosen.aic + 5.0
    assert by_family["normal"].quantile(0.001) < float(law.ppf(0.001)) - 0.03
    # The chosen fit describes the tail points (KS on the conditional tail).
    assert model.chosen.ks_pvalue > 0.01
    assert model.chosen.cdf(model.chosen.quantile(0.001)) == pytest.approx(0.001, rel=1e-6)


def test_the_tail_fit_ignores_the_bulk() -> None:
    # Same lower tail, very different bulk: a second mode far above the tail
    # must not move the fitted 0.1% point.
    rng = np.random.default_rng(5)
    tail_law = stats.norm(0.85, 0.09)
    base = tail_law.rvs(2000, random_state=5)
    bulk = np.where(base > 0.85, base + rng.uniform(0.2, 0.5, len(base)), base)
    a = cal.choose_threshold(base.tolist()).fitted_quantile
    b = cal.choose_threshold(bulk.tolist()).fitted_quantile
    assert a == pytest.approx(b, abs=0.01)


def test_a_fit_refuted_by_the_observed_pairs_falls_back_to_the_empirical_point() -> None:
    # A normal through 200 well-spread distances cannot honour 5 close pairs:
    # 5 of 205 at or below its 0.1% point refute it (exact interval above 0.1%).
    rng = np.random.default_rng(6)
    sample = [0.20, 0.21, 0.22, 0.23, 0.24, *rng.normal(0.9, 0.05, 200)]
    choice = cal.choose_threshold(sample, families=("normal",))
    assert choice.fitted_quantile > 0.24 and choice.basis == "empirical"
    assert choice.threshold < 0.2
    assert sum(d <= choice.threshold for d in sample) == 0


def test_rounding_never_loosens_the_fitted_point() -> None:
    # A lower-bounded fit ends exactly at three tied pairs: the setting stays below them.
    sample = [0.3, 0.3, 0.3, *np.linspace(0.8, 1.2, 20)]
    choice = cal.choose_threshold(sample)
    assert choice.threshold <= choice.fitted_quantile
    assert choice.threshold == round(choice.threshold, 2)
    assert sum(d <= choice.threshold for d in sample) == 0


def test_too_few_distances_are_refused() -> None:
    with pytest.raises(TailFitError):
        fit_family("normal", [0.5, 0.6])
    with pytest.raises(cal.DatasetError, match="cannot fit"):
        cal.choose_threshold([0.5, 0.6])


def test_clopper_pearson_known_values_and_coverage() -> None:
    # Zero in 1,700: upper bound 1 - 0.025^(1/1700) (two-sided 95%).
    lo, hi = clopper_pearson(0, 1700)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 1700), rel=1e-6)
    assert clopper_pearson(5, 5)[1] == 1.0
    rng = np.random.default_rng(2)
    p, n = 0.03, 300
    covered = 0
    for k in rng.binomial(n, p, 1000):
        lo, hi = clopper_pearson(int(k), n)
        covered += lo <= p <= hi
    assert covered / 1000 >= 0.95  # exact intervals never undercover
    with pytest.raises(ValueError):
        clopper_pearson(4, 3)


def test_bootstrap_over_people_covers_clustered_rates_where_pairs_do_not() -> None:
    # 40 people with 6 genuine pairs each; each person's FNMR varies (some
    # people's photos are unlike each other), so pairs are not independent.
    rng = np.random.default_rng(8)
    true_rate = 0.1
    boot_cover = cp_cover = 0
    sims = 200
    for _ in range(sims):
        per_person = rng.beta(0.5, 4.5, 40)  # mean 0.1, strongly clustered
        errors = rng.binomial(6, per_person)
        trials = np.full(40, 6)
        lo, hi = bootstrap_ratio(errors.tolist(), trials.tolist(), resamples=500, seed=1)
        boot_cover += lo <= true_rate <= hi
        lo, hi = clopper_pearson(int(errors.sum()), int(trials.sum()))
        cp_cover += lo <= true_rate <= hi
    assert boot_cover / sims >= 0.88  # percentile bootstrap, 40 clusters
    assert cp_cover / sims < boot_cover / sims  # treating pairs as independent undercovers


def test_held_out_summary_intervals() -> None:
    held = [
        cal.HeldOutResult("a", 0.55, 0, 100, 1, 10),
        cal.HeldOutResult("b", 0.54, 1, 100, 0, 10),
        cal.HeldOutResult("c", 0.56, 0, 100, 0, 10),
    ]
    out = cal.held_out_summary(held)
    assert out["fmr"] == pytest.approx(1 / 300, abs=1e-6)
    assert out["fnmr"] == pytest.approx(1 / 30, abs=1e-6)
    assert (out["threshold_min"], out["threshold_median"], out["threshold_max"]) == (
        0.54,
        0.55,
        0.56,
    )
    for key in ("fmr", "fnmr"):
        for kind in ("clopper_pearson", "bootstrap_people"):
            lo, hi = out[f"{key}_{kind}"]
            assert lo <= out[key] <= hi
    assert [p["identity"] for p in out["per_identity"]] == ["a", "b", "c"]


def test_one_shipped_threshold_everywhere() -> None:
    # The config default, the matcher's default, the packaged example and the docs agree.
    repo = Path(__file__).resolve().parents[2]
    example = load_config(repo / "packaging" / "egate.example.toml")
    assert FaceSection().threshold == SHIPPED_THRESHOLD == MatcherSettings().threshold
    assert example.face.threshold == SHIPPED_THRESHOLD
    docs = (repo / "docs" / "face.md").read_text(encoding="utf-8")
    stated = re.search(r"The shipped threshold is \*\*([0-9.]+)\*\*", docs)
    assert stated is not None and float(stated.group(1)) == SHIPPED_THRESHOLD


@pytest.mark.parametrize(
    ("family", "params", "law"),
    [
        ("normal", (0.85, 0.09), stats.norm(0.85, 0.09)),
        ("skew_normal", (-3.0, 0.95, 0.14), stats.skewnorm(-3.0, 0.95, 0.14)),
        ("weibull", (3.0, 0.4, 0.5), stats.weibull_min(3.0, 0.4, 0.5)),
        ("gev", (0.2, -0.9, 0.1), None),  # of the negated distances
    ],
)
def test_closed_form_likelihood_matches_scipy(
    family: str, params: tuple[float, ...], law: object
) -> None:
    from kiosk.face.impostor_tail import _log_terms

    x = np.linspace(0.55, 0.8, 7)
    cut = 0.82
    logpdf, log_above = _log_terms(family, np.asarray(params), x, cut)  # type: ignore[arg-type]
    if law is None:
        gev = stats.genextreme(*params)
        expected_pdf, expected_above = gev.logpdf(-x), gev.logcdf(-cut)
    else:
        expected_pdf, expected_above = law.logpdf(x), law.logsf(cut)  # type: ignore[attr-defined]
    assert np.allclose(logpdf, expected_pdf, atol=1e-9)
    assert log_above == pytest.approx(float(expected_above), abs=1e-9)
