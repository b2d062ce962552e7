from odoo import fields, models

from .derived_table import drop_indexes, ensure_table

BONUS_TYPES = [
    ("retail", "Retail Profit"),
    ("fast_start", "Fast Start"),
    ("unilevel", "Unilevel"),
    ("binary", "Binary"),
    ("matrix", "Matrix"),
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
    # lines are derived data written set-based by the run (millions per run): the table is made
    # by init() without foreign keys and without create/write user columns (derived_table.py);
    # the ondelete rules below are applied by ds.bonus.run / ds.distributor / account.move
    # unlink(). Currency and period are read through the run.
    _auto = False

    run_id = fields.Many2one("ds.bonus.run", required=True, ondelete="cascade")
    period_id = fields.Many2one(related="run_id.period_id")
    plan_id = fields.Many2one(related="run_id.plan_id")
    simulation = fields.Boolean(related="run_id.simulation")
    run_state = fields.Selection(related="run_id.state", string="Run Status")
    distributor_id = fields.Many2one(
        "ds.distributor",
        string="Earner",
        required=True,
        ondelete="restrict",
    )
    bonus_type = fields.Selection(BONUS_TYPES, required=True)
    source_distributor_id = fields.Many2one(
        "ds.distributor", string="Source", ondelete="restrict"
    )
    # grouped lists, pivots and graphs add amounts and bases up; a level is a position and
    # a rate a percent: summed over lines they mean nothing (the rate is averaged)
    level = fields.Integer(
        aggregator=None, help="Unilevel level or matching generation."
    )
    base = fields.Monetary(
        aggregator="sum", help="BV, earnings or amount the rate applies to."
    )
    rate = fields.Float(
        string="Rate (%)", aggregator="avg", digits=(16, 4), help="Percent."
    )
    amount = fields.Monetary(
        aggregator="sum",
        help="Amount after the payout cap, rounded to the currency.",
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
        ondelete="set null",
        copy=False,
    )
    origin_line_id = fields.Many2one(
        "ds.bonus.line",
        string="Adjusted Line",
        ondelete="set null",
        help="For adjustments (clawbacks): the earlier line this adjustment reverses.",
    )

    def init(self):
        ensure_table(
            self.env.cr,
            self._table,
            [
                ("run_id", "int4 NOT NULL"),
                ("distributor_id", "int4 NOT NULL"),
                ("bonus_type", "varchar NOT NULL"),
                ("source_distributor_id", "int4"),
                ("level", "int4"),
                ("base", "numeric"),
                ("rate", "numeric"),
                ("amount", "numeric"),
                ("carried_forward", "bool"),
                ("company_id", "int4 NOT NULL"),
                ("move_id", "int4"),
                ("origin_line_id", "int4"),
            ],
            # (run_id, distributor_id) also serves an earner's lines over the runs
            # (distributor_id = X AND run_id IN ...) and a run's lines by source; the
            # partial indexes stay empty until posting / clawbacks
            indexes=[
                ("ds_bonus_line_run_distributor_index", ("run_id", "distributor_id")),
                ("ds_bonus_line__move_id_index", ("move_id",), "move_id IS NOT NULL"),
                (
                    "ds_bonus_line__origin_line_id_index",
                    ("origin_line_id",),
                    "origin_line_id IS NOT NULL",
                ),
            ],
        )
        drop_indexes(
            self.env.cr,
            [
                "ds_bonus_line__distributor_id_index",
                "ds_bonus_line__source_distributor_id_index",
            ],
        )
