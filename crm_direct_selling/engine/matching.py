"""Leadership matching: a percentage of the matched earnings (the rounded earnings of every
type registered with ``matched=True``; today unilevel) of downline leaders, by generation."""

from odoo.tools import SQL

from .registry import matched_types, register

MATCHING_SEQUENCE = 50


def matched_earnings(ctx):
    """SQL of a table (earner_id, amount): the matched earnings of each earner, the sum of
    their lines of the matched types each rounded to the currency."""
    types = matched_types(ctx.env)
    if types == ("unilevel",):
        return SQL("ds_bt_uni")
    parts = []
    if "unilevel" in types:
        parts.append(SQL("SELECT earner_id, amount FROM ds_bt_uni"))
    others = tuple(t for t in types if t != "unilevel")
    if others:
        parts.append(
            SQL(
                """SELECT earner_id, SUM(ROUND(raw, %s)) AS amount FROM ds_bt_line
                   WHERE bonus_type IN %s GROUP BY earner_id""",
                ctx.digits,
                others,
            )
        )
    return SQL(
        "(SELECT earner_id, SUM(amount) AS amount FROM (%s) a GROUP BY earner_id)",
        SQL(" UNION ALL ").join(parts),
    )


@register("matching", MATCHING_SEQUENCE, progress=65.0)
def step_matching(ctx):
    plan = ctx.plan
    leader_seq = plan.matching_rank_id.sequence if plan.matching_rank_id else -1
    max_gen = max(plan.matching_generation_ids.mapped("generation") or [0])
    if not max_gen or not matched_types(ctx.env):
        return
    # 7. leadership matching on the matched (unilevel) earnings of downline leaders by
    #    generation
    is_leader = SQL("(u.active AND u.rank_seq >= %s)", leader_seq)
    ctx.cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw)
           WITH RECURSIVE lead AS (
               SELECT t.earner_id, t.amount AS u
               FROM %(earnings)s t JOIN ds_bt_vol u ON u.distributor_id = t.earner_id
               WHERE %(is_leader)s
           ), walk(leader_id, upline_id, gen) AS (
               SELECT l.earner_id, v.sponsor_id, 1
               FROM lead l JOIN ds_bt_vol v ON v.distributor_id = l.earner_id
               WHERE l.u <> 0 AND v.sponsor_id IS NOT NULL
             UNION ALL
               SELECT w.leader_id, u.sponsor_id,
                      w.gen + CASE WHEN %(is_leader)s THEN 1 ELSE 0 END
               FROM walk w JOIN ds_bt_vol u ON u.distributor_id = w.upline_id
               WHERE u.sponsor_id IS NOT NULL
                 AND w.gen + CASE WHEN %(is_leader)s THEN 1 ELSE 0 END <= %(max)s
           )
           SELECT w.upline_id, 'matching', w.leader_id, w.gen, l.u, g.rate,
                  l.u * g.rate::numeric / 100
           FROM walk w
           JOIN ds_bt_vol u ON u.distributor_id = w.upline_id AND %(is_leader)s
           JOIN lead l ON l.earner_id = w.leader_id
           JOIN ds_plan_matching_generation g ON g.plan_id = %(plan)s
                AND g.generation = w.gen AND g.rate > 0""",
            earnings=matched_earnings(ctx),
            is_leader=is_leader,
            max=max_gen,
            plan=plan.id,
        )
    )
