"""Unilevel: each distributor's BV paid up the (snapshot) sponsor chain by level.

Its lines (millions) go to ds_bt_uni_line, summed once per earner into ds_bt_uni."""

from odoo.tools import SQL

from .registry import register


@register("unilevel", 30, matched=True, clawback=True, progress=55.0)
def step_unilevel(ctx):
    cr, plan = ctx.cr, ctx.plan
    max_level = plan.max_level
    # 5. unilevel: walk up the snapshot sponsor chain, bounded by the plan's max level;
    #    with compression inactive uplines do not count as a level. Each row of the walk
    #    carries its upline's activity and paid levels, so the lines come out of the walk
    #    without joining its millions of rows back to the volumes.
    if max_level:
        counts = SQL(
            "CASE WHEN w.up_active OR NOT %s THEN 1 ELSE 0 END", plan.compression
        )
        cr.execute(
            SQL(
                """INSERT INTO ds_bt_uni_line (earner_id, bonus_type, source_id, level, base, rate, raw)
               WITH RECURSIVE walk(source_id, up_id, up_sponsor, up_active, up_levels, lvl, base) AS (
                   SELECT s.distributor_id, p.distributor_id, p.sponsor_id, p.active,
                          p.paid_levels, 1, s.bv - s.claw_bv
                   FROM ds_bt_vol s JOIN ds_bt_vol p ON p.distributor_id = s.sponsor_id
                   WHERE s.bv - s.claw_bv <> 0
                 UNION ALL
                   SELECT w.source_id, u.distributor_id, u.sponsor_id, u.active, u.paid_levels,
                          w.lvl + %(counts)s, w.base
                   FROM walk w JOIN ds_bt_vol u ON u.distributor_id = w.up_sponsor
                   WHERE w.lvl + %(counts)s <= %(max)s
               )
               SELECT w.up_id, 'unilevel', w.source_id, w.lvl, w.base, pl.rate,
                      w.base * pl.rate::numeric / 100
               FROM walk w
               JOIN ds_plan_level pl ON pl.plan_id = %(plan)s AND pl.level = w.lvl
                    AND pl.rate > 0
               WHERE w.up_active AND w.up_levels >= w.lvl""",
                counts=counts,
                max=max_level,
                plan=plan.id,
            )
        )
    # per earner, in one pass over the unilevel lines: the rounded earnings (the base of
    # leadership matching and the earner's unilevel total), the raw sum (the payout cap) and
    # the lines that are not zero once rounded (only those are written)
    cr.execute(
        SQL(
            """CREATE TEMP TABLE ds_bt_uni ON COMMIT DROP AS
           SELECT earner_id, SUM(ROUND(raw, %(digits)s)) AS amount, SUM(raw) AS raw,
                  COUNT(*) FILTER (WHERE ROUND(raw, %(digits)s) <> 0) AS lines
           FROM ds_bt_uni_line GROUP BY earner_id;
           CREATE UNIQUE INDEX ON ds_bt_uni (earner_id);
           ANALYZE ds_bt_uni""",
            digits=ctx.digits,
        )
    )
