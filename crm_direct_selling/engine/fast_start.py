"""Fast start: the recruit's BV of their first N days, to their (snapshot) sponsor."""

from odoo.tools import SQL

from .registry import register


@register("fast_start", 20, clawback=True, progress=35.0)
def step_fast_start(ctx):
    # 4. fast start: the recruit's BV of their first N days, to the (snapshot) sponsor
    plan, period = ctx.plan, ctx.period
    fs_days = plan.fast_start_days
    if not (plan.fast_start_rate and fs_days):
        return
    ctx.cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw)
           SELECT v.sponsor_id, 'fast_start', v.distributor_id, 1, f.bv, %(rate)s,
                  f.bv * %(rate)s / 100
           FROM (SELECT v.distributor_id AS did, SUM(m.ds_bv_total)::numeric AS bv
                 FROM ds_bt_vol v
                 JOIN account_move m ON m.ds_distributor_id = v.distributor_id
                      AND m.invoice_date < v.enrollment_date + %(days)s
                 WHERE v.enrollment_date + %(days)s > %(date_from)s
                   AND m.ds_period_id = %(period)s AND m.state = 'posted'
                   AND m.move_type IN ('out_invoice', 'out_refund')
                   AND NOT EXISTS (SELECT 1 FROM ds_bt_claw_move c WHERE c.move_id = m.id)
                 GROUP BY 1) f
           JOIN ds_bt_vol v ON v.distributor_id = f.did
           JOIN ds_bt_vol sp ON sp.distributor_id = v.sponsor_id AND sp.active
           WHERE f.bv <> 0""",
            rate=plan.fast_start_rate,
            days=fs_days,
            date_from=period.date_from,
            period=period.id,
        )
    )
