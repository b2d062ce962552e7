from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ds_onboarding_channel_ids = fields.Many2many(
        related="company_id.ds_onboarding_channel_ids", readonly=False
    )
