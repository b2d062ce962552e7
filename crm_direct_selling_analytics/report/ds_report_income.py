from odoo import _, api, fields, models
from odoo.tools import SQL

GRAINS = [("year", "Year"), ("period", "Period")]


class DsReportIncome(models.Model):
    """Income disclosure statement, laid out as direct-selling companies publish them:
    for one statement (a calendar year, or one period), one row per paid-as rank with the
    number of distributors at that rank, their share of all distributors, how many earned
    anything, and the mean, median, percentiles, lowest and highest earnings.

    The rows hold one grain only (``ds_income_grain`` in the context: ``year`` by
    default, ``period`` from the "By Period" filter): a period's amounts are never
    counted again in its year, so the distributor counts, earner counts and totals of the
    rows add up (per statement; the totals of several statements too). Means, medians,
    percentiles and shares do not add up: they are not aggregated; the all-ranks figures
    of a statement are computed (in SQL) for the XLSX export, ``_statement_summaries``.
    """

    _name = "ds.report.income"
    _inherit = ["ds.report.xlsx.mixin"]
    _description = "Income Disclosure Statement"
    _auto = False
    _order = "date_to desc, statement desc, rank_sequence desc"
    _xlsx_fields = (
        "statement",
        "date_from",
        "date_to",
        "rank_id",
        "distributor_count",
        "distributor_pct",
        "earner_count",
        "earner_pct",
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

    grain = fields.Selection(GRAINS, readonly=True)
    statement = fields.Char(
        readonly=True, help="The year or the period this statement covers."
    )
    # a Char: a year is a name, not a quantity (no "2,026", never summed)
    year = fields.Char(readonly=True)
    period_id = fields.Many2one("ds.period", readonly=True)
    date_from = fields.Date(
        string="From", readonly=True, help="Start of the first period covered."
    )
    date_to = fields.Date(
        string="To", readonly=True, help="End of the last period covered."
    )
    period_count = fields.Integer(
        string="Periods", readonly=True, aggregator=None, help="Periods covered."
    )
    rank_id = fields.Many2one("ds.rank", string="Paid-as Rank", readonly=True)
    rank_sequence = fields.Integer(readonly=True, aggregator=None)
    currency_id = fields.Many2one("res.currency", readonly=True)
    distributor_count = fields.Integer(
        string="Distributors", readonly=True, aggregator="sum"
    )
    distributor_pct = fields.Float(
        string="Share of Distributors (%)",
        readonly=True,
        aggregator=None,
        digits=(16, 2),
        help="Distributors at this rank out of all distributors of the statement.",
    )
    earner_count = fields.Integer(
        string="Earned Anything", readonly=True, aggregator="sum"
    )
    earner_pct = fields.Float(
        string="Earned Anything (%)",
        readonly=True,
        aggregator=None,
        digits=(16, 2),
        help="Distributors at this rank who earned anything, out of all at this rank.",
    )
    earner_share_pct = fields.Float(
        string="Share of Earners (%)",
        readonly=True,
        aggregator=None,
        digits=(16, 2),
        help="Earners at this rank out of all distributors of the statement who "
        "earned anything.",
    )
    total_amount = fields.Monetary(
        string="Total Earnings", readonly=True, aggregator="sum"
    )
    mean_amount = fields.Monetary(string="Mean", readonly=True, aggregator=None)
    median_amount = fields.Monetary(string="Median", readonly=True, aggregator=None)
    p10_amount = fields.Monetary(
        string="10th Percentile", readonly=True, aggregator=None
    )
    p25_amount = fields.Monetary(
        string="25th Percentile", readonly=True, aggregator=None
    )
    p75_amount = fields.Monetary(
        string="75th Percentile", readonly=True, aggregator=None
    )
    p90_amount = fields.Monetary(
        string="90th Percentile", readonly=True, aggregator=None
    )
    min_amount = fields.Monetary(string="Lowest", readonly=True, aggregator="min")
    max_amount = fields.Monetary(string="Highest", readonly=True, aggregator="max")

    # ------------------------------------------------------------------ SQL
    @api.model
    def _grain(self):
        return (
            "period" if self.env.context.get("ds_income_grain") == "period" else "year"
        )

    @api.model
    def _distributor_statement_query(self):
        """One row per distributor and statement of the grain in the context: skey (the
        statement key), statement, year, period_id, date_from, date_to, period_count,
        distributor_id, rank_id, amount.

        Earnings are paid by posted (non-simulation) bonus runs; the population of a period is
        the distributors with a volume row in it (so zero earners count) plus anyone paid; the
        rank is the paid-as rank of the period (of a year: the highest paid-as rank of it)."""
        company = self.env.company
        per_distributor = SQL(
            """
            runs AS (
                SELECT r.id, r.period_id FROM ds_bonus_run r
                 WHERE r.state = 'posted' AND NOT COALESCE(r.simulation, FALSE)
                   AND r.company_id = %(company)s
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
                  FROM pop FULL JOIN earn
                    ON earn.period_id = pop.period_id AND earn.distributor_id = pop.distributor_id
            ), per_rank AS (
                SELECT per.period_id, per.distributor_id, per.amount,
                       date_part('year', pe.date_to)::int::text AS year,
                       pe.name AS period_name, pe.date_from, pe.date_to,
                       COALESCE(per.paid_rank_id, d.rank_id) AS rank_id
                  FROM per JOIN ds_period pe ON pe.id = per.period_id
                  JOIN ds_distributor d ON d.id = per.distributor_id
            )""",
            company=company.id,
        )
        if self._grain() == "period":
            return SQL(
                """
            WITH %(per_distributor)s
            SELECT 'period' AS grain, period_id::text AS skey, period_name AS statement, year,
                   period_id, date_from, date_to, 1 AS period_count, distributor_id, rank_id, amount
              FROM per_rank""",
                per_distributor=per_distributor,
            )
        return SQL(
            """
            WITH %(per_distributor)s, cover AS (
                SELECT year, MIN(date_from) AS date_from, MAX(date_to) AS date_to,
                       COUNT(DISTINCT period_id) AS period_count
                  FROM per_rank GROUP BY year
            ), yearly AS (
                SELECT pr.year, pr.distributor_id, SUM(pr.amount) AS amount,
                       (ARRAY_AGG(pr.rank_id ORDER BY rk.sequence DESC NULLS LAST))[1] AS rank_id
                  FROM per_rank pr LEFT JOIN ds_rank rk ON rk.id = pr.rank_id
                 GROUP BY pr.year, pr.distributor_id
            )
            SELECT 'year' AS grain, yearly.year AS skey, yearly.year AS statement, yearly.year,
                   NULL::int AS period_id, cover.date_from, cover.date_to, cover.period_count,
                   yearly.distributor_id, yearly.rank_id, yearly.amount
              FROM yearly JOIN cover ON cover.year = yearly.year""",
            per_distributor=per_distributor,
        )

    @api.model
    def _amount_stats(self):
        """The aggregate columns over ``amount``, all distributors of a group."""
        digits = self.env.company.currency_id.decimal_places
        percentiles = [
            SQL(
                "ROUND(percentile_cont(%s) WITHIN GROUP (ORDER BY s.amount)::numeric, %s) AS %s",
                fraction,
                digits,
                SQL.identifier(name),
            )
            for fraction, name in (
                (0.5, "median_amount"),
                (0.1, "p10_amount"),
                (0.25, "p25_amount"),
                (0.75, "p75_amount"),
                (0.9, "p90_amount"),
            )
        ]
        return SQL(
            """COUNT(*) AS distributor_count,
               COUNT(*) FILTER (WHERE s.amount > 0) AS earner_count,
               SUM(s.amount) AS total_amount,
               ROUND(AVG(s.amount), %(digits)s) AS mean_amount,
               %(percentiles)s,
               MIN(s.amount) AS min_amount, MAX(s.amount) AS max_amount""",
            digits=digits,
            percentiles=SQL(", ").join(percentiles),
        )

    @property
    def _table_query(self):
        return SQL(
            """
            WITH s AS (%(stmt)s),
            tot AS (
                SELECT skey, COUNT(*) AS n, COUNT(*) FILTER (WHERE amount > 0) AS earners
                  FROM s GROUP BY skey
            ), g AS (
                SELECT s.grain, s.skey, s.statement, s.year, s.period_id, s.date_from, s.date_to,
                       s.period_count, s.rank_id, %(stats)s
                  FROM s
                 GROUP BY s.grain, s.skey, s.statement, s.year, s.period_id, s.date_from,
                          s.date_to, s.period_count, s.rank_id
            )
            -- ids of the year rows odd, of the period rows even: a record cached in one
            -- grain is never read as a row of the other
            SELECT 2 * row_number() OVER (ORDER BY g.date_to, g.skey, rk.sequence, g.rank_id)
                   - (g.grain = 'year')::int AS id,
                   g.*, rk.sequence AS rank_sequence, %(currency)s AS currency_id,
                   ROUND(100.0 * g.distributor_count / tot.n, 2) AS distributor_pct,
                   ROUND(100.0 * g.earner_count / g.distributor_count, 2) AS earner_pct,
                   ROUND(100.0 * g.earner_count / NULLIF(tot.earners, 0), 2) AS earner_share_pct
              FROM g JOIN tot ON tot.skey = g.skey
              LEFT JOIN ds_rank rk ON rk.id = g.rank_id
            """,
            stmt=self._distributor_statement_query(),
            stats=self._amount_stats(),
            currency=self.env.company.currency_id.id,
        )

    @api.model
    def _statement_summaries(self, skeys=None):
        """All ranks together, per statement of the grain in the context (optionally only
        ``skeys``): dicts with statement, date_from, date_to, period_count and the columns
        of ``_amount_stats`` (the median of all distributors, not a mean of medians)."""
        self.env.flush_all()
        where = (
            SQL("s.skey = ANY(%s)", list(skeys)) if skeys is not None else SQL("TRUE")
        )
        rows = self.env.execute_query_dict(
            SQL(
                """
            WITH s AS (%(stmt)s)
            SELECT s.skey, s.statement, s.date_from, s.date_to, s.period_count, %(stats)s
              FROM s WHERE %(where)s
             GROUP BY s.skey, s.statement, s.date_from, s.date_to, s.period_count
             ORDER BY s.date_to DESC, s.skey DESC
            """,
                stmt=self._distributor_statement_query(),
                stats=self._amount_stats(),
                where=where,
            )
        )
        for row in rows:
            n = row["distributor_count"]
            row["earner_pct"] = round(100.0 * row["earner_count"] / n, 2) if n else 0.0
        return rows

    # ------------------------------------------------------------------ XLSX
    @api.model
    def _xlsx_summary(self):
        """The statement(s) above the rank table: what is covered and all ranks together,
        the same figures the list shows grouped by statement."""
        skeys = None
        domain = self._xlsx_domain()
        if domain:
            skeys = set(self.search(domain).mapped(lambda r: r._skey()))
        summaries = self._statement_summaries(skeys)
        grain = dict(GRAINS)[self._grain()]
        rows = [
            (_("Income Disclosure Statement"), _("by %(grain)s", grain=grain)),
            (
                _("Statement"),
                _("From"),
                _("To"),
                _("Periods"),
                _("Distributors"),
                _("Earned Anything"),
                _("Earned Anything (%)"),
                _("Total Earnings"),
                _("Mean"),
                _("Median"),
                _("Lowest"),
                _("Highest"),
            ),
        ]
        for s in summaries:
            rows.append(
                (
                    s["statement"],
                    s["date_from"],
                    s["date_to"],
                    s["period_count"],
                    s["distributor_count"],
                    s["earner_count"],
                    s["earner_pct"],
                    float(s["total_amount"]),
                    float(s["mean_amount"]),
                    float(s["median_amount"]),
                    float(s["min_amount"]),
                    float(s["max_amount"]),
                )
            )
        return rows

    def _skey(self):
        self.ensure_one()
        return str(self.period_id.id) if self.grain == "period" else self.year
