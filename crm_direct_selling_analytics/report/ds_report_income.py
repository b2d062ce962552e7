from odoo import fields, models
from odoo.tools import SQL


class DsReportIncome(models.Model):
    _name = "ds.report.income"
    _inherit = ["ds.report.xlsx.mixin"]
    _description = "Income Disclosure Statement"
    _auto = False
    _order = "grain, year desc, period_id desc, rank_sequence desc"
    _xlsx_fields = (
        "grain",
        "year",
        "period_id",
        "rank_id",
        "distributor_count",
        "earner_count",
        "total_amount",
        "mean_amount",
        "median_amount",
        "p10_amount",
        "p25_amount",
        "p75_amount",
        "p90_amount",
        "min_amount",
        "max_amount",
    )

    grain = fields.Selection([("period", "Period"), ("year", "Year")], readonly=True)
    year = fields.Integer(readonly=True, aggregator=None)
    period_id = fields.Many2one("ds.period", readonly=True)
    rank_id = fields.Many2one("ds.rank", string="Paid-as Rank", readonly=True)
    rank_sequence = fields.Integer(readonly=True, aggregator=None)
    currency_id = fields.Many2one("res.currency", readonly=True)
    distributor_count = fields.Integer(
        string="Distributors", readonly=True, aggregator="sum"
    )
    earner_count = fields.Integer(
        string="Paid Anything", readonly=True, aggregator="sum"
    )
    total_amount = fields.Monetary(
        string="Total Earnings", readonly=True, aggregator="sum"
    )
    mean_amount = fields.Monetary(string="Mean", readonly=True, aggregator="avg")
    median_amount = fields.Monetary(string="Median", readonly=True, aggregator="avg")
    p10_amount = fields.Monetary(
        string="10th Percentile", readonly=True, aggregator="avg"
    )
    p25_amount = fields.Monetary(
        string="25th Percentile", readonly=True, aggregator="avg"
    )
    p75_amount = fields.Monetary(
        string="75th Percentile", readonly=True, aggregator="avg"
    )
    p90_amount = fields.Monetary(
        string="90th Percentile", readonly=True, aggregator="avg"
    )
    min_amount = fields.Monetary(string="Lowest", readonly=True, aggregator="min")
    max_amount = fields.Monetary(string="Highest", readonly=True, aggregator="max")

    @property
    def _table_query(self):
        """Earnings paid by posted (non-simulation) bonus runs per distributor, grouped by paid-as rank.

        Population of a period = distributors with a volume row in it (so zero earners count) plus
        anyone paid; rank = paid-as rank of that period (yearly: highest paid-as rank of the year).
        """
        company = self.env.company
        return SQL(
            """
            WITH runs AS (
                SELECT r.id, r.period_id FROM ds_bonus_run r
                 WHERE r.state = 'posted' AND NOT COALESCE(r.simulation, FALSE) AND r.company_id = %(company)s
            ), earn AS (
                SELECT runs.period_id, l.distributor_id, SUM(l.amount) AS amount
                  FROM ds_bonus_line l JOIN runs ON runs.id = l.run_id
                 WHERE NOT COALESCE(l.carried_forward, FALSE)
                 GROUP BY runs.period_id, l.distributor_id
            ), pop AS (
                SELECT v.period_id, v.distributor_id, v.paid_rank_id
                  FROM ds_volume v WHERE v.period_id IN (SELECT period_id FROM runs)
            ), per AS (
                SELECT COALESCE(pop.period_id, earn.period_id) AS period_id,
                       COALESCE(pop.distributor_id, earn.distributor_id) AS distributor_id,
                       pop.paid_rank_id, COALESCE(earn.amount, 0) AS amount
                  FROM pop FULL JOIN earn ON earn.period_id = pop.period_id AND earn.distributor_id = pop.distributor_id
            ), per_rank AS (
                SELECT per.period_id, per.distributor_id, per.amount, date_part('year', pe.date_to)::int AS year,
                       COALESCE(per.paid_rank_id, d.rank_id) AS rank_id
                  FROM per JOIN ds_period pe ON pe.id = per.period_id
                  JOIN ds_distributor d ON d.id = per.distributor_id
            ), yearly AS (
                SELECT pr.year, pr.distributor_id, SUM(pr.amount) AS amount,
                       (ARRAY_AGG(pr.rank_id ORDER BY rk.sequence DESC NULLS LAST))[1] AS rank_id
                  FROM per_rank pr LEFT JOIN ds_rank rk ON rk.id = pr.rank_id
                 GROUP BY pr.year, pr.distributor_id
            ), rows AS (
                SELECT 'period' AS grain, year, period_id, rank_id, amount FROM per_rank
                UNION ALL
                SELECT 'year', year, NULL, rank_id, amount FROM yearly
            )
            SELECT row_number() OVER (ORDER BY grain, year, period_id, rk.sequence) AS id,
                   grain, year, period_id, rows.rank_id, rk.sequence AS rank_sequence, %(currency)s AS currency_id,
                   COUNT(*) AS distributor_count, COUNT(*) FILTER (WHERE amount > 0) AS earner_count,
                   SUM(amount) AS total_amount, ROUND(AVG(amount), %(digits)s) AS mean_amount,
                   ROUND(percentile_cont(0.5) WITHIN GROUP (ORDER BY amount)::numeric, %(digits)s) AS median_amount,
                   ROUND(percentile_cont(0.1) WITHIN GROUP (ORDER BY amount)::numeric, %(digits)s) AS p10_amount,
                   ROUND(percentile_cont(0.25) WITHIN GROUP (ORDER BY amount)::numeric, %(digits)s) AS p25_amount,
                   ROUND(percentile_cont(0.75) WITHIN GROUP (ORDER BY amount)::numeric, %(digits)s) AS p75_amount,
                   ROUND(percentile_cont(0.9) WITHIN GROUP (ORDER BY amount)::numeric, %(digits)s) AS p90_amount,
                   MIN(amount) AS min_amount, MAX(amount) AS max_amount
              FROM rows LEFT JOIN ds_rank rk ON rk.id = rows.rank_id
             GROUP BY grain, year, period_id, rows.rank_id, rk.sequence
            """,
            company=company.id,
            currency=company.currency_id.id,
            digits=company.currency_id.decimal_places,
        )
