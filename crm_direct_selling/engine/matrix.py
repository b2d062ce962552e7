"""Matrix: each distributor's BV paid up the placement tree by placement level.

``matrix_level_ids`` give the rate per level, paid down to ``matrix_depth`` levels; the earner
must be active. With ``matrix_compression`` inactive uplines are skipped and do not count as a
level (as unilevel compression does in the sponsor tree). The walk follows placement_parent_id
(indexed) from every source with BV, bounded by the depth: never a Python loop."""

from odoo.tools import SQL

from .registry import register


@register("matrix", 36, clawback=True, progress=60.0)
def step_matrix(ctx):
    plan = ctx.plan
    if plan.placement_type != "matrix" or not plan.placement_rule:
        return
    levels = plan.matrix_level_ids.filtered(lambda lv: lv.rate > 0)
    max_level = min(max(levels.mapped("level") or [0]), plan.matrix_depth or 0)
    if not max_level:
        return
    ctx.env["ds.plan.matrix.level"].flush_model()
    ctx.env["ds.distributor"].flush_model(["placement_parent_id"])
    counts = SQL(
        "CASE WHEN w.up_active OR NOT %s THEN 1 ELSE 0 END", plan.matrix_compression
    )
    ctx.cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw)
           WITH RECURSIVE walk(source_id, up_id, up_parent, up_active, lvl, base) AS (
               SELECT s.distributor_id, p.id, p.placement_parent_id,
                      COALESCE(pv.active, FALSE), 1, s.bv - s.claw_bv
               FROM ds_bt_vol s
               JOIN ds_distributor sd ON sd.id = s.distributor_id
               JOIN ds_distributor p ON p.id = sd.placement_parent_id
               LEFT JOIN ds_bt_vol pv ON pv.distributor_id = p.id
               WHERE s.bv - s.claw_bv <> 0
             UNION ALL
               SELECT w.source_id, u.id, u.placement_parent_id, COALESCE(uv.active, FALSE),
                      w.lvl + %(counts)s, w.base
               FROM walk w
               JOIN ds_distributor u ON u.id = w.up_parent
               LEFT JOIN ds_bt_vol uv ON uv.distributor_id = u.id
               WHERE w.lvl + %(counts)s <= %(max)s
           )
           SELECT w.up_id, 'matrix', w.source_id, w.lvl, w.base, ml.rate,
                  w.base * ml.rate::numeric / 100
           FROM walk w
           JOIN ds_plan_matrix_level ml ON ml.plan_id = %(plan)s AND ml.level = w.lvl
                AND ml.rate > 0
           WHERE w.up_active""",
            counts=counts,
            max=max_level,
            plan=plan.id,
        )
    )
