"""Adjustments: clawbacks of the bonuses an earlier posted run paid on volume refunded in
this period (the types registered with ``clawback=True``, and the leadership matching paid
on the matched earnings clawed back). Not scaled by the payout cap."""

from odoo.tools import SQL

from .registry import clawback_types, matched_types, register


@register("adjustment", 90, capped=False, progress=75.0)
def step_adjustment(ctx):
    cr = ctx.cr
    types = clawback_types(ctx.env)
    if not types:
        return
    # 9. clawback adjustments: the earlier run's lines with source = the credited
    #    distributor, same earners and rates, pro-rated by the refunded BV (per type: the
    #    refunded BV for unilevel, the refunded BV of the first days for fast start, the
    #    refunded retail BV or sales for retail)
    cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw,
                                   origin_line_id)
           SELECT l0.distributor_id, 'adjustment', c.distributor_id, l0.level, b.claw,
                  l0.rate, l0.amount * b.claw / l0.base, l0.id
           FROM ds_bt_claw c
           JOIN ds_bonus_line l0 ON l0.run_id = c.orig_run_id
                AND l0.source_distributor_id = c.distributor_id
                AND l0.bonus_type IN %(types)s
                AND l0.base <> 0
           CROSS JOIN LATERAL (SELECT CASE l0.bonus_type
                   WHEN 'unilevel' THEN c.bv
                   WHEN 'matrix' THEN c.bv
                   WHEN 'fast_start' THEN c.fast_bv
                   ELSE CASE WHEN %(price)s THEN c.retail_sales ELSE c.retail_bv END
               END AS claw) b
           WHERE b.claw <> 0""",
            types=types,
            price=ctx.plan.retail_mode == "price_diff",
        )
    )
    matched = tuple(t for t in matched_types(ctx.env) if t in types)
    if not matched:
        return
    # nothing clawed back above (the usual case): no matching to claw back either. The
    # query below is not even planned then: joined to a ds_bonus_line holding an earlier
    # run's lines written in this transaction (not analyzed yet), its plan could loop over
    # them for minutes. Otherwise fresh statistics of the lines for the planner.
    cr.execute(SQL("SELECT 1 FROM ds_bt_line WHERE bonus_type = 'adjustment' LIMIT 1"))
    if not cr.rowcount:
        return
    cr.execute(SQL("ANALYZE ds_bt_line"))
    # ... and the leadership matching paid on those unilevel earnings: the earlier run's
    #     matching lines whose source (the leader) lost unilevel earnings above, same
    #     earners and rates, pro-rated by the leader's lost earnings (before the cap)
    cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw,
                                   origin_line_id)
           SELECT m0.distributor_id, 'adjustment', m0.source_distributor_id, m0.level,
                  u.lost, m0.rate, m0.amount * u.lost / m0.base, m0.id
           FROM (SELECT t.earner_id, l0.run_id, SUM(t.base * t.rate / 100) AS lost
                 FROM ds_bt_line t
                 JOIN ds_bonus_line l0 ON l0.id = t.origin_line_id AND l0.bonus_type IN %s
                 WHERE t.bonus_type = 'adjustment'
                 GROUP BY t.earner_id, l0.run_id) u
           JOIN ds_bonus_line m0 ON m0.run_id = u.run_id AND m0.bonus_type = 'matching'
                AND m0.source_distributor_id = u.earner_id AND m0.base <> 0
           WHERE u.lost <> 0""",
            matched,
        )
    )
