"""Uplift modelling on finished campaigns (issue 16): who does a programme change?

Estimator: the transformed outcome (Athey and Imbens 2015; Jaskowski and Jaroszewicz
2012). With T = 1 for a target member (share p of the campaign) and y the member's window
revenue, Z = y * (T / p - (1 - T) / (1 - p)) has E[Z | x] = the member's uplift, so an
ordinary ridge regression of Z on the features estimates the uplift directly. Linear and
transparent; the held-out Qini curve says whether it ranks better than chance.

Qini curve (Radcliffe 2007): members sorted by predicted uplift, best first; after the top
share k, Q(k) = R_t(k) - R_c(k) * N_t(k) / N_c(k), the incremental revenue targeting that
share would have brought. Random targeting gives the straight line k * Q(1).
"""

import numpy as np

GRID = np.linspace(0.0, 1.0, 21)


def fit_transformed_outcome(X, y, treated, p, ridge=1.0):
    """Standardised ridge regression of the transformed outcome; returns (mean, scale,
    coefficients) for ``predict``."""
    X = np.asarray(X, dtype=float)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Xs = np.column_stack([np.ones(len(X)), (X - mean) / scale])
    t = np.asarray(treated, dtype=float)
    p = np.asarray(p, dtype=float)
    z = np.asarray(y, dtype=float) * (t / p - (1.0 - t) / (1.0 - p))
    penalty = ridge * len(X) * np.eye(Xs.shape[1])
    penalty[0, 0] = 0.0  # no shrinkage of the intercept
    coef = np.linalg.solve(Xs.T @ Xs + penalty * 1e-3, Xs.T @ z)
    return mean, scale, coef


def predict(model, X):
    mean, scale, coef = model
    X = np.asarray(X, dtype=float)
    return coef[0] + ((X - mean) / scale) @ coef[1:]


def qini(scores, y, treated):
    """(grid of shares, Q at each share, area under Q, area under the random line)."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    y = np.asarray(y, dtype=float)[order]
    t = np.asarray(treated, dtype=bool)[order]
    n = len(y)
    cum_t = np.concatenate([[0.0], np.cumsum(np.where(t, y, 0.0))])
    cum_c = np.concatenate([[0.0], np.cumsum(np.where(~t, y, 0.0))])
    n_t = np.concatenate([[0], np.cumsum(t)])
    n_c = np.concatenate([[0], np.cumsum(~t)])
    idx = np.round(GRID * n).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n_c[idx] > 0, cum_t[idx] - cum_c[idx] * n_t[idx] / n_c[idx], 0.0)
    area = (
        float(np.trapezoid(q, GRID))
        if hasattr(np, "trapezoid")
        else float(np.trapz(q, GRID))
    )
    random_area = float(q[-1] / 2.0)
    return GRID, q, area, random_area


def qini_gain_interval(scores, y, treated, resamples=400, level=0.98, seed=16):
    """Poisson-bootstrap interval of (Qini area - random area) on held-out members: the
    members stay in the model's order, each drawn a Poisson(1) number of times, so one
    resample costs one pass. ``level`` two-sided (0.98: the low end is the 1st percentile)."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    y = np.asarray(y, dtype=float)[order]
    t = np.asarray(treated, dtype=bool)[order]
    n = len(y)
    idx = np.round(GRID * n).astype(int)
    rng = np.random.default_rng(seed)
    gains = np.empty(resamples)
    for b in range(resamples):
        w = rng.poisson(1.0, n).astype(float)
        cum_t = np.concatenate([[0.0], np.cumsum(w * np.where(t, y, 0.0))])
        cum_c = np.concatenate([[0.0], np.cumsum(w * np.where(~t, y, 0.0))])
        n_t = np.concatenate([[0.0], np.cumsum(w * t)])
        n_c = np.concatenate([[0.0], np.cumsum(w * ~t)])
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(
                n_c[idx] > 0, cum_t[idx] - cum_c[idx] * n_t[idx] / n_c[idx], 0.0
            )
        gains[b] = _area(q) - q[-1] / 2.0
    tail = (1.0 - level) / 2.0 * 100.0
    return float(np.percentile(gains, tail)), float(np.percentile(gains, 100.0 - tail))


def _area(q):
    return float(np.sum((q[1:] + q[:-1]) / 2.0 * np.diff(GRID)))
