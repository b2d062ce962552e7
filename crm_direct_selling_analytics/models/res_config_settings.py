from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ds_rfm_window_days = fields.Integer(
        related="company_id.ds_rfm_window_days", readonly=False
    )
    ds_holdout_pct = fields.Float(related="company_id.ds_holdout_pct", readonly=False)
    ds_holdout_seed = fields.Char(related="company_id.ds_holdout_seed", readonly=False)
    ds_campaign_min_group_size = fields.Integer(
        related="company_id.ds_campaign_min_group_size", readonly=False
    )
    ds_decision_async_threshold = fields.Integer(
        related="company_id.ds_decision_async_threshold", readonly=False
    )
