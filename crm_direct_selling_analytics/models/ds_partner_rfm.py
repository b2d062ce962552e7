import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.crm_direct_selling.models.derived_table import (
    drop_indexes,
    ensure_table,
)
from odoo.addons.crm_direct_selling.models.ds_access import ds_check_manager

from ..tools.sqlparts import bulk_settings, partner_moves

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
    # derived data rewritten set-based by each refresh (a row per partner): the table is made by
    # init() without foreign keys and without create/write user columns (crm_direct_selling's
    # derived_table.py: each foreign key costs a trigger call per inserted row); date_computed tells
    # when a row was computed. The partner's ondelete='cascade' is applied by res.partner unlink();
    # companies are never deleted in practice, so company_id has no rule (it would be 'restrict').
    _auto = False
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

    # lookups by partner use the unique (partner_id, company_id) index: no separate index on
    # partner_id nor on the (few) companies; no index on the scores either (nothing filters
    # on them in SQL: segments join by partner)
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True)
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
    rfm_code = fields.Char(string="RFM", readonly=True)
    rfm_band = fields.Selection(RFM_BANDS, string="Band", readonly=True)
    date_computed = fields.Datetime(readonly=True)

    def init(self):
        cr = self.env.cr
        # unique constraint under a new name: Odoo drops the former _sql_constraints one
        ensure_table(
            cr,
            self._table,
            [
                ("partner_id", "int4 NOT NULL"),
                ("company_id", "int4 NOT NULL"),
                ("is_distributor", "bool"),
                ("last_invoice_date", "date"),
                ("recency_days", "int4"),
                ("frequency", "int4"),
                ("revenue", "numeric"),
                ("pv", "float8"),
                ("monetary", "float8"),
                ("r_score", "int4"),
                ("f_score", "int4"),
                ("m_score", "int4"),
                ("rfm_code", "varchar"),
                ("rfm_band", "varchar"),
                ("date_computed", "timestamp"),
            ],
            unique=[
                ("ds_partner_rfm_partner_company_key", ("partner_id", "company_id"))
            ],
        )
        drop_indexes(
            cr,
            [
                "ds_partner_rfm__partner_id_index",
                "ds_partner_rfm__company_id_index",
                "ds_partner_rfm__rfm_band_index",
                "ds_partner_rfm__rfm_code_index",
            ],
        )

    @api.model
    def _cron_refresh(self):
        for company in self.env["res.company"].search([]):
            self._refresh_company(company)

    def action_refresh_all(self):
        ds_check_manager(self.env, self.env._("recompute RFM scores"), self)
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
        # quintile of the first row of each tie group (same result as NTILE(5) over the rows
        # ordered by value then partner, lowered to the tie group's minimum): RANK() is the row
        # number of that first row, mapped to its NTILE bucket arithmetically (PostgreSQL's NTILE:
        # the first n % 5 buckets hold n / 5 + 1 rows, the others n / 5; below 5 rows, one row
        # each). One sort per score instead of two. Rows are written in partner order: the unique
        # (partner, company) index then grows at its right edge.

        def tile(rank):
            return SQL(
                """CASE WHEN %(rank)s <= s.rem * (s.q + 1) THEN (%(rank)s - 1) / (s.q + 1) + 1
                        ELSE s.rem + (%(rank)s - 1 - s.rem * (s.q + 1)) / NULLIF(s.q, 0) + 1 END""",
                rank=SQL(rank),
            )

        # grouping the moves of a million partners: sorting them by partner and aggregating in
        # order is twice as fast as a hash table of a million numeric sums
        with bulk_settings(cr, enable_hashagg="off"):
            cr.execute(
                SQL("DELETE FROM ds_partner_rfm WHERE company_id = %s", company.id)
            )
            cr.execute(
                SQL(
                    """
            WITH pm AS (%(moves)s), agg AS (
                SELECT pm.partner_id, pm.is_distributor,
                       MAX(pm.invoice_date) FILTER (WHERE pm.move_type = 'out_invoice') AS last_date,
                       COUNT(*) FILTER (WHERE pm.move_type = 'out_invoice') AS frequency,
                       SUM(pm.revenue) AS revenue, SUM(pm.pv) AS pv
                  FROM pm
                 GROUP BY pm.partner_id, pm.is_distributor
            ), base AS (
                SELECT a.*, CASE WHEN a.is_distributor THEN a.pv ELSE a.revenue END AS monetary
                  FROM agg a
                 WHERE a.frequency > 0
            ), ranks AS (
                SELECT b.*,
                       RANK() OVER (PARTITION BY is_distributor ORDER BY last_date) AS r_rank,
                       RANK() OVER (PARTITION BY is_distributor ORDER BY frequency) AS f_rank,
                       RANK() OVER (PARTITION BY is_distributor ORDER BY monetary) AS m_rank,
                       COUNT(*) OVER (PARTITION BY is_distributor) AS n
                  FROM base b
            ), sizes AS (
                SELECT r.*, r.n / 5 AS q, CASE WHEN r.n < 5 THEN r.n ELSE mod(r.n, 5) END AS rem
                  FROM ranks r
            ), scores AS (
                SELECT s.*, %(r_tile)s AS r, %(f_tile)s AS f, %(m_tile)s AS m
                  FROM sizes s
            )
            INSERT INTO ds_partner_rfm (
                partner_id, company_id, is_distributor, last_invoice_date, recency_days, frequency,
                revenue, pv, monetary, r_score, f_score, m_score, rfm_code, rfm_band, date_computed)
            SELECT s.partner_id, %(company)s, s.is_distributor, s.last_date,
                   %(date_to)s::date - s.last_date, s.frequency, ROUND(s.revenue::numeric, %(digits)s),
                   s.pv, s.monetary, s.r, s.f, s.m, concat(s.r, s.f, s.m),
                   CASE WHEN s.r >= 4 AND s.f >= 4 THEN 'champion'
                        WHEN s.r <= 2 AND s.f <= 2 THEN 'lost'
                        WHEN s.r <= 2 THEN 'at_risk'
                        WHEN s.f >= 4 THEN 'loyal'
                        WHEN s.r >= 4 THEN 'new'
                        ELSE 'other' END,
                   now() AT TIME ZONE 'UTC'
              FROM scores s
             ORDER BY s.partner_id
            """,
                    moves=partner_moves(
                        company.id, date_to - timedelta(days=window - 1), date_to
                    ),
                    r_tile=tile("s.r_rank"),
                    f_tile=tile("s.f_rank"),
                    m_tile=tile("s.m_rank"),
                    company=company.id,
                    date_to=date_to,
                    digits=company.currency_id.decimal_places,
                )
            )
            count = cr.rowcount
        cr.execute("ANALYZE ds_partner_rfm")
        self.invalidate_model()
        return {"rows": count, "seconds": time.time() - started}
