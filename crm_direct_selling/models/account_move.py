from odoo import api, fields, models
from odoo.tools import SQL

from .derived_table import unlink_and_apply


class AccountMove(models.Model):
    _inherit = "account.move"

    ds_pv_total = fields.Float(
        string="Total PV", digits=(16, 2), compute="_compute_ds_totals", store=True
    )
    ds_bv_total = fields.Float(
        string="Total BV", digits=(16, 2), compute="_compute_ds_totals", store=True
    )
    ds_distributor_id = fields.Many2one(
        "ds.distributor",
        string="Credited Distributor",
        index=True,
        readonly=True,
        copy=False,
        help="Distributor credited with this invoice's volume, set when the invoice is posted: "
        "the buyer if a distributor, else the buyer's referrer.",
    )
    ds_period_id = fields.Many2one(
        "ds.period",
        string="Volume Period",
        index=True,
        readonly=True,
        copy=False,
        help="Period in which this invoice's volume counts, set when it is posted.",
    )

    @api.depends("invoice_line_ids.ds_pv", "invoice_line_ids.ds_bv")
    def _compute_ds_totals(self):
        for move in self:
            lines = move.invoice_line_ids
            move.ds_pv_total = sum(lines.mapped("ds_pv"))
            move.ds_bv_total = sum(lines.mapped("ds_bv"))

    def unlink(self):
        # ds.bonus.line keeps no foreign keys (derived_table.py): its ondelete='set null', by hand
        return unlink_and_apply(
            self, super().unlink, [("ds_bonus_line", "move_id", "set null")]
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(
            lambda m: m.move_type in ("out_invoice", "out_refund")
        )._ds_assign_volume()
        return posted

    def _ds_assign_volume(self):
        """Set ds_distributor_id and ds_period_id on posted customer invoices / refunds.

        Set-based: the (distributor, period) of each move is worked out in Python (the
        periods looked up once per date and company), then written for the whole set in
        one UPDATE (a batch of autoship invoices is posted at once)."""
        if not self:
            return
        Period = self.env["ds.period"].sudo()
        periods = {}  # (date, company) -> period
        values = []  # (move id, distributor id, period id)
        for move in self:
            origin = (
                move.reversed_entry_id
                if move.move_type == "out_refund"
                else self.browse()
            )
            distributor = (
                origin.ds_distributor_id or move.partner_id._ds_credited_distributor()
            )
            period = Period.browse()
            if (
                origin.ds_period_id
                and move.company_id.ds_refund_policy == "original_period"
                and origin.ds_period_id.state == "open"
            ):
                period = origin.ds_period_id
            if not period:
                key = (move.date, move.company_id)
                if key not in periods:
                    periods[key] = Period._ds_period_for_date(*key)
                period = periods[key]
            values.append((move.id, distributor.id or None, period.id or None))
        self.flush_recordset(["ds_distributor_id", "ds_period_id"])
        ids, distributors, period_ids = (list(col) for col in zip(*values, strict=True))
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET ds_distributor_id = v.distributor_id, ds_period_id = v.period_id,
                       write_uid = %(uid)s, write_date = now() AT TIME ZONE 'UTC'
                  FROM unnest(%(ids)s::int[], %(distributors)s::int[], %(periods)s::int[])
                       AS v(id, distributor_id, period_id)
                 WHERE m.id = v.id
                """,
                uid=self.env.uid,
                ids=ids,
                distributors=distributors,
                periods=period_ids,
            )
        )
        self.invalidate_recordset(
            ["ds_distributor_id", "ds_period_id", "write_uid", "write_date"]
        )
        self.modified(["ds_distributor_id", "ds_period_id"])
