"""Binary: a pairing bonus on the weak leg of each distributor's placement subtree.

The legs, carry and qualification of the period are ``ds.binary.volume`` (computed with the
period's volumes, set-based; recomputed here while the period is open, so a run always pays
the current tree). Rate mode pays ``binary_rate`` % of the paired (weak-leg) volume; cycle
mode pays ``binary_cycle_amount`` per cycle of ``binary_cycle_left`` : ``binary_cycle_right``.
Each earner's binary bonus is at most ``binary_cap`` per period (0: no cap). Matched: the
leadership matching pays on binary earnings like on unilevel ones. Refunds reduce the legs of
the period they are posted in (volume of ds.volume), so a refunded purchase is taken back from
the next pairing rather than by an adjustment line."""

from odoo.tools import SQL

from .registry import register


@register("binary", 35, matched=True, progress=58.0)
def step_binary(ctx):
    plan = ctx.plan
    if plan.placement_type != "binary" or not plan.placement_rule:
        return
    cycle = plan._ds_binary_cycle_mode()
    if not cycle and not plan.binary_rate:
        return
    # an open period's binary volumes follow the current tree: recomputed, unless the volume
    # step just did it for this plan (the company's placement plan)
    if ctx.period.state == "open" and not (
        ctx.volumes_fresh and plan == ctx.period.company_id._ds_placement_plan()
    ):
        ctx.env["ds.binary.volume"].sudo()._ds_compute(ctx.period, plan)
    if cycle:
        # base: the cycles' value, paid at 100 %
        base = SQL("b.cycles * %s::numeric", plan.binary_cycle_amount)
        rate = SQL("100::numeric")
    else:
        base = SQL("b.paired_volume")
        rate = SQL("%s::numeric", plan.binary_rate)
    raw = SQL("%s * %s / 100", base, rate)
    if plan.binary_cap:
        raw = SQL("LEAST(%s, %s::numeric)", raw, plan.binary_cap)
    ctx.cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw)
           SELECT b.distributor_id, 'binary', b.distributor_id, 0, %(base)s, %(rate)s,
                  %(raw)s
           FROM ds_binary_volume b
           JOIN ds_bt_vol g ON g.distributor_id = b.distributor_id AND g.good_standing
           WHERE b.period_id = %(period)s AND b.plan_id = %(plan)s AND b.qualified
             AND %(base)s > 0""",
            base=base,
            rate=rate,
            raw=raw,
            period=ctx.period.id,
            plan=plan.id,
        )
    )
