from odoo import fields, models
from odoo.tools import SQL

from ..tools.sqlparts import partner_moves


class DsReportCohort(models.Model):
    _name = "ds.report.cohort"
    _inherit = ["ds.report.xlsx.mixin"]
    _description = "Cohort Value Retention"
    _auto = False
    _order = "is_distributor desc, cohort_month, month_offset"
    _xlsx_fields = (
        "is_distributor",
        "cohort_month",
        "month_offset",
        "cohort_size",
        "active_count",
        "active_rate",
        "revenue",
        "value_retention",
    )

    is_distributor = fields.Boolean(
        readonly=True,
        help="Distributors: cohort = enrollment month; "
        "customers: month of the first purchase.",
    )
    cohort_month = fields.Date(readonly=True)
    month_offset = fields.Integer(
        string="Months Since Start", readonly=True, aggregator="max"
    )
    cohort_size = fields.Integer(readonly=True, aggregator="max")
    active_count = fields.Integer(
        string="Buying Members", readonly=True, aggregator="sum"
    )
    active_rate = fields.Float(
        string="Buying (%)", readonly=True, aggregator="avg", digits=(16, 1)
    )
    revenue = fields.Float(readonly=True, aggregator="sum", digits="Account")
    value_retention = fields.Float(
        string="Value Retention (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Revenue of the month as a percentage of the cohort's first-month revenue.",
    )

    @property
    def _table_query(self):
        today = fields.Date.context_today(self)
        company = self.env.company.id
        return SQL(
            """
            WITH pm AS (%(moves)s), firsts AS (
                SELECT pm.partner_id, MIN(pm.invoice_date) AS first_date
                  FROM pm JOIN res_partner p ON p.id = pm.partner_id
                 WHERE p.ds_distributor_id IS NULL AND pm.move_type = 'out_invoice'
                 GROUP BY pm.partner_id
            ), members AS (
                SELECT d.partner_id, date_trunc('month', d.enrollment_date)::date AS cohort, TRUE AS is_distributor
                  FROM ds_distributor d WHERE d.company_id = %(company)s AND d.enrollment_date IS NOT NULL
                UNION ALL
                SELECT f.partner_id, date_trunc('month', f.first_date)::date, FALSE FROM firsts f
            ), sizes AS (
                SELECT cohort, is_distributor, COUNT(*) AS n FROM members GROUP BY cohort, is_distributor
            ), act AS (
                SELECT m.cohort, m.is_distributor,
                       ((date_part('year', pm.invoice_date) - date_part('year', m.cohort)) * 12
                        + date_part('month', pm.invoice_date) - date_part('month', m.cohort))::int AS month_offset,
                       SUM(pm.revenue) AS revenue, COUNT(DISTINCT pm.partner_id) AS active
                  FROM members m JOIN pm ON pm.partner_id = m.partner_id AND pm.invoice_date >= m.cohort
                 GROUP BY 1, 2, 3
            )
            SELECT row_number() OVER (ORDER BY a.is_distributor, a.cohort, a.month_offset) AS id,
                   a.is_distributor, a.cohort AS cohort_month, a.month_offset, s.n AS cohort_size,
                   a.active AS active_count, a.active * 100.0 / s.n AS active_rate, a.revenue,
                   a.revenue * 100.0 / NULLIF(MAX(CASE WHEN a.month_offset = 0 THEN a.revenue END) OVER (
                       PARTITION BY a.is_distributor, a.cohort), 0) AS value_retention
              FROM act a JOIN sizes s ON s.cohort = a.cohort AND s.is_distributor = a.is_distributor
            """,
            moves=partner_moves(company, "1900-01-01", today),
            company=company,
        )
