from odoo import fields, models
from odoo.tools import SQL

BONUS_TYPES = [
    ("retail", "Retail Profit"),
    ("fast_start", "Fast Start"),
    ("unilevel", "Unilevel"),
    ("rank_advancement", "Rank Advancement"),
    ("matching", "Leadership Matching"),
    ("carry_forward", "Carry Forward"),
    ("adjustment", "Adjustment"),
]


class DsBonusLine(models.Model):
    _name = "ds.bonus.line"
    _description = "Bonus Line"
    _order = "run_id, distributor_id, bonus_type, level, id"
    _rec_name = "distributor_id"
    # lines are derived data written set-based by the run (millions per run): no
    # create/write user columns, currency and period read through the run
    _log_access = False

    # indexed by (run_id, distributor_id), see init()
    run_id = fields.Many2one("ds.bonus.run", required=True, ondelete="cascade")
    period_id = fields.Many2one(related="run_id.period_id")
    plan_id = fields.Many2one(related="run_id.plan_id")
    simulation = fields.Boolean(related="run_id.simulation")
    run_state = fields.Selection(related="run_id.state", string="Run Status")
    distributor_id = fields.Many2one(
        "ds.distributor",
        string="Earner",
        required=True,
        index=True,
        ondelete="restrict",
    )
    bonus_type = fields.Selection(BONUS_TYPES, required=True)
    source_distributor_id = fields.Many2one(
        "ds.distributor", string="Source", index="btree_not_null", ondelete="restrict"
    )
    level = fields.Integer(help="Unilevel level or matching generation.")
    base = fields.Monetary(help="BV, earnings or amount the rate applies to.")
    rate = fields.Float(digits=(16, 4), help="Percent.")
    amount = fields.Monetary(
        help="Amount after the payout cap, rounded to the currency."
    )
    carried_forward = fields.Boolean(
        help="The earner's total was below the minimum payout (or not positive): the "
        "amount is not paid in this run but carried forward to the next run."
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    company_id = fields.Many2one("res.company", required=True)
    move_id = fields.Many2one(
        "account.move",
        string="Journal Entry",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
    )
    origin_line_id = fields.Many2one(
        "ds.bonus.line",
        string="Adjusted Line",
        index="btree_not_null",
        ondelete="set null",
        help="For adjustments (clawbacks): the earlier line this adjustment reverses.",
    )

    def init(self):
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS ds_bonus_line_run_distributor_index "
                "ON ds_bonus_line (run_id, distributor_id)"
            )
        )
