from odoo import fields, models


class DsPlanLevel(models.Model):
    _name = "ds.plan.level"
    _description = "Compensation Plan Unilevel Level"
    _order = "plan_id, level"

    plan_id = fields.Many2one("ds.plan", required=True, ondelete="cascade", index=True)
    level = fields.Integer(aggregator=None, required=True, default=1)
    rate = fields.Float(
        aggregator=None,
        digits=(16, 4),
        required=True,
        help="Percent of the source's BV.",
    )

    _sql_constraints = [
        ("level_unique", "UNIQUE(plan_id, level)", "Each level appears once per plan."),
        ("level_positive", "CHECK(level >= 1)", "Levels start at 1."),
        (
            "rate_range",
            "CHECK(rate >= 0 AND rate <= 100)",
            "A level rate is between 0 and 100%.",
        ),
    ]
