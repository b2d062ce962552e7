from odoo import api, fields, models
from odoo.tools import SQL

from .ds_volume import cents_at_least


class ResPartner(models.Model):
    """Lifecycle automation on contacts: stored next occurrences (rolled
    forward by the daily lifecycle cron, set-based), opt-out, and the
    personalisation values used by the lifecycle mail templates."""

    _inherit = "res.partner"

    ds_lifecycle_opt_out = fields.Boolean(
        string="No Lifecycle Messages",
        help="Never send birthday, anniversary, welcome or reminder messages to this contact.",
    )
    ds_first_purchase_date = fields.Date(
        string="First Purchase",
        readonly=True,
        copy=False,
        help="Date of the first posted customer invoice (filled by the daily lifecycle cron).",
    )
    ds_next_birthday = fields.Date(
        string="Next Birthday",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Next birthday, rolled forward daily. A 29 February birthday falls on 28 February in "
        "non-leap years.",
    )
    ds_next_purchase_anniversary = fields.Date(
        string="Next Purchase Anniversary",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    ds_next_rank_id = fields.Many2one(
        "ds.rank", string="Next Rank", compute="_compute_ds_rank_progress"
    )
    ds_pv_to_next_rank = fields.Float(
        string="PV to Next Rank",
        compute="_compute_ds_rank_progress",
        help="Personal volume still missing in the current open period to reach the next rank.",
    )
    ds_loyalty_points = fields.Float(
        string="Loyalty Points",
        compute="_compute_ds_loyalty_points",
        help="Points balance on loyalty cards (when the Loyalty app is installed).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        partners.filtered("ds_birthday")._ds_roll_next_occurrences()
        return partners

    def write(self, vals):
        res = super().write(vals)
        if {"ds_birthday", "ds_first_purchase_date"} & set(vals):
            self._ds_roll_next_occurrences()
        return res

    def _ds_roll_next_occurrences(self):
        """Recompute the stored next birthday / purchase anniversary of these
        partners at once (one UPDATE each); the daily cron rolls the rest."""
        if self.ids:
            Rule = self.env["ds.lifecycle.rule"].sudo()
            Rule._roll_partner_occurrences(
                Rule._lifecycle_ref_date(), partner_ids=self.ids
            )

    @api.depends_context("ds_lifecycle_today")
    def _compute_ds_rank_progress(self):
        """Batched: one query for the next ranks and current-period PV."""
        self.ds_next_rank_id = False
        self.ds_pv_to_next_rank = 0.0
        distributor_partners = self.filtered("ds_distributor_id")
        if not distributor_partners:
            return
        # the lifecycle cron renders with the day it processes (replays included)
        today = self.env.context.get("ds_lifecycle_today") or fields.Date.context_today(
            self
        )
        for model in ("ds.volume", "ds.period", "ds.rank", "ds.distributor"):
            self.env[model].flush_model()
        # the next rank and the PV counted toward it as the volume step stored them for the
        # current period (ds.volume._ds_rank_progress reads the same); a period not computed
        # yet (or a row without ranks, e.g. entered by hand): the rank after the distributor's
        # rank; at the top rank (a paid-as rank and no next rank) none
        rows = self.env.execute_query(
            SQL(
                """
            SELECT d.partner_id, r.id, r.min_pv, COALESCE(v.pv, 0)
              FROM ds_distributor d
         LEFT JOIN ds_rank cur ON cur.id = d.rank_id
         LEFT JOIN LATERAL (
                    SELECT vol.id, vol.pv, vol.next_rank_id, vol.paid_rank_id, vol.distributor_state
                      FROM ds_volume vol
                      JOIN ds_period per ON per.id = vol.period_id
                     WHERE vol.distributor_id = d.id AND per.company_id = d.company_id
                       AND per.date_from <= %s AND per.date_to >= %s
                  ORDER BY per.date_from DESC LIMIT 1) v ON TRUE
         LEFT JOIN LATERAL (
                    SELECT nr.id FROM ds_rank nr
                     WHERE (v.id IS NULL OR (v.next_rank_id IS NULL AND v.paid_rank_id IS NULL))
                       AND nr.active
                       AND nr.sequence > COALESCE(cur.sequence, -2147483648)
                       AND (nr.company_id IS NULL OR nr.company_id = d.company_id)
                  ORDER BY nr.sequence, nr.id LIMIT 1) nxt ON TRUE
              JOIN ds_rank r ON r.id = CASE WHEN d.state = 'terminated' THEN NULL
                                            WHEN v.distributor_state = 'terminated' THEN NULL
                                            ELSE COALESCE(v.next_rank_id, nxt.id) END
             WHERE d.id = ANY(%s)
            """,
                today,
                today,
                distributor_partners.ds_distributor_id.ids,
            )
        )
        # in whole cents, as the volume step decides (cents_at_least)
        values = {
            partner_id: (
                rank_id,
                max(0, cents_at_least(min_pv) - round(float(pv) * 100)) / 100,
            )
            for partner_id, rank_id, min_pv, pv in rows
        }
        for partner in distributor_partners:
            rank_id, missing = values.get(
                partner.ds_distributor_id.partner_id.id, (False, 0.0)
            )
            partner.ds_next_rank_id = rank_id
            partner.ds_pv_to_next_rank = missing

    def _compute_ds_loyalty_points(self):
        self.ds_loyalty_points = 0.0
        if "loyalty.card" not in self.env or not self.ids:
            return
        groups = (
            self.env["loyalty.card"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", self.ids),
                    ("program_id.program_type", "=", "loyalty"),
                ],
                ["partner_id"],
                ["points:sum"],
            )
        )
        points = {partner.id: total for partner, total in groups}
        for partner in self:
            partner.ds_loyalty_points = points.get(partner.id, 0.0)
