from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ds_active_min_pv = fields.Float(
        string="Active Minimum PV",
        default=100.0,
        help="A distributor is active in a period when their personal volume reaches this value.",
    )
    ds_refund_policy = fields.Selection(
        [
            ("posting_period", "Deduct in the period the refund is posted"),
            (
                "original_period",
                "Reverse in the original invoice's period while it is open",
            ),
        ],
        string="Refund Policy",
        default="posting_period",
        required=True,
    )
