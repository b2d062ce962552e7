from odoo import _, api, fields, models
from odoo.tools import SQL

from ..tools.sqlparts import partner_moves

RISKS = [
    ("high", "High"),
    ("medium", "Medium"),
    ("low", "Low"),
    ("unknown", "Single purchase"),
]


class DsReportChurn(models.Model):
    _name = "ds.report.churn"
    _inherit = ["ds.report.xlsx.mixin"]
    _description = "Churn Risk"
    _auto = False
    _order = "overdue_ratio desc, days_since desc"
    _rec_name = "partner_id"
    _xlsx_fields = (
        "partner_id",
        "is_distributor",
        "last_purchase",
        "days_since",
        "purchase_count",
        "median_interval",
        "overdue_ratio",
        "risk",
        "reason",
        "risk_source",
        "churn_probability",
        "expected_value_12m",
    )

    partner_id = fields.Many2one("res.partner", readonly=True)
    is_distributor = fields.Boolean(readonly=True)
    last_purchase = fields.Date(readonly=True)
    days_since = fields.Integer(
        string="Days Since Last Purchase", readonly=True, aggregator="avg"
    )
    purchase_count = fields.Integer(
        string="Purchase Days", readonly=True, aggregator="sum"
    )
    median_interval = fields.Float(
        string="Usual Interval (days)",
        readonly=True,
        aggregator="avg",
        help="Median number of days between two purchases of this partner.",
    )
    overdue_ratio = fields.Float(
        readonly=True,
        aggregator="avg",
        digits=(16, 2),
        help="Days since the last purchase divided by the partner's usual interval.",
    )
    risk = fields.Selection(RISKS, readonly=True)
    risk_source = fields.Selection(
        [("model", "Lifetime-value model"), ("rule", "Purchase rhythm rule")],
        readonly=True,
        help="Repeat buyers scored by a trained lifetime-value model are rated by its "
        "probability that they stopped buying; the others by their own purchase rhythm.",
    )
    churn_probability = fields.Float(
        readonly=True,
        aggregator=None,
        digits=(16, 3),
        help="1 - probability alive (lifetime-value model); empty without a model score.",
    )
    expected_value_12m = fields.Float(
        string="Expected Value (12 months)",
        readonly=True,
        aggregator="sum",
        digits="Account",
    )
    reason = fields.Char(compute="_compute_reason")

    @property
    def _table_query(self):
        today = fields.Date.context_today(self)
        return SQL(
            """
            WITH pm AS (%(moves)s), days AS (
                SELECT DISTINCT pm.partner_id, pm.invoice_date AS d FROM pm WHERE pm.move_type = 'out_invoice'
            ), gaps AS (
                SELECT partner_id, d, d - LAG(d) OVER (PARTITION BY partner_id ORDER BY d) AS gap FROM days
            ), agg AS (
                SELECT partner_id, MAX(d) AS last_purchase, COUNT(*) AS purchase_count,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) FILTER (WHERE gap IS NOT NULL) AS median_interval
                  FROM gaps GROUP BY partner_id
            )
            SELECT a.partner_id AS id, a.partner_id, p.ds_distributor_id IS NOT NULL AS is_distributor,
                   a.last_purchase, %(today)s::date - a.last_purchase AS days_since, a.purchase_count,
                   a.median_interval,
                   (%(today)s::date - a.last_purchase) / NULLIF(a.median_interval, 0) AS overdue_ratio,
                   CASE WHEN a.median_interval IS NULL THEN 'unknown'
                        WHEN clv.repeat_purchases > 0 THEN
                            CASE WHEN clv.p_alive < 0.3 THEN 'high'
                                 WHEN clv.p_alive < 0.6 THEN 'medium' ELSE 'low' END
                        WHEN (%(today)s::date - a.last_purchase) >= 3 * a.median_interval THEN 'high'
                        WHEN (%(today)s::date - a.last_purchase) >= 1.5 * a.median_interval THEN 'medium'
                        ELSE 'low' END AS risk,
                   CASE WHEN a.median_interval IS NOT NULL AND clv.repeat_purchases > 0
                        THEN 'model' ELSE 'rule' END AS risk_source,
                   1 - clv.p_alive AS churn_probability, clv.expected_value_12m
              FROM agg a JOIN res_partner p ON p.id = a.partner_id
         LEFT JOIN (ds_partner_clv clv JOIN ds_clv_model clvm ON clvm.id = clv.model_id AND clvm.calibrated) ON clv.partner_id = a.partner_id AND clv.company_id = %(company)s
            """,
            moves=partner_moves(self.env.company.id, "1900-01-01", today),
            today=today,
            company=self.env.company.id,
        )

    @api.depends(
        "risk", "days_since", "median_interval", "risk_source", "churn_probability"
    )
    def _compute_reason(self):
        for row in self:
            if row.risk == "unknown":
                row.reason = _(
                    "Bought only once, %(days)s days ago: no rhythm to compare with yet.",
                    days=row.days_since,
                )
            else:
                row.reason = _(
                    "No purchase for %(days)s days; usually buys every %(usual)s days (%(ratio)s times the usual gap).",
                    days=row.days_since,
                    usual=round(row.median_interval, 1),
                    ratio=round(row.overdue_ratio, 1),
                )
                if row.risk_source == "model":
                    probability = round(row.churn_probability * 100)
                    row.reason = (
                        _(
                            "%(pct)s%% likely to have stopped buying (lifetime-value model).",
                            pct=probability,
                        )
                        + " "
                        + row.reason
                    )
