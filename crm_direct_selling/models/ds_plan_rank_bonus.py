from odoo import fields, models


class DsPlanRankBonus(models.Model):
    _name = "ds.plan.rank.bonus"
    _description = "Compensation Plan Rank Advancement Bonus"
    _order = "plan_id, rank_id"

    plan_id = fields.Many2one("ds.plan", required=True, ondelete="cascade", index=True)
    rank_id = fields.Many2one("ds.rank", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="plan_id.currency_id")
    amount = fields.Monetary(
        required=True,
        help="Paid once, the first time a distributor is paid as this rank.",
    )

    _sql_constraints = [
        ("rank_unique", "UNIQUE(plan_id, rank_id)", "Each rank appears once per plan."),
        (
            "amount_pos",
            "CHECK(amount >= 0)",
            "A rank advancement amount cannot be negative.",
        ),
    ]
