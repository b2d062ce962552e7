"""Rank advancement: a fixed amount once, the first time a rank is reached."""

from odoo.tools import SQL

from .registry import register


@register("rank_advancement", 40)
def step_rank_advancement(ctx):
    plan = ctx.plan
    # 6. rank advancement: once, the first time a rank is reached (with the plan's option,
    #    also the ranks skipped on the way: above the highest rank before the period)
    if plan.rank_pay_skipped:
        ranks_paid = SQL(
            """JOIN ds_rank rr ON rr.id = rb.rank_id AND rr.active AND rr.sequence > v.prior_seq
                    AND rr.sequence <= v.rank_seq"""
        )
    else:
        ranks_paid = SQL("AND rb.rank_id = v.paid_rank_id")
    ctx.cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw)
           SELECT v.distributor_id, 'rank_advancement', v.distributor_id, 0,
                  rb.amount, 100, rb.amount
           FROM ds_bt_vol v
           JOIN ds_plan_rank_bonus rb ON rb.plan_id = %s %s
           WHERE v.new_rank AND v.good_standing AND rb.amount > 0""",
            plan.id,
            ranks_paid,
        )
    )
