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
    group_ds_placement = fields.Boolean(
        "Placement Tree",
        implied_group="crm_direct_selling.group_ds_placement",
        help="Show the placement tree (binary and matrix plans) in the back office.",
    )
    ds_placement_plan_id = fields.Many2one(
        related="company_id.ds_placement_plan_id", readonly=False
    )
