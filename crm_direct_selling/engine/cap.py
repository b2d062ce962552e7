"""Payout cap: the types registered with ``capped=True`` scaled so the period's payout does
not exceed the plan's percentage of the period BV (largest remainder, so the capped lines
sum exactly to the cap)."""

from odoo.tools import SQL

from .registry import capped_types
from .sql import ALL_LINES, rounded


def apply_cap(ctx):
    """Set ``ctx.stats`` period_bv, raw_total, cap_amount, cap_factor and the SQL of the
    final lines (``amounts``) and of their sums per earner and type (``earner_types``)."""
    cr, plan, digits = ctx.cr, ctx.plan, ctx.digits
    types = capped_types(ctx.env)
    # 10. payout cap (largest remainder so the capped lines sum exactly to the cap)
    cr.execute(
        SQL(
            "SELECT COALESCE(SUM(bv), 0) FROM ds_volume WHERE period_id = %s",
            ctx.period.id,
        )
    )
    period_bv = cr.fetchone()[0] or 0.0
    cr.execute(
        SQL(
            """SELECT COALESCE(SUM(raw), 0), COALESCE(SUM(amount), 0)
           FROM (SELECT raw, ROUND(raw, %s) AS amount FROM ds_bt_line WHERE bonus_type IN %s
                 UNION ALL SELECT raw, amount FROM ds_bt_uni) t""",
            digits,
            types,
        )
    )
    raw_total, rounded_total = cr.fetchone()
    cap_amount = 0.0
    cap_factor = 1.0
    if plan.payout_cap_pct:
        cap_amount = ctx.currency.round(period_bv * plan.payout_cap_pct / 100.0)
        if (
            ctx.currency.compare_amounts(float(rounded_total), cap_amount) > 0
            and raw_total > 0
        ):
            cap_factor = cap_amount / float(raw_total)
    # final amounts: with a binding cap, the capped lines by largest remainder
    # (cap_lines); otherwise each line is its raw amount rounded to the currency
    amounts = rounded(ctx, ALL_LINES)
    if cap_factor < 1.0:
        # the types the cap leaves alone (carry forward, adjustments) are never unilevel
        uncapped = rounded(
            ctx, SQL("ds_bt_line"), SQL("WHERE t.bonus_type NOT IN %s", types)
        )
        amounts, earner_types = cap_lines(
            ctx, ALL_LINES, uncapped, cap_amount, raw_total, types
        )
    else:
        # uncapped: the unilevel totals are already summed per earner
        earner_types = SQL(
            """SELECT earner_id, 'unilevel' AS bonus_type, amount
               FROM ds_bt_uni WHERE lines > 0
               UNION ALL
               SELECT earner_id, bonus_type, SUM(ROUND(raw, %(digits)s))
               FROM ds_bt_line WHERE ROUND(raw, %(digits)s) <> 0 GROUP BY 1, 2""",
            digits=digits,
        )
    ctx.stats.update(
        period_bv=period_bv,
        raw_total=raw_total,
        cap_amount=cap_amount,
        cap_factor=cap_factor,
        amounts=amounts,
        earner_types=earner_types,
    )


def cap_lines(ctx, all_lines, uncapped, cap_amount, raw_total, types):
    """The lines with the capped types pro-rated to sum exactly to the cap, followed by
    the ``uncapped`` ones, and their sums per earner and type: (SQL of the lines, SQL of
    the sums).

    Largest remainder: each capped line gets its share floored to the currency unit, and
    the k units left go to the k lines with the largest remainders (ties: earner, type,
    source, level). Instead of sorting millions of lines by remainder, the remainders are
    counted in 2^20 buckets: the lines of the buckets above the k-th one get a unit, and
    only the lines of that bucket are sorted. Same allocation as a full sort."""
    cr, unit, digits = ctx.cr, ctx.unit, ctx.digits
    buckets = 1 << 20
    cr.execute(
        SQL(
            """CREATE TEMP TABLE ds_bt_cap ON COMMIT DROP AS
           SELECT ROW_NUMBER() OVER () AS n, u.earner_id, u.bonus_type, u.source_id,
                  u.level, u.base, u.rate, u.origin_line_id, u.fl::int8 AS fl,
                  u.share - u.fl AS rem,
                  FLOOR((u.share - u.fl) * %(buckets)s)::int AS bucket
           FROM (SELECT s.*, FLOOR(s.share) AS fl
                 -- the capped share in currency units (cents): one multiplication by a
                 -- factor PostgreSQL folds once, instead of divisions on every line
                 FROM (SELECT t.*,
                              t.raw * (%(cap)s::numeric / %(rawtot)s::numeric / %(unit)s)
                                  AS share
                       FROM %(lines)s t WHERE t.bonus_type IN %(types)s) s) u;
           SELECT ROUND(%(cap)s::numeric / %(unit)s - COALESCE(SUM(fl), 0))::int8
           FROM ds_bt_cap""",
            cap=cap_amount,
            rawtot=raw_total,
            types=types,
            unit=unit,
            buckets=buckets,
            lines=all_lines,
        )
    )
    k = cr.fetchone()[0] or 0
    threshold, rest = buckets, 0  # no line gets a unit more
    if k > 0:
        cr.execute(
            SQL(
                """SELECT bucket, %(k)s - (cum - n) FROM (
                   SELECT bucket, n, SUM(n) OVER (ORDER BY bucket DESC) AS cum
                   FROM (SELECT bucket, COUNT(*) AS n FROM ds_bt_cap GROUP BY bucket) h) c
               WHERE cum >= %(k)s ORDER BY bucket DESC LIMIT 1""",
                k=k,
            )
        )
        threshold, rest = cr.fetchone()
    # a unit more for the lines of the buckets above the threshold, and for the first
    # ``rest`` lines of the threshold bucket
    extra = SQL(
        """(SELECT c.n, c.fl + CASE WHEN c.bucket > %(threshold)s OR t.n IS NOT NULL
                                  THEN 1 ELSE 0 END AS units, c.earner_id, c.bonus_type,
                   c.source_id, c.level, c.base, c.rate, c.origin_line_id
            FROM ds_bt_cap c
            LEFT JOIN (SELECT n FROM ds_bt_cap WHERE bucket = %(threshold)s
                       ORDER BY rem DESC, earner_id, bonus_type, source_id NULLS FIRST,
                                level, n
                       LIMIT %(rest)s) t ON t.n = c.n)""",
        threshold=threshold,
        rest=rest,
    )
    amounts = SQL(
        """SELECT c.earner_id, c.bonus_type, c.source_id, c.level,
                  ROUND(c.base, %(digits)s) AS base, c.rate, c.units * %(unit)s AS amount,
                  c.origin_line_id
             FROM %(extra)s c
           UNION ALL
           %(uncapped)s""",
        digits=digits,
        unit=unit,
        extra=extra,
        uncapped=uncapped,
    )
    earner_types = SQL(
        """SELECT c.earner_id, c.bonus_type, SUM(c.units) * %(unit)s AS amount
             FROM %(extra)s c WHERE c.units <> 0 GROUP BY c.earner_id, c.bonus_type
           UNION ALL
           SELECT a.earner_id, a.bonus_type, SUM(a.amount) AS amount
             FROM (%(uncapped)s) a
            WHERE a.amount <> 0 GROUP BY a.earner_id, a.bonus_type""",
        unit=unit,
        extra=extra,
        uncapped=uncapped,
    )
    return amounts, earner_types
