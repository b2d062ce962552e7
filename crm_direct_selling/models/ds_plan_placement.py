from odoo import api, fields, models
from odoo.exceptions import ValidationError

PLACEMENT_RULES = [
    ("manual", "Manual (sponsor or back office)"),
    ("extreme_left", "Extreme left"),
    ("extreme_right", "Extreme right"),
    ("weaker_leg", "Weaker leg"),
    ("first_open", "First open slot (spillover)"),
]


class DsPlan(models.Model):
    """Placement settings of a compensation plan (binary and matrix plans).

    A plan with a ``placement_rule`` is a placement plan; the company's active one is
    ``res.company.ds_placement_plan_id`` (Settings → Direct Selling → Placement).
    """

    _inherit = "ds.plan"

    placement_rule = fields.Selection(
        PLACEMENT_RULES,
        tracking=True,
        help="How a new recruit is placed in the placement tree under their sponsor. Empty: "
        "the plan has no placement tree. Manual: the sponsor (portal) or the back office "
        "places each recruit; recruits still waiting after the holding days are placed in the "
        "first open slot. Extreme left / right: at the bottom of the sponsor's outer left / "
        "right leg. Weaker leg: at the outside of the sponsor's leg with the least group "
        "volume in the current period (ties: the left one). First open slot: breadth-first, "
        "the first free slot under the sponsor (spillover).",
    )
    placement_type = fields.Selection(
        [("binary", "Binary (two legs)"), ("matrix", "Matrix (width × depth)")],
        default="binary",
        required=True,
        help="Binary: every distributor has a left (1) and a right (2) slot. Matrix: "
        "Matrix Width slots each.",
    )
    holding_days = fields.Integer(
        help="A new recruit waits unplaced in the holding tank this many days after "
        "enrollment for the sponsor to place them; then the daily job places them by the "
        "placement rule. 0: placed at once.",
    )
    matrix_width = fields.Integer(
        default=3, help="Slots under each distributor in a matrix plan."
    )
    matrix_depth = fields.Integer(
        default=7, aggregator=None, help="Placement levels paid by a matrix plan."
    )
    matrix_level_ids = fields.One2many(
        "ds.plan.matrix.level", "plan_id", string="Matrix Levels", copy=True
    )
    matrix_compression = fields.Boolean(
        help="Inactive uplines in the placement tree are skipped and do not count as a "
        "matrix level.",
    )

    # Binary (placement_type binary): pairing of the left and right legs' volume
    binary_rate = fields.Float(
        aggregator=None,
        digits=(16, 4),
        help="Percent of the paired (weak-leg) volume paid as binary bonus (rate mode).",
    )
    binary_cycle_left = fields.Float(
        aggregator=None,
        help="Cycle mode (with Cycle Right and Cycle Amount): this much volume on the left "
        "and Cycle Right on the right make one cycle.",
    )
    binary_cycle_right = fields.Float(aggregator=None)
    binary_cycle_amount = fields.Monetary(
        currency_field="currency_id",
        help="Paid per cycle. When set (with both cycle volumes), the plan pays cycles "
        "instead of the rate.",
    )
    binary_cap = fields.Monetary(
        currency_field="currency_id",
        help="Most binary bonus one distributor earns in a period. 0: no cap.",
    )
    binary_carry_max = fields.Float(
        aggregator=None,
        help="Most unpaired volume carried forward per leg into the next period. 0: no cap.",
    )
    binary_flush_periods = fields.Integer(
        help="The carried volume is flushed (lost) after this many periods in a row in "
        "which the distributor is inactive. 0: never.",
    )
    binary_requires_sponsored_legs = fields.Boolean(
        help="To be paid (qualified) a distributor needs a personally sponsored active "
        "distributor in each leg of their placement subtree.",
    )

    _sql_constraints = [
        (
            "binary_nonneg",
            "CHECK(binary_rate >= 0 AND binary_rate <= 100 AND binary_cycle_left >= 0 "
            "AND binary_cycle_right >= 0 AND binary_cycle_amount >= 0 AND binary_cap >= 0 "
            "AND binary_carry_max >= 0 AND binary_flush_periods >= 0)",
            "Binary rates, cycles, caps and carry limits cannot be negative (rates at most "
            "100%).",
        ),
        (
            "holding_days_pos",
            "CHECK(holding_days >= 0)",
            "Holding days cannot be negative.",
        ),
    ]

    @api.constrains("placement_type", "matrix_width", "matrix_depth")
    def _check_matrix_size(self):
        for plan in self:
            if plan.placement_type == "matrix" and (
                plan.matrix_width < 1 or plan.matrix_depth < 1
            ):
                raise ValidationError(
                    self.env._(
                        "Matrix width and depth of plan %(plan)s must be at least 1.",
                        plan=plan.name,
                    )
                )

    def _ds_binary_cycle_mode(self):
        self.ensure_one()
        return bool(
            self.binary_cycle_amount
            and self.binary_cycle_left
            and self.binary_cycle_right
        )

    def _ds_placement_width(self):
        """Slots per distributor in the placement tree of this plan (2 in a binary plan)."""
        self.ensure_one()
        return self.matrix_width if self.placement_type == "matrix" else 2
