from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ds_active_min_pv = fields.Float(
        related="company_id.ds_active_min_pv", readonly=False
    )
    ds_refund_policy = fields.Selection(
        related="company_id.ds_refund_policy", readonly=False
    )
    ds_responsible_user_id = fields.Many2one(
        related="company_id.ds_responsible_user_id", readonly=False
    )
