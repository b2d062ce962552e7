from odoo import fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    ds_campaign_id = fields.Many2one(
        "ds.campaign",
        string="DS Campaign",
        index="btree_not_null",
        help="Coupons of this program go to the campaign's target group only.",
    )
