"""Binary volumes per distributor and period, computed set-based from the placement tree.

For a period of a company whose placement plan is binary, every placed distributor with volume
in a leg (this period's or carried in) gets one row:

* ``left_volume`` / ``right_volume``: the period's PV (ds.volume.pv, so the volume step runs
  first) of the placement subtree under slot 1 / slot 2, refunds included (they can make a leg
  negative);
* ``left_carry_in`` / ``right_carry_in``: the carry out of the previous period of the company;
* ``qualified``: active in the period (ds.volume.is_active) and, when the plan requires it, a
  personally sponsored active distributor in each leg;
* pairing of the totals (volume + carry in, at least 0) of a qualified distributor: rate mode
  pairs the weak leg (``paired_volume`` = min of the totals); cycle mode pays whole cycles of
  ``binary_cycle_left`` : ``binary_cycle_right`` (``cycles``; ``paired_volume`` = the smaller of
  the volumes the cycles used);
* ``left_carry_out`` / ``right_carry_out``: each total minus what the pairing used, at most
  ``binary_carry_max`` (0: no cap), and 0 once the distributor has been inactive
  ``binary_flush_periods`` periods in a row (``inactive_periods`` counts them; 0: never).
  An unqualified distributor pairs nothing and carries everything (within the cap).

The pairing cap (``binary_cap``) limits the bonus paid, not the volume (the binary bonus step
pays from ``paired_volume`` / ``cycles``). Like ds.volume this is a derived table without foreign
keys (derived_table.py): a closed period's rows never change.

The legs' volumes come from one bottom-up pass over the placement depths (one UPDATE per level
of a temporary table, deepest first, inside PostgreSQL), so the cost is linear in the tree and
a 10,000-deep chain is 10,000 small statements, never a Python loop per distributor.
"""

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .derived_table import ensure_table, unlink_and_apply


