"""The final write: totals per earner (minimum payout, held payouts), one INSERT of the
ds_bonus_line rows, and the figures of the run."""

from odoo.tools import SQL

from .sql import drop_temp_tables


def write_lines(ctx):
    """Write the run's lines; return its figures (totals per type in ``by_type``)."""
    cr, stats = ctx.cr, ctx.stats
    # 11. per earner and type, then per earner: the total decides the minimum payout
    #     (earners whose total is below it, or not positive, are carried forward), and so
    #     does the status: a distributor suspended or terminated now is not paid (held:
    #     carried forward; a terminated one's balance is forfeited by the next run). An
    #     earner without a volume row in the period was terminated before it.
    cr.execute(
        SQL(
            """CREATE TEMP TABLE ds_bt_earner_type ON COMMIT DROP AS %(earner_types)s;
           CREATE TEMP TABLE ds_bt_earner ON COMMIT DROP AS
           SELECT t.earner_id, SUM(t.amount) AS total,
                  (SUM(t.amount) < %(min)s OR SUM(t.amount) <= 0
                   OR BOOL_OR(v.held IS NOT FALSE)) AS carried
           FROM ds_bt_earner_type t
           LEFT JOIN ds_bt_vol v ON v.distributor_id = t.earner_id
           GROUP BY t.earner_id;
           ANALYZE ds_bt_earner""",
            earner_types=stats["earner_types"],
            min=ctx.plan.min_payout,
        )
    )
    # 12. one INSERT of the final lines, grouped by earner: the run's (run_id, distributor_id)
    #     index is then written in order (in random order the INSERT takes twice as long)
    cr.execute(
        SQL(
            """INSERT INTO ds_bonus_line (run_id, distributor_id, bonus_type,
               source_distributor_id, level, base, rate, amount, carried_forward,
               company_id, origin_line_id)
           SELECT %(run)s, t.earner_id, t.bonus_type, t.source_id, t.level, t.base, t.rate,
                  t.amount, e.carried, %(company)s, t.origin_line_id
           FROM (%(amounts)s) t
           JOIN ds_bt_earner e ON e.earner_id = t.earner_id
           WHERE t.amount <> 0
           ORDER BY t.earner_id""",
            run=ctx.run_id,
            company=ctx.company_id,
            amounts=stats["amounts"],
        )
    )
    line_count = cr.rowcount
    cr.execute(
        SQL("SELECT bonus_type, SUM(amount) FROM ds_bt_earner_type GROUP BY bonus_type")
    )
    by_type = dict(cr.fetchall())
    cr.execute(
        SQL(
            """SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT carried),
                  COALESCE(SUM(total) FILTER (WHERE NOT carried), 0),
                  COALESCE(SUM(total) FILTER (WHERE carried), 0)
           FROM ds_bt_earner"""
        )
    )
    earners, paid_earners, paid, carried = cr.fetchone()
    drop_temp_tables(cr)
    period_bv = stats["period_bv"]
    return {
        "by_type": by_type,
        "line_count": line_count,
        "earner_count": earners,
        "paid_earner_count": paid_earners,
        "total_amount": paid,
        "amount_carried_out": carried,
        "period_bv": period_bv,
        "raw_amount": float(stats["raw_total"]),
        "cap_amount": stats["cap_amount"],
        "cap_factor": stats["cap_factor"],
        "payout_ratio": (float(paid) / period_bv * 100.0) if period_bv else 0.0,
    }
