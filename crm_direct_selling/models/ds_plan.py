from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .ds_access import ds_check_user


class DsPlan(models.Model):
    _name = "ds.plan"
    _description = "Compensation Plan"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    # Retail profit
    retail_mode = fields.Selection(
        [
            ("none", "No retail profit"),
            ("bv_rate", "Rate on referred customers' BV"),
            ("price_diff", "Retail minus distributor price"),
        ],
        default="bv_rate",
        required=True,
        help="Retail profit on the purchases of retail customers referred by a "
        "distributor (res.partner Referrer). 'Rate on BV' pays Retail Rate % of the "
        "customers' BV; 'Retail minus distributor price' pays the difference between "
        "the untaxed retail amount invoiced and the distributor price, i.e. "
        "Distributor Discount % of the untaxed amount.",
    )
    retail_rate = fields.Float(
        aggregator=None, digits=(16, 4), help="Percent of the referred customers' BV."
    )
    retail_discount_pct = fields.Float(
        "Distributor Discount (%)",
        aggregator=None,
        digits=(16, 4),
        help="Distributor price = retail price minus this percent.",
    )
    # Fast start
    fast_start_rate = fields.Float(
        aggregator=None,
        digits=(16, 4),
        help="Percent of a new recruit's BV paid to their sponsor.",
    )
    fast_start_days = fields.Integer(
        default=30, help="A recruit is new during this many days from enrollment."
    )
    # Unilevel
    level_ids = fields.One2many(
        "ds.plan.level", "plan_id", string="Unilevel Levels", copy=True
    )
    max_level = fields.Integer(compute="_compute_max_level")
    compression = fields.Boolean(
        default=True,
        help="Dynamic compression: inactive uplines are skipped and do not count as a level.",
    )
    # Rank advancement
    rank_bonus_ids = fields.One2many(
        "ds.plan.rank.bonus", "plan_id", string="Rank Advancement Bonuses", copy=True
    )
    rank_pay_skipped = fields.Boolean(
        "Pay Skipped Ranks",
        help="A distributor who jumps over ranks (e.g. from Bronze straight to Gold) is also "
        "paid the advancement bonuses of the ranks skipped on the way (Silver), each once. "
        "Otherwise only the rank reached is paid.",
    )
    # Leadership matching
    matching_rank_id = fields.Many2one(
        "ds.rank",
        string="Leader Rank",
        help="A leader is a distributor whose paid-as rank is this rank or higher. "
        "Generation 1 of a leader are the nearest leaders below them in each leg, "
        "generation 2 the nearest leaders below those, and so on (non-leaders in "
        "between are skipped).",
    )
    matching_generation_ids = fields.One2many(
        "ds.plan.matching.generation",
        "plan_id",
        string="Matching Generations",
        copy=True,
    )
    # Cap and minimum
    payout_cap_pct = fields.Float(
        "Payout Cap (% of BV)",
        aggregator=None,
        digits=(16, 4),
        help="Total payout of a run is at most this percent of the period's BV; "
        "when exceeded, every amount is pro-rated. 0 means no cap.",
    )
    min_payout = fields.Monetary(
        currency_field="currency_id",
        help="Earners whose total is below this amount are not paid: their amount "
        "is carried forward to the next run.",
    )
    # Accounting
    payout_mode = fields.Selection(
        [
            ("bills", "One vendor bill per distributor"),
            ("entry", "One journal entry per run"),
        ],
        default="bills",
        required=True,
    )
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        domain="[('type', '=', 'purchase')]",
        help="Purchase journal of the vendor bills (bills mode) or the journal of "
        "the consolidated entry.",
    )
    expense_account_id = fields.Many2one("account.account", check_company=True)
    payable_account_id = fields.Many2one(
        "account.account",
        check_company=True,
        help="Payable account of the consolidated entry (entry mode). Defaults to "
        "the company's default payable account.",
    )
    async_threshold = fields.Integer(
        "Background Threshold",
        default=20000,
        help="Runs of periods with more distributor volumes than this are computed "
        "by a background job.",
    )
    fast_post_threshold = fields.Integer(
        "Fast Posting Threshold",
        default=200,
        help="Runs paying more distributors than this create their vendor bills set-based "
        "in SQL (copies of a first bill created by Odoo) instead of one by one through the "
        "ORM. 0 always uses the ORM.",
    )
    run_ids = fields.One2many("ds.bonus.run", "plan_id")
    run_count = fields.Integer(compute="_compute_run_count")

    _sql_constraints = [
        (
            "cap_pct_range",
            "CHECK(payout_cap_pct >= 0 AND payout_cap_pct <= 100)",
            "The payout cap must be between 0 and 100%.",
        ),
        (
            "min_payout_pos",
            "CHECK(min_payout >= 0)",
            "The minimum payout cannot be negative.",
        ),
        (
            "fast_start_days_pos",
            "CHECK(fast_start_days >= 0)",
            "Fast start days cannot be negative.",
        ),
    ]

    @api.depends("level_ids.level")
    def _compute_max_level(self):
        for plan in self:
            plan.max_level = max(plan.level_ids.mapped("level") or [0])

    def _compute_run_count(self):
        counts = dict(
            self.env["ds.bonus.run"]._read_group(
                [("plan_id", "in", self.ids)], ["plan_id"], ["__count"]
            )
        )
        for plan in self:
            plan.run_count = counts.get(plan, 0)

    @api.constrains("retail_rate", "retail_discount_pct", "fast_start_rate")
    def _check_rates(self):
        for plan in self:
            for fname in ("retail_rate", "retail_discount_pct", "fast_start_rate"):
                if not 0 <= plan[fname] <= 100:
                    raise ValidationError(
                        self.env._(
                            "%(field)s of plan %(plan)s must be between 0 and 100.",
                            field=self._fields[fname].get_description(self.env)[
                                "string"
                            ],
                            plan=plan.name,
                        )
                    )

    def _get_payable_account(self):
        self.ensure_one()
        if self.payable_account_id:
            return self.payable_account_id
        return self.env["account.account"].search(
            [
                *self.env["account.account"]._check_company_domain(self.company_id),
                ("account_type", "=", "liability_payable"),
                ("deprecated", "=", False),
            ],
            limit=1,
        )

    def action_view_runs(self):
        ds_check_user(self.env, self.env._("open the bonus runs of plans"), self)
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_bonus_run"
        )
        action["domain"] = [("plan_id", "=", self.id)]
        action["context"] = {"default_plan_id": self.id}
        return action
