"""Always-valid inference for campaigns that are looked at while they run.

A fixed 95% interval is right once, at a sample size chosen in advance. Looked at every
day, it crosses zero by chance far more often than 5% of the time: with 30 daily looks at
an A/A test, about one campaign in five "wins" somewhere along the way.

A *confidence sequence* holds at every look at once. We use the normal-mixture boundary
(Robbins 1970; Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric,
nonasymptotic confidence sequences", Annals of Statistics 2021, eq. (14)): for an estimate
whose error is a (approximately) Gaussian martingale with accumulated variance V,

    |estimate - truth| <= sqrt((V + v0) * log((V + v0) / (v0 * alpha^2)))   for all V

with probability at least 1 - alpha. In a campaign the members are fixed at launch and the
window's purchases accumulate day by day: the cumulative difference of means between
target and control is such a martingale in calendar time, with V = se^2 (the squared
standard error of the difference at the look).

``v0`` sets where the boundary is tightest. It must not depend on what the looks show, so
it is fixed once, before the first look, from the pre-period (the same members' behaviour
just before the campaign, as long as the window): the planned variance at the end of the
window, V*, times the ratio that makes the boundary narrowest at V* (``KAPPA``; there the
half-width is 3.04 standard errors instead of 1.96).

Multiple testing: when one campaign reports several metrics, each p-value is adjusted
(Holm, controlling the family-wise error; or Benjamini-Hochberg, the false discovery rate).
"""

import math

from scipy.optimize import minimize_scalar

ALPHA = 0.05


def _width_factor(kappa, alpha):
    return (1.0 + kappa) * math.log((1.0 + kappa) / (kappa * alpha * alpha))


def best_kappa(alpha=ALPHA):
    """v0 / V* that makes the boundary narrowest at the planned variance V*."""
    return minimize_scalar(
        lambda k: _width_factor(k, alpha), bounds=(1e-9, 1e3), method="bounded"
    ).x


KAPPA = best_kappa()


def mixture_v0(planned_variance, alpha=ALPHA):
    """The mixing variance tuned to the planned variance of the estimate at the end."""
    if planned_variance <= 0:
        return 0.0
    kappa = KAPPA if alpha == ALPHA else best_kappa(alpha)
    return kappa * planned_variance


def half_width(se, v0, alpha=ALPHA):
    """Half-width of the confidence sequence at a look with standard error ``se``."""
    if v0 <= 0 or se < 0:
        return math.inf
    v = se * se + v0
    return math.sqrt(v * math.log(v / (v0 * alpha * alpha)))


def interval(estimate, se, v0, alpha=ALPHA):
    """(low, high) of the always-valid interval; unbounded without a tuned ``v0``."""
    h = half_width(se, v0, alpha)
    return estimate - h, estimate + h


def holm(p_values):
    """Holm step-down adjusted p-values, in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values):
    """Benjamini-Hochberg step-up adjusted p-values (q-values), in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for position, i in enumerate(order):
        rank = m - position
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted
