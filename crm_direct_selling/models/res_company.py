from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


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


class ResCompanyPlacement(models.Model):
    _inherit = "res.company"

    ds_placement_plan_id = fields.Many2one(
        "ds.plan",
        string="Placement Plan",
        domain="[('placement_rule', '!=', False), ('company_id', '=', id)]",
        help="The plan whose placement rule places new recruits in the placement tree "
        "(binary or matrix). Empty: the company has no placement tree and the placement "
        "of a distributor is their sponsor.",
    )

    @api.constrains("ds_placement_plan_id")
    def _check_ds_placement_plan(self):
        for company in self:
            plan = company.ds_placement_plan_id
            if plan and (plan.company_id != company or not plan.placement_rule):
                raise ValidationError(
                    _(
                        "The placement plan of %(company)s must be a plan of that company "
                        "with a placement rule (%(plan)s).",
                        company=company.name,
                        plan=plan.name,
                    )
                )

    def _ds_placement_plan(self):
        """The company's active placement plan (sudo) or an empty recordset."""
        self.ensure_one()
        plan = self.sudo().ds_placement_plan_id
        return plan if plan.active and plan.placement_rule else plan.browse()
