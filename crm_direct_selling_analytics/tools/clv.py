"""Who will leave and what they are worth: BG/NBD and Gamma-Gamma on per-customer
summaries (issue 16).

BG/NBD (Fader, Hardie and Lee, "Counting your customers the easy way", Marketing Science
2005): while alive, a customer buys at a Poisson rate (gamma-distributed across customers,
``r``, ``alpha``); after each purchase they may drop out for good with a probability
(beta-distributed, ``a``, ``b``). Fitted by maximum likelihood on (x, t_x, T): repeat
purchases, time of the last one, time since the first, all in weeks.

Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV"): the average value of a customer's
repeat purchases, gamma-distributed around their own mean, itself gamma across customers
(``p``, ``q``, ``gamma``); independent of frequency. Expected value = expected purchases x
expected value per purchase.

Everything is vectorised over customers: a million summaries fit in seconds.
"""

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1


def _distinct(values):
    """(distinct values, index of each value among them): the terms of a likelihood that
    depend on one variable only are computed once per distinct value and gathered. The
    summaries have few distinct x (repeat days), t_x and T (days / 7), so a million rows
    cost a few hundred transcendental calls per term instead of a million; each gathered
    element is the very value the full computation gives (same operands, same order)."""
    return np.unique(values, return_inverse=True)


def _bgnbd_ll(params, x, tx, T, w, index=None):
    (ux, ix), (utx, itx), (uT, iT) = index or (
        _distinct(x),
        _distinct(tx),
        _distinct(T),
    )
    r, alpha, a, b = np.exp(params)
    a1 = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha))[ix]
    a2 = (gammaln(a + b) + gammaln(b + ux) - gammaln(b) - gammaln(a + b + ux))[ix]
    r_x = (r + ux)[ix]
    a3 = -r_x * np.log(alpha + uT)[iT]
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            (np.log(a) - np.log(np.maximum(b + ux - 1, 1e-12)))[ix]
            - r_x * np.log(alpha + utx)[itx],
            -np.inf,
        )
    ll = a1 + a2 + np.logaddexp(a3, a4)
    return -(w * ll).sum() / w.sum()


def bgnbd_fit(x, tx, T, weights=None):
    """(r, alpha, a, b) by maximum likelihood."""
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    start = np.log([1.0, max(T.mean(), 1.0), 1.0, 1.0])
    index = (_distinct(x), _distinct(tx), _distinct(T))
    res = minimize(
        _bgnbd_ll,
        start,
        args=(x, tx, T, w, index),
        method="L-BFGS-B",
        bounds=[(-10, 10)] * 4,
    )
    return tuple(float(v) for v in np.exp(res.x))


def bgnbd_p_alive(params, x, tx, T):
    """Probability the customer is still alive at T. One purchase only (x = 0): 1, the
    model's defining assumption (nobody drops out before a repeat purchase)."""
    r, alpha, a, b = params
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = np.where(
            x > 0,
            a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + tx)) ** (r + x),
            0.0,
        )
    return 1.0 / (1.0 + odds)


def bgnbd_expected(params, t, x, tx, T):
    """Expected purchases in the next ``t`` weeks given the history."""
    r, alpha, a, b = params
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    if abs(a - 1.0) < 1e-9:  # the closed form has a removable singularity at a = 1
        a = 1.0 + 1e-9
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    num = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        den = 1 + np.where(
            x > 0,
            a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + tx)) ** (r + x),
            0.0,
        )
    return num / den


def _gg_ll(params, x, m, w, index=None):
    (ux, ix), log_m, x_m = index or (_distinct(x), np.log(m), x * m)
    p, q, g = np.exp(params)
    px = p * ux
    ll = (
        (gammaln(px + q) - gammaln(px))[ix]
        - gammaln(q)
        + q * np.log(g)
        + (px[ix] - 1) * log_m
        + (px * np.log(ux))[ix]
        - (px + q)[ix] * np.log(g + x_m)
    )
    return -(w * ll).sum() / w.sum()


def gamma_gamma_fit(x, m, weights=None):
    """(p, q, gamma) on the customers with repeat purchases (x >= 1) and their average
    repeat purchase value m > 0."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    start = np.log([2.0, 3.0, max(m.mean(), 1.0)])
    index = (_distinct(x), np.log(m), x * m)
    res = minimize(
        _gg_ll,
        start,
        args=(x, m, w, index),
        method="L-BFGS-B",
        bounds=[(-10, 15)] * 3,
    )
    return tuple(float(v) for v in np.exp(res.x))


def gamma_gamma_value(params, x, m):
    """Expected value of a customer's future purchase (population mean without repeats)."""
    p, q, g = params
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    q = max(q, 1.0 + 1e-6)
    population = p * g / (q - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        own = (p * (g + x * m)) / (p * x + q - 1)
    return np.where(x > 0, own, population)
