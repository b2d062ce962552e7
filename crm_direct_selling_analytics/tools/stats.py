"""Statistics on per-group aggregates (n, sum, sum of squares).

Everything here works on a handful of numbers computed in SQL, never on member rows,
so measurement cost does not grow with the audience once PostgreSQL has aggregated.
"""

import math

from scipy import stats as sps

ALPHA = 0.05
POWER = 0.8


def mean_var(n, s, ss):
    """Mean and sample variance (ddof=1) from n, sum and sum of squares."""
    if not n:
        return 0.0, 0.0
    mean = s / n
    if n < 2:
        return mean, 0.0
    var = (ss - n * mean * mean) / (n - 1)
    return mean, max(var, 0.0)


def welch(mean_t, var_t, n_t, mean_c, var_c, n_c, alpha=ALPHA):
    """Welch t-test of mean_t - mean_c; returns dict(diff, low, high, p_value, t, df)."""
    diff = mean_t - mean_c
    res = {
        "diff": diff,
        "low": 0.0,
        "high": 0.0,
        "p_value": 1.0,
        "t": 0.0,
        "df": 0.0,
        "se": 0.0,
    }
    if n_t < 2 or n_c < 2:
        return res
    a, b = var_t / n_t, var_c / n_c
    se = math.sqrt(a + b)
    res["se"] = se
    if se == 0.0:
        res.update(low=diff, high=diff, p_value=1.0 if diff == 0 else 0.0)
        return res
    df = (a + b) ** 2 / ((a * a) / (n_t - 1) + (b * b) / (n_c - 1))
    t = diff / se
    p = 2.0 * sps.t.sf(abs(t), df)
    q = sps.t.ppf(1.0 - alpha / 2.0, df)
    res.update(low=diff - q * se, high=diff + q * se, p_value=float(p), t=t, df=df)
    return res


def two_proportions(x_t, n_t, x_c, n_c, alpha=ALPHA):
    """Two-proportion z-test (pooled for the p-value, unpooled Wald interval)."""
    res = {
        "p_t": 0.0,
        "p_c": 0.0,
        "diff": 0.0,
        "low": 0.0,
        "high": 0.0,
        "p_value": 1.0,
        "z": 0.0,
    }
    if not n_t or not n_c:
        return res
    p_t, p_c = x_t / n_t, x_c / n_c
    diff = p_t - p_c
    res.update(p_t=p_t, p_c=p_c, diff=diff, low=diff, high=diff)
    pool = (x_t + x_c) / (n_t + n_c)
    se0 = math.sqrt(pool * (1.0 - pool) * (1.0 / n_t + 1.0 / n_c))
    if se0 > 0:
        z = diff / se0
        res.update(z=z, p_value=float(2.0 * sps.norm.sf(abs(z))))
    elif diff != 0:
        res.update(p_value=0.0)
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    q = sps.norm.ppf(1.0 - alpha / 2.0)
    res.update(low=diff - q * se, high=diff + q * se)
    return res


def srm_p_value(n_t, n_c, control_share):
    """Chi-square goodness of fit of the observed split against the planned share."""
    n = n_t + n_c
    if not n or control_share <= 0 or control_share >= 1:
        return 1.0
    exp = [n * (1 - control_share), n * control_share]
    return float(sps.chisquare([n_t, n_c], f_exp=exp).pvalue)


def cuped(agg_t, agg_c):
    """CUPED-adjusted means and variances from aggregates.

    agg: dict n, sy, syy, sx, sxx, sxy (y: metric in window, x: same metric in pre-period).
    theta = cov(y, x) / var(x) on both groups together.
    """
    n = agg_t["n"] + agg_c["n"]
    if n < 2:
        return None
    sx = agg_t["sx"] + agg_c["sx"]
    sxx = agg_t["sxx"] + agg_c["sxx"]
    sy = agg_t["sy"] + agg_c["sy"]
    sxy = agg_t["sxy"] + agg_c["sxy"]
    var_x = (sxx - sx * sx / n) / (n - 1)
    if var_x <= 0:
        return None
    cov = (sxy - sx * sy / n) / (n - 1)
    theta = cov / var_x
    mean_x = sx / n
    out = {"theta": theta}
    for key, agg in (("t", agg_t), ("c", agg_c)):
        m = agg["n"]
        if m < 2:
            return None
        my, vy = mean_var(m, agg["sy"], agg["syy"])
        mx, vx = mean_var(m, agg["sx"], agg["sxx"])
        cxy = (agg["sxy"] - m * mx * my) / (m - 1)
        out[key] = (
            my - theta * (mx - mean_x),
            max(vy - 2 * theta * cxy + theta * theta * vx, 0.0),
        )
    return out


def mde_mean(sd, n_t, n_c, alpha=ALPHA, power=POWER):
    """Minimum detectable difference of means (two-sided alpha, given power)."""
    if n_t < 1 or n_c < 1:
        return 0.0
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    return float(z * sd * math.sqrt(1.0 / n_t + 1.0 / n_c))


def mde_proportion(p, n_t, n_c, alpha=ALPHA, power=POWER):
    """Minimum detectable difference of proportions around baseline p."""
    return mde_mean(math.sqrt(max(p * (1 - p), 0.0)), n_t, n_c, alpha, power)
