from odoo import fields, models


class DsPlanMatchingGeneration(models.Model):
    _name = "ds.plan.matching.generation"
    _description = "Compensation Plan Matching Generation"
    _order = "plan_id, generation"

    plan_id = fields.Many2one("ds.plan", required=True, ondelete="cascade", index=True)
    generation = fields.Integer(required=True, default=1)
    rate = fields.Float(
        aggregator=None,
        digits=(16, 4),
        required=True,
        help="Percent of the leader's unilevel earnings.",
    )

    _sql_constraints = [
        (
            "generation_unique",
            "UNIQUE(plan_id, generation)",
            "Each generation appears once per plan.",
        ),
        ("generation_positive", "CHECK(generation >= 1)", "Generations start at 1."),
        (
            "rate_range",
            "CHECK(rate >= 0 AND rate <= 100)",
            "A matching rate is between 0 and 100%.",
        ),
    ]
