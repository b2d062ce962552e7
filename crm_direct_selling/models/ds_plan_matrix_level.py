from odoo import fields, models


class DsPlanMatrixLevel(models.Model):
    _name = "ds.plan.matrix.level"
    _description = "Compensation Plan Matrix Level"
    _order = "plan_id, level"

    plan_id = fields.Many2one("ds.plan", required=True, ondelete="cascade", index=True)
    level = fields.Integer(aggregator=None, required=True, default=1)
    rate = fields.Float(
        aggregator=None,
        digits=(16, 4),
        required=True,
        help="Percent of the BV of a distributor this many placement levels below.",
    )

    _sql_constraints = [
        (
            "level_unique",
            "UNIQUE(plan_id, level)",
            "Each matrix level appears once per plan.",
        ),
        ("level_positive", "CHECK(level >= 1)", "Matrix levels start at 1."),
        (
            "rate_range",
            "CHECK(rate >= 0 AND rate <= 100)",
            "A matrix level rate is between 0 and 100%.",
        ),
    ]
