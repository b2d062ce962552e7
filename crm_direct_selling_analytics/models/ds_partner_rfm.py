import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.sqlparts import partner_moves

RFM_BANDS = [
    ("champion", "Champion"),
    ("loyal", "Loyal"),
    ("new", "New / Promising"),
    ("at_risk", "At Risk"),
    ("lost", "Lost"),
    ("other", "Needs Attention"),
]


class DsPartnerRfm(models.Model):
    _name = "ds.partner.rfm"
    _inherit = ["ds.report.xlsx.mixin"]
    _description = "RFM Scores per Partner"
    _order = "rfm_code desc, monetary desc"
    _rec_name = "partner_id"
    _xlsx_fields = (
        "partner_id",
        "is_distributor",
        "rfm_code",
        "rfm_band",
        "r_score",
        "f_score",
        "m_score",
        "last_invoice_date",
        "recency_days",
        "frequency",
        "revenue",
        "pv",
    )

    partner_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    is_distributor = fields.Boolean(readonly=True)
    last_invoice_date = fields.Date(readonly=True)
    recency_days = fields.Integer(readonly=True, aggregator="avg")
    frequency = fields.Integer(
        readonly=True, aggregator="avg", help="Posted invoices in the window."
    )
    revenue = fields.Float(readonly=True, aggregator="sum", digits="Account")
    pv = fields.Float(string="PV", readonly=True, aggregator="sum")
    monetary = fields.Float(
        readonly=True,
        aggregator="sum",
        help="Revenue for customers, PV for distributors.",
    )
    r_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    f_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    m_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    rfm_code = fields.Char(string="RFM", readonly=True, index=True)
    rfm_band = fields.Selection(RFM_BANDS, string="Band", readonly=True, index=True)
    date_computed = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "partner_company_uniq",
            "unique(partner_id, company_id)",
            "One RFM row per partner and company.",
        ),
    ]

    @api.model
    def _cron_refresh(self):
        for company in self.env["res.company"].search([]):
            self._refresh_company(company)

    @api.model
    def action_refresh_all(self):
        self._refresh_company(self.env.company)
        return True

    @api.model
    def _refresh_company(self, company, date_to=None):
        """Recompute the RFM quintiles of one company in two SQL statements.

        Customers (partners without distributor) score on their own posted invoices and refunds;
        distributors on the invoices attributed to them (own and retail customers'), with the
        monetary score on PV. NTILE(5) per population; equal values get the same (lowest) score
        so that a tie never splits across quintiles.
        """
        started = time.time()
        date_to = date_to or fields.Date.context_today(self)
        window = company.ds_rfm_window_days or 365
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(SQL("DELETE FROM ds_partner_rfm WHERE company_id = %s", company.id))
        cr.execute(
            SQL(
                """
            WITH pm AS (%(moves)s), agg AS (
                SELECT pm.partner_id, p.ds_distributor_id IS NOT NULL AS is_distributor,
                       MAX(pm.invoice_date) FILTER (WHERE pm.move_type = 'out_invoice') AS last_date,
                       COUNT(*) FILTER (WHERE pm.move_type = 'out_invoice') AS frequency,
                       SUM(pm.revenue) AS revenue, SUM(pm.pv) AS pv
                  FROM pm JOIN res_partner p ON p.id = pm.partner_id
                 GROUP BY pm.partner_id, p.ds_distributor_id
            ), base AS (
                SELECT a.*, CASE WHEN a.is_distributor THEN a.pv ELSE a.revenue END AS monetary
                  FROM agg a
                 WHERE a.frequency > 0
            ), tiles AS (
                SELECT b.*,
                       NTILE(5) OVER (PARTITION BY is_distributor ORDER BY last_date, partner_id) AS r0,
                       NTILE(5) OVER (PARTITION BY is_distributor ORDER BY frequency, partner_id) AS f0,
                       NTILE(5) OVER (PARTITION BY is_distributor ORDER BY monetary, partner_id) AS m0
                  FROM base b
            ), scores AS (
                SELECT t.*,
                       MIN(r0) OVER (PARTITION BY is_distributor, last_date) AS r,
                       MIN(f0) OVER (PARTITION BY is_distributor, frequency) AS f,
                       MIN(m0) OVER (PARTITION BY is_distributor, monetary) AS m
                  FROM tiles t
            )
            INSERT INTO ds_partner_rfm (
                partner_id, company_id, is_distributor, last_invoice_date, recency_days, frequency,
                revenue, pv, monetary, r_score, f_score, m_score, rfm_code, rfm_band, date_computed,
                create_uid, create_date, write_uid, write_date)
            SELECT s.partner_id, %(company)s, s.is_distributor, s.last_date,
                   %(date_to)s::date - s.last_date, s.frequency, ROUND(s.revenue::numeric, %(digits)s),
                   s.pv, s.monetary, s.r, s.f, s.m, concat(s.r, s.f, s.m),
                   CASE WHEN s.r >= 4 AND s.f >= 4 THEN 'champion'
                        WHEN s.r <= 2 AND s.f <= 2 THEN 'lost'
                        WHEN s.r <= 2 THEN 'at_risk'
                        WHEN s.f >= 4 THEN 'loyal'
                        WHEN s.r >= 4 THEN 'new'
                        ELSE 'other' END,
                   now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
              FROM scores s
            """,
                moves=partner_moves(
                    company.id, date_to - timedelta(days=window - 1), date_to
                ),
                company=company.id,
                date_to=date_to,
                digits=company.currency_id.decimal_places,
                uid=self.env.uid,
            )
        )
        count = cr.rowcount
        cr.execute("ANALYZE ds_partner_rfm")
        self.invalidate_model()
        return {"rows": count, "seconds": time.time() - started}
