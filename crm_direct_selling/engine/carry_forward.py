"""Carry forward: the amounts the previous posted run of the plan did not pay (below the
minimum payout, or held), paid in with this run (not scaled by the payout cap)."""

from odoo.tools import SQL

from .registry import register


@register("carry_forward", 60, capped=False)
def step_carry_forward(ctx):
    prev = ctx.previous_run
    # 8. carry forward from the previous posted run of the plan (a terminated
    #    distributor's balance is forfeited)
    if not prev:
        return
    ctx.cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw)
           SELECT l.distributor_id, 'carry_forward', NULL, 0, SUM(l.amount),
                  100, SUM(l.amount)
           FROM ds_bonus_line l
           JOIN ds_distributor d ON d.id = l.distributor_id AND d.state <> 'terminated'
           WHERE l.run_id = %s AND l.carried_forward
           GROUP BY l.distributor_id HAVING SUM(l.amount) <> 0""",
            prev.id,
        )
    )
