"""The programme-level holdout (issue 16): everything the company sent against nothing.

The company's global holdout (Settings: a share of partners drawn by a seeded hash) is never
reached by any campaign. Comparing the holdout with everyone else among the same customer
base measures what the whole marketing programme adds, campaigns and their overlaps
included, which no single campaign's control group can."""

from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount

from odoo.addons.crm_direct_selling.models.ds_access import ds_check_user

from ..tools import stats
from ..tools.sqlparts import holdout_condition, partner_moves


class DsHoldoutMeasurement(models.Model):
    _name = "ds.holdout.measurement"
    _inherit = ["mail.thread"]
    _description = "Programme Holdout Measurement"
    _order = "date_to desc, id desc"

    name = fields.Char(required=True, default=lambda self: self.env._("Programme"))
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_from = fields.Date(
        string="Window Start",
        required=True,
        default=lambda self: self._default_window()[0],
    )
    date_to = fields.Date(
        string="Window End",
        required=True,
        default=lambda self: self._default_window()[1],
    )
    base_days = fields.Integer(
        string="Customer Base (days)",
        default=365,
        required=True,
        help="The population: partners with a posted purchase in this many days before the "
        "window (the same base on both sides of the holdout).",
    )
    state = fields.Selection(
        [("draft", "Not measured"), ("done", "Measured")],
        default="draft",
        readonly=True,
    )
    measured_on = fields.Datetime(readonly=True)
    holdout_pct = fields.Float(string="Holdout (%)", readonly=True, aggregator=None)
    holdout_count = fields.Integer(readonly=True)
    exposed_count = fields.Integer(string="Reachable Count", readonly=True)
    revenue_per_member_holdout = fields.Monetary(readonly=True, aggregator=None)
    revenue_per_member_exposed = fields.Monetary(
        string="Revenue per Reachable Member", readonly=True, aggregator=None
    )
    uplift_revenue_per_member = fields.Monetary(
        string="Uplift / Member", readonly=True, aggregator=None
    )
    uplift_ci_low = fields.Monetary(
        string="Uplift CI Low", readonly=True, aggregator=None
    )
    uplift_ci_high = fields.Monetary(
        string="Uplift CI High", readonly=True, aggregator=None
    )
    p_value = fields.Float(
        string="p-value", readonly=True, digits=(16, 4), aggregator=None
    )
    response_rate_holdout = fields.Float(readonly=True, aggregator=None)
    response_rate_exposed = fields.Float(
        string="Response Rate Reachable", readonly=True, aggregator=None
    )
    incremental_revenue = fields.Monetary(readonly=True, aggregator=None)
    incremental_revenue_low = fields.Monetary(
        string="Incremental Revenue CI Low", readonly=True, aggregator=None
    )
    incremental_revenue_high = fields.Monetary(
        string="Incremental Revenue CI High", readonly=True, aggregator=None
    )
    campaign_cost = fields.Monetary(
        readonly=True,
        aggregator=None,
        help="Cost of the campaigns whose window overlaps this one.",
    )
    significant = fields.Boolean(readonly=True)
    summary = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "dates",
            "CHECK(date_from <= date_to)",
            "The window must end after it starts.",
        ),
        (
            "base_days",
            "CHECK(base_days > 0)",
            "The customer base needs at least one day.",
        ),
    ]

    def _default_window(self):
        """The last full month."""
        last = fields.Date.context_today(self).replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last

    def action_measure(self):
        ds_check_user(
            self.env, self.env._("measure the programme holdout"), self, "write"
        )
        for measurement in self:
            measurement.sudo()._measure()
        return True

    def _measure(self):
        self.ensure_one()
        company = self.company_id
        if not company.ds_holdout_pct:
            raise UserError(
                self.env._(
                    "%(company)s has no global holdout: set one in Settings > Direct Selling "
                    "(Marketing) and let campaigns run before measuring the programme.",
                    company=company.name,
                )
            )
        self.env.flush_all()
        base_from = self.date_from - timedelta(days=self.base_days)
        rows = self.env.execute_query(
            SQL(
                """
                WITH base AS (
                    SELECT DISTINCT b.partner_id FROM (%(base)s) b
                ),
                win AS (
                    SELECT w.partner_id, SUM(w.revenue) AS rev,
                           COUNT(*) FILTER (WHERE w.move_type = 'out_invoice') AS orders
                      FROM (%(window)s) w
                  GROUP BY w.partner_id
                ),
                per AS (
                    SELECT %(held)s AS held, COALESCE(win.rev, 0)::float8 AS rev,
                           COALESCE(win.orders, 0) > 0 AS responded
                      FROM base LEFT JOIN win ON win.partner_id = base.partner_id
                )
                SELECT held, COUNT(*), SUM(rev), SUM(rev * rev),
                       COUNT(*) FILTER (WHERE responded)
                  FROM per GROUP BY held
                """,
                base=partner_moves(
                    company.id, base_from, self.date_from - timedelta(days=1)
                ),
                window=partner_moves(company.id, self.date_from, self.date_to),
                held=holdout_condition(company, SQL("base.partner_id")),
            )
        )
        cells = {
            held: (int(n), s or 0.0, ss or 0.0, int(r)) for held, n, s, ss, r in rows
        }
        n_h, s_h, ss_h, r_h = cells.get(True, (0, 0.0, 0.0, 0))
        n_e, s_e, ss_e, r_e = cells.get(False, (0, 0.0, 0.0, 0))
        mean_h, var_h = stats.mean_var(n_h, s_h, ss_h)
        mean_e, var_e = stats.mean_var(n_e, s_e, ss_e)
        test = stats.welch(mean_e, var_e, n_e, mean_h, var_h, n_h)
        resp = stats.two_proportions(r_e, n_e, r_h, n_h)
        cost = sum(
            self.env["ds.campaign"]
            .search(
                [
                    ("company_id", "=", company.id),
                    ("state", "in", ("running", "done")),
                    ("date_start", "<=", self.date_to),
                    ("date_end", ">=", self.date_from),
                ]
            )
            .mapped("cost")
        )
        currency = self.currency_id
        tested = n_h >= 2 and n_e >= 2
        low, high = (test["low"], test["high"]) if tested else (0.0, 0.0)
        vals = {
            "state": "done",
            "measured_on": fields.Datetime.now(),
            "holdout_pct": company.ds_holdout_pct,
            "holdout_count": n_h,
            "exposed_count": n_e,
            "revenue_per_member_holdout": mean_h,
            "revenue_per_member_exposed": mean_e,
            "uplift_revenue_per_member": test["diff"],
            "uplift_ci_low": low,
            "uplift_ci_high": high,
            "p_value": test["p_value"] if tested else 1.0,
            "response_rate_holdout": resp["p_c"],
            "response_rate_exposed": resp["p_t"],
            "incremental_revenue": currency.round(test["diff"] * n_e),
            "incremental_revenue_low": currency.round(low * n_e),
            "incremental_revenue_high": currency.round(high * n_e),
            "campaign_cost": cost,
            "significant": tested and (low > 0 or high < 0),
        }
        vals["summary"] = self._summary(vals, tested)
        self.write(vals)

    def _summary(self, v, tested):
        fmt = lambda amount: format_amount(self.env, amount, self.currency_id)  # noqa: E731
        if (
            not tested
            or v["holdout_count"] < self.company_id.ds_campaign_min_group_size
        ):
            return self.env._(
                "Too few partners to tell: %(held)s in the holdout and %(reach)s reachable; at "
                "least %(min)s are needed in the holdout.",
                held=v["holdout_count"],
                reach=v["exposed_count"],
                min=self.company_id.ds_campaign_min_group_size,
            )
        figures = self.env._(
            "Incremental revenue of the programme %(inc)s (95%% interval %(low)s to %(high)s) "
            "for %(cost)s of campaign costs in the window.",
            inc=fmt(v["incremental_revenue"]),
            low=fmt(v["incremental_revenue_low"]),
            high=fmt(v["incremental_revenue_high"]),
            cost=fmt(v["campaign_cost"]),
        )
        if v["uplift_ci_low"] > 0:
            head = self.env._(
                "Marketing adds revenue: reachable partners bought %(diff)s more each than the "
                "holdout, which no campaign reached.",
                diff=fmt(v["uplift_revenue_per_member"]),
            )
        elif v["uplift_ci_high"] < 0:
            head = self.env._(
                "Marketing costs revenue: the holdout, which no campaign reached, bought more."
            )
        else:
            head = self.env._(
                "Not significant: the programme cannot be told apart from sending nothing; "
                "the true effect is in the interval, which includes zero."
            )
        return head + " " + figures
