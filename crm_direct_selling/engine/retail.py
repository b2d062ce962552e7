"""Retail profit: referred (non-distributor) customers' purchases, to the distributor they
are credited to."""

from odoo.tools import SQL

from .registry import register
from .sql import period_lines, period_moves


@register("retail", 10, clawback=True)
def step_retail(ctx):
    # 3. retail profit: referred (non-distributor) customers' purchases
    plan = ctx.plan
    if plan.retail_mode == "none":
        return
    if plan.retail_mode == "bv_rate":
        # the invoices' stored BV totals (sums of their lines' signed BV)
        rate, base_expr, source = (
            plan.retail_rate,
            SQL("m.ds_bv_total"),
            period_moves(ctx),
        )
    else:
        rate, base_expr, source = (
            plan.retail_discount_pct,
            SQL("-l.balance"),
            period_lines(ctx),
        )
    if rate:
        ctx.cr.execute(
            SQL(
                """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw)
               SELECT r.did, 'retail', r.did, 0, r.base, %(rate)s, r.base * %(rate)s / 100
               FROM (SELECT m.ds_distributor_id AS did, SUM(%(base)s)::numeric AS base
                     %(source)s
                       AND NOT EXISTS (SELECT 1 FROM ds_distributor b
                                       WHERE b.partner_id = m.commercial_partner_id)
                     GROUP BY 1) r
               JOIN ds_bt_vol g ON g.distributor_id = r.did AND g.good_standing
               WHERE r.base <> 0""",
                rate=rate,
                base=base_expr,
                source=source,
            )
        )