class DsBinaryVolume(models.Model):
    _name = "ds.binary.volume"
    _description = "Binary Volume"
    _order = "period_id desc, distributor_id"
    _rec_name = "distributor_id"
    _auto = False

    distributor_id = fields.Many2one("ds.distributor", required=True, readonly=True)
    period_id = fields.Many2one("ds.period", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    plan_id = fields.Many2one("ds.plan", readonly=True)
    left_volume = fields.Float(readonly=True, digits=(16, 2))
    right_volume = fields.Float(readonly=True, digits=(16, 2))
    left_carry_in = fields.Float(readonly=True, digits=(16, 2))
    right_carry_in = fields.Float(readonly=True, digits=(16, 2))
    left_carry_out = fields.Float(readonly=True, digits=(16, 2))
    right_carry_out = fields.Float(readonly=True, digits=(16, 2))
    paired_volume = fields.Float(readonly=True, digits=(16, 2))
    cycles = fields.Integer(readonly=True)
    qualified = fields.Boolean(readonly=True)
    is_active = fields.Boolean(readonly=True)
    inactive_periods = fields.Integer(
        readonly=True,
        aggregator="max",
        help="Inactive periods in a row up to this one.",
    )
    flushed = fields.Boolean(
        readonly=True, help="The carry was flushed: too many inactive periods in a row."
    )

    def init(self):
        ensure_table(
            self.env.cr,
            self._table,
            [
                ("distributor_id", "int4 NOT NULL"),
                ("period_id", "int4 NOT NULL"),
                ("company_id", "int4 NOT NULL"),
                ("plan_id", "int4"),
                ("left_volume", "numeric"),
                ("right_volume", "numeric"),
                ("left_carry_in", "numeric"),
                ("right_carry_in", "numeric"),
                ("left_carry_out", "numeric"),
                ("right_carry_out", "numeric"),
                ("paired_volume", "numeric"),
                ("cycles", "int4"),
                ("qualified", "bool"),
                ("is_active", "bool"),
                ("inactive_periods", "int4"),
                ("flushed", "bool"),
            ],
            indexes=[("ds_binary_volume__period_id_index", ("period_id",))],
            unique=[
                (
                    "ds_binary_volume_distributor_period_key",
                    ("distributor_id", "period_id"),
                )
            ],
        )

    def _ds_previous_period(self, period):
        return (
            self.env["ds.period"]
            .sudo()
            .search(
                [
                    ("company_id", "=", period.company_id.id),
                    ("date_to", "<", period.date_from),
                ],
                order="date_to desc",
                limit=1,
            )
        )

    def _ds_compute(self, period, plan=None):
        """Recompute the binary volumes of ``period`` (open) under ``plan`` (default: the
        company's placement plan when it is binary). Returns the number of rows written."""
        period.ensure_one()
        plan = plan or period.company_id._ds_placement_plan()
        if not plan or plan.placement_type != "binary":
            return 0
        if period.state != "open":
            raise UserError(
                _(
                    "Period %s is closed: its binary volumes never change.",
                    period.display_name,
                )
            )
        self.env.flush_all()
        cr = self.env.cr
        previous = self._ds_previous_period(period)
        cycle = plan._ds_binary_cycle_mode()
        cr.execute(
            SQL(
                """
            DROP TABLE IF EXISTS ds_tmp_bin;
            CREATE TEMP TABLE ds_tmp_bin ON COMMIT DROP AS
            SELECT d.id, d.placement_parent_id AS parent, d.placement_slot AS slot,
                   d.placement_depth AS depth, COALESCE(v.pv, 0)::numeric AS pv,
                   COALESCE(v.pv, 0)::numeric AS gv, COALESCE(v.is_active, FALSE) AS active
              FROM ds_distributor d
         LEFT JOIN ds_volume v ON v.distributor_id = d.id AND v.period_id = %(period)s
             WHERE d.company_id = %(company)s AND d.placement_path IS NOT NULL;
            CREATE UNIQUE INDEX ON ds_tmp_bin (id);
            CREATE INDEX ON ds_tmp_bin (depth);
            ANALYZE ds_tmp_bin;
            DO $ds$
            DECLARE
                lvl int;
            BEGIN
                FOR lvl IN SELECT DISTINCT depth FROM ds_tmp_bin WHERE depth > 0
                            ORDER BY depth DESC
                LOOP
                    UPDATE ds_tmp_bin p SET gv = p.pv + s.gv
                      FROM (SELECT parent, SUM(gv) AS gv FROM ds_tmp_bin
                             WHERE depth = lvl GROUP BY parent) s
                     WHERE p.id = s.parent;
                END LOOP;
            END
            $ds$;
            DELETE FROM ds_binary_volume WHERE period_id = %(period)s;
            WITH legs AS (
                SELECT parent AS id,
                       COALESCE(SUM(gv) FILTER (WHERE slot = 1), 0) AS lv,
                       COALESCE(SUM(gv) FILTER (WHERE slot = 2), 0) AS rv
                  FROM ds_tmp_bin WHERE parent IS NOT NULL GROUP BY parent
            ), sponsored AS (
                -- the leg (slot of the sponsor's placement child) of each personally
                -- sponsored active distributor placed below their sponsor
                SELECT DISTINCT sp.id, c.placement_slot AS slot
                  FROM ds_tmp_bin sb
                  JOIN ds_distributor s ON s.id = sb.id
                  JOIN ds_distributor sp ON sp.id = s.sponsor_id
                  JOIN ds_distributor c
                    ON c.id = split_part(substr(s.placement_path,
                                                length(sp.placement_path) + 1), '/', 1)::int
                 WHERE sb.active AND sp.placement_path IS NOT NULL
                   AND starts_with(s.placement_path, sp.placement_path)
            ), prev AS (
                SELECT distributor_id AS id, left_carry_out, right_carry_out, inactive_periods
                  FROM ds_binary_volume WHERE period_id = %(previous)s
            ), base AS (
                SELECT b.id, b.active, COALESCE(l.lv, 0) AS lv, COALESCE(l.rv, 0) AS rv,
                       COALESCE(p.left_carry_out, 0) AS lci, COALESCE(p.right_carry_out, 0) AS rci,
                       CASE WHEN b.active THEN 0 ELSE COALESCE(p.inactive_periods, 0) + 1 END
                           AS inactive,
                       b.active AND (NOT %(requires)s
                                     OR (EXISTS (SELECT 1 FROM sponsored x
                                                  WHERE x.id = b.id AND x.slot = 1)
                                         AND EXISTS (SELECT 1 FROM sponsored x
                                                      WHERE x.id = b.id AND x.slot = 2)))
                           AS qualified
                  FROM ds_tmp_bin b
             LEFT JOIN legs l ON l.id = b.id
             LEFT JOIN prev p ON p.id = b.id
            ), totals AS (
                SELECT *, GREATEST(lv + lci, 0) AS lt, GREATEST(rv + rci, 0) AS rt
                  FROM base
                 WHERE lv != 0 OR rv != 0 OR lci != 0 OR rci != 0
            ), cyc AS (
                SELECT *,
                       CASE WHEN qualified AND %(cycle)s
                            THEN LEAST(floor(lt / %(cl)s::numeric), floor(rt / %(cr)s::numeric))::int
                            ELSE 0 END AS cycles
                  FROM totals
            ), used AS (
                SELECT *,
                       CASE WHEN NOT qualified THEN 0
                            WHEN %(cycle)s THEN cycles * %(cl)s::numeric
                            ELSE LEAST(lt, rt) END AS lu,
                       CASE WHEN NOT qualified THEN 0
                            WHEN %(cycle)s THEN cycles * %(cr)s::numeric
                            ELSE LEAST(lt, rt) END AS ru,
                       %(flush)s > 0 AND inactive >= %(flush)s AS flushed
                  FROM cyc
            )
            INSERT INTO ds_binary_volume (
                distributor_id, period_id, company_id, plan_id, left_volume, right_volume,
                left_carry_in, right_carry_in, left_carry_out, right_carry_out, paired_volume,
                cycles, qualified, is_active, inactive_periods, flushed)
            SELECT id, %(period)s, %(company)s, %(plan)s, lv, rv, lci, rci,
                   CASE WHEN flushed THEN 0
                        WHEN %(cmax)s::numeric > 0 THEN LEAST(lt - lu, %(cmax)s::numeric) ELSE lt - lu END,
                   CASE WHEN flushed THEN 0
                        WHEN %(cmax)s::numeric > 0 THEN LEAST(rt - ru, %(cmax)s::numeric) ELSE rt - ru END,
                   LEAST(lu, ru), cycles, qualified, active, inactive, flushed
              FROM used;
            DROP TABLE ds_tmp_bin;
            """,
                period=period.id,
                company=period.company_id.id,
                previous=previous.id or 0,
                plan=plan.id,
                requires=bool(plan.binary_requires_sponsored_legs),
                cycle=cycle,
                # never 0: a division by zero even in a branch not taken is an error
                cl=plan.binary_cycle_left or 1,
                cr=plan.binary_cycle_right or 1,
                flush=plan.binary_flush_periods,
                cmax=plan.binary_carry_max,
            )
        )
        cr.execute(
            SQL("SELECT count(*) FROM ds_binary_volume WHERE period_id = %s", period.id)
        )
        count = cr.fetchone()[0]
        self.invalidate_model()
        return count


class DsVolume(models.Model):
    _inherit = "ds.volume"

    def _ds_compute(self, period, *args, **kwargs):
        """The volume step, then the binary volumes of the period (binary placement plans)."""
        res = super()._ds_compute(period, *args, **kwargs)
        self.env["ds.binary.volume"].sudo()._ds_compute(period)
        return res


class DsBonusRun(models.Model):
    _inherit = "ds.bonus.run"

    # the run's totals of the placement plans' bonus types (written by the engine per
    # amount_<type> field)
    amount_binary = fields.Monetary(
        "Binary", readonly=True, copy=False, groups="crm_direct_selling.group_ds_user"
    )
    amount_matrix = fields.Monetary(
        "Matrix", readonly=True, copy=False, groups="crm_direct_selling.group_ds_user"
    )


class DsPeriod(models.Model):
    _inherit = "ds.period"

    binary_volume_ids = fields.One2many("ds.binary.volume", "period_id")

    def unlink(self):
        return unlink_and_apply(
            self, super().unlink, [("ds_binary_volume", "period_id", "cascade")]
        )


class DsDistributor(models.Model):
    _inherit = "ds.distributor"

    binary_left_carry = fields.Float(
        string="Left Carry",
        compute="_compute_binary_carry",
        help="Unpaired left-leg volume carried out of the latest period with binary volumes.",
    )
    binary_right_carry = fields.Float(
        string="Right Carry",
        compute="_compute_binary_carry",
        help="Unpaired right-leg volume carried out of the latest period with binary volumes.",
    )

    def _compute_binary_carry(self):
        self.binary_left_carry = self.binary_right_carry = 0.0
        ids = [i for i in self.ids if i]
        if not ids:
            return
        self.env["ds.binary.volume"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT ON (b.distributor_id) b.distributor_id,
                          b.left_carry_out, b.right_carry_out
                     FROM ds_binary_volume b JOIN ds_period p ON p.id = b.period_id
                    WHERE b.distributor_id = ANY(%s)
                 ORDER BY b.distributor_id, p.date_from DESC""",
                ids,
            )
        )
        carry = {r[0]: (float(r[1] or 0), float(r[2] or 0)) for r in rows}
        for rec in self:
            rec.binary_left_carry, rec.binary_right_carry = carry.get(
                rec.id, (0.0, 0.0)
            )

    def unlink(self):
        return unlink_and_apply(
            self, super().unlink, [("ds_binary_volume", "distributor_id", "cascade")]
        )
