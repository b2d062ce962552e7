from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from odoo.addons.crm_direct_selling.models.ds_access import ds_check_user


class DsReportPareto(models.Model):
    _name = "ds.report.pareto"
    _inherit = ["ds.report.xlsx.mixin"]
    _description = "Most Valuable Customers (Pareto)"
    _auto = False
    _order = "rank_position"
    _rec_name = "partner_id"
    _xlsx_fields = (
        "rank_position",
        "partner_id",
        "is_distributor",
        "revenue",
        "orders",
        "share",
        "cumulative_share",
        "abc_class",
        "top20",
        "p_alive",
        "expected_value_12m",
    )

    partner_id = fields.Many2one("res.partner", readonly=True)
    is_distributor = fields.Boolean(readonly=True)
    revenue = fields.Float(readonly=True, aggregator="sum", digits="Account")
    orders = fields.Integer(readonly=True, aggregator="sum")
    rank_position = fields.Integer(string="Rank", readonly=True, aggregator="min")
    share = fields.Float(
        string="Share (%)", readonly=True, aggregator="sum", digits=(16, 2)
    )
    cumulative_share = fields.Float(
        string="Cumulative Share (%)", readonly=True, aggregator="max", digits=(16, 2)
    )
    abc_class = fields.Selection(
        [("A", "A (first 80%)"), ("B", "B (next 15%)"), ("C", "C (last 5%)")],
        string="Class",
        readonly=True,
    )
    top20 = fields.Boolean(string="Top 20%", readonly=True)
    p_alive = fields.Float(
        string="Probability Alive",
        readonly=True,
        aggregator=None,
        digits=(16, 3),
        help="From the trained lifetime-value model (empty without one).",
    )
    expected_value_12m = fields.Float(
        string="Expected Value (12 months)",
        readonly=True,
        aggregator="sum",
        digits="Account",
        help="What the partner is expected to buy in the next 12 months (lifetime-value "
        "model): past value and future value side by side.",
    )

    @api.model
    def _window(self):
        today = fields.Date.context_today(self)
        return today - timedelta(
            days=(self.env.company.ds_rfm_window_days or 365) - 1
        ), today

    @property
    def _table_query(self):
        date_from, date_to = self._window()
        return SQL(
            """
            WITH rev AS (
                SELECT m.commercial_partner_id AS partner_id, SUM(m.amount_untaxed_signed) AS revenue,
                       COUNT(*) FILTER (WHERE m.move_type = 'out_invoice') AS orders
                  FROM account_move m
                 WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
                   AND m.company_id = %(company)s AND m.invoice_date BETWEEN %(date_from)s AND %(date_to)s
                 GROUP BY m.commercial_partner_id
                HAVING SUM(m.amount_untaxed_signed) > 0
            ), ranked AS (
                SELECT rev.*,
                       row_number() OVER (ORDER BY revenue DESC, partner_id) AS pos,
                       COUNT(*) OVER () AS n,
                       SUM(revenue) OVER () AS total,
                       SUM(revenue) OVER (ORDER BY revenue DESC, partner_id ROWS UNBOUNDED PRECEDING) AS cum
                  FROM rev
            )
            SELECT r.partner_id AS id, r.partner_id, p.ds_distributor_id IS NOT NULL AS is_distributor,
                   r.revenue, r.orders, r.pos AS rank_position,
                   r.revenue / r.total * 100 AS share, r.cum / r.total * 100 AS cumulative_share,
                   CASE WHEN r.cum - r.revenue < 0.8 * r.total THEN 'A'
                        WHEN r.cum - r.revenue < 0.95 * r.total THEN 'B' ELSE 'C' END AS abc_class,
                   r.pos <= ceil(0.2 * r.n) AS top20,
                   clv.p_alive, clv.expected_value_12m
              FROM ranked r JOIN res_partner p ON p.id = r.partner_id
         LEFT JOIN (ds_partner_clv clv JOIN ds_clv_model clvm ON clvm.id = clv.model_id AND clvm.calibrated) ON clv.partner_id = r.partner_id AND clv.company_id = %(company)s
            """,
            company=self.env.company.id,
            date_from=date_from,
            date_to=date_to,
        )

    @api.model
    def get_summary(self):
        """Share of revenue of the top 20% of buyers, Gini coefficient and ABC class sizes (one query)."""
        ds_check_user(self.env, _("read decision reports"), self)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """WITH v AS (%s), s AS (
                   SELECT revenue, row_number() OVER (ORDER BY revenue, id) AS i, COUNT(*) OVER () AS n,
                          SUM(revenue) OVER () AS total, top20, abc_class FROM v)
               SELECT COUNT(*), COALESCE(SUM(revenue), 0),
                      COALESCE(SUM(revenue) FILTER (WHERE top20), 0),
                      CASE WHEN COUNT(*) > 0 AND SUM(revenue) > 0
                           THEN 2 * SUM(i * revenue) / (MAX(n) * SUM(revenue)) - (MAX(n) + 1.0) / MAX(n) END,
                      COUNT(*) FILTER (WHERE abc_class = 'A'), COUNT(*) FILTER (WHERE abc_class = 'B'),
                      COUNT(*) FILTER (WHERE abc_class = 'C')
                 FROM s""",
                self._table_query,
            )
        )
        n, total, top, gini, a, b, c = self.env.cr.fetchone()
        total = float(total)
        return {
            "buyers": n,
            "revenue": total,
            "top20_share": float(top) / total * 100 if total else 0.0,
            "gini": float(gini or 0.0),
            "class_a": a,
            "class_b": b,
            "class_c": c,
        }

    @api.model
    def _xlsx_summary(self):
        s = self.get_summary()
        date_from, date_to = self._window()
        return [
            (_("Window"), f"{date_from} - {date_to}"),
            (_("Buyers"), s["buyers"]),
            (_("Revenue"), s["revenue"]),
            (_("Revenue share of the top 20% (%)"), round(s["top20_share"], 2)),
            (_("Gini coefficient"), round(s["gini"], 4)),
            (
                _("Class A / B / C"),
                "{} / {} / {}".format(s["class_a"], s["class_b"], s["class_c"]),
            ),
        ]
