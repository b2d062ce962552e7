from odoo import _, fields, models
from odoo.exceptions import UserError


class DsPeriodGenerate(models.TransientModel):
    _name = "ds.period.generate"
    _description = "Generate Monthly Periods"

    date_start = fields.Date(
        required=True,
        default=lambda self: fields.Date.context_today(self).replace(month=1, day=1),
    )
    months = fields.Integer(required=True, default=12)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    def action_generate(self):
        self.ensure_one()
        if self.months <= 0 or self.months > 240:
            raise UserError(_("Number of months must be between 1 and 240."))
        periods = self.env["ds.period"]._ds_generate_months(
            self.date_start, self.months, self.company_id
        )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_period"
        )
        action["domain"] = [("id", "in", periods.ids)]
        return action
