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
    ds_responsible_user_id = fields.Many2one(
        "res.users",
        string="Direct Selling Responsible",
        domain=[("share", "=", False)],
        help="Receives the follow-up work nobody in the network can take: at-risk "
        "distributors whose sponsor has no internal user, leads returned by the network.",
    )

    def _ds_responsible_user(self):
        """The company's responsible for network follow-ups (an active internal user),
        or an empty recordset: work is never assigned to OdooBot or the superuser."""
        self.ensure_one()
        user = self.sudo().ds_responsible_user_id
        if not user or not user.active or user.share or user._is_superuser():
            return self.env["res.users"]
        return user
