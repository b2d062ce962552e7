from odoo import api, fields, models


class DsDistributor(models.Model):
    """Lifecycle automation on distributors: the next enrollment anniversary,
    rolled forward by the daily lifecycle cron (set-based)."""

    _inherit = "ds.distributor"

    ds_next_enrollment_anniversary = fields.Date(
        string="Next Enrollment Anniversary",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Rolled forward daily. Enrolled on 29 February: celebrated on 28 February in non-leap years.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        distributors = super().create(vals_list)
        distributors._ds_roll_enrollment_anniversary()
        return distributors

    def write(self, vals):
        res = super().write(vals)
        if "enrollment_date" in vals:
            self._ds_roll_enrollment_anniversary()
        return res

    def _ds_roll_enrollment_anniversary(self):
        if self.ids:
            Rule = self.env["ds.lifecycle.rule"].sudo()
            Rule._roll_enrollment_anniversaries(
                Rule._lifecycle_ref_date(), distributor_ids=self.ids
            )
