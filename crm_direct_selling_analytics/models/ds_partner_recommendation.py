"""Next best product (issue 16): item-to-item association rules from who bought what
(support, confidence, lift over the company's buyers of the last RFM window), and per
partner the products they have not bought yet that their own purchases point to most. All
in one SQL statement; a campaign mail can name each member's own recommendation
(``object.ds_next_product_id``)."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.crm_direct_selling.models.derived_table import ensure_table
from odoo.addons.crm_direct_selling.models.ds_access import ds_check_manager

from ..tools.sqlparts import bulk_settings

MIN_PAIR_BUYERS = 5  # rules seen in fewer buyers are noise
RULES_PER_PRODUCT = 20
PER_PARTNER = 5


class DsPartnerRecommendation(models.Model):
    _name = "ds.partner.recommendation"
    _description = "Next Best Product per Partner"
    _order = "partner_id, rank"
    _rec_name = "product_id"
    # derived rows rewritten per company by _compute_company(): no foreign keys
    # (crm_direct_selling's derived_table.py); res.partner unlink() applies the cascade
    _auto = False

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True)
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade")
    because_product_id = fields.Many2one(
        "product.product",
        string="Because They Bought",
        help="The purchase of theirs that points most to this product.",
    )
    rank = fields.Integer(aggregator=None, help="1 = the most likely next product.")
    score = fields.Float(
        aggregator=None,
        digits=(16, 3),
        help="Share of the buyers of 'because they bought' who also bought this product "
        "(confidence of the rule).",
    )
    lift = fields.Float(
        aggregator=None,
        digits=(16, 2),
        help="How many times more likely than for any buyer (above 1: a real association).",
    )
    date_computed = fields.Datetime(readonly=True)

    def init(self):
        ensure_table(
            self.env.cr,
            self._table,
            [
                ("partner_id", "int4 NOT NULL"),
                ("company_id", "int4 NOT NULL"),
                ("product_id", "int4 NOT NULL"),
                ("because_product_id", "int4"),
                ("rank", "int4"),
                ("score", "float8"),
                ("lift", "float8"),
                ("date_computed", "timestamp"),
            ],
            indexes=[("ds_partner_recommendation__partner_id_index", ("partner_id",))],
        )

    def action_compute_all(self, res_ids=None):
        """List header button: recompute the current company's recommendations, inline
        or, when the company's buyers reach its background threshold, in a background
        job (the button then returns at once)."""
        ds_check_manager(
            self.env, self.env._("compute product recommendations"), self, "read"
        )
        company = self.env.company
        if company.ds_reco_job_state == "queued":
            raise UserError(
                self.env._(
                    "The next best products of %s are already being computed in the "
                    "background.",
                    company.name,
                )
            )
        threshold = company.ds_decision_async_threshold
        size = self.env.execute_query(
            SQL("SELECT COUNT(*) FROM ds_partner_rfm WHERE company_id = %s", company.id)
        )[0][0]
        if threshold < 0 or size < threshold:
            self.sudo()._compute_company(company)
            return True
        company.sudo().write(
            {"ds_reco_job_state": "queued", "ds_reco_job_user_id": self.env.uid}
        )
        self.env.ref(
            "crm_direct_selling_analytics.ir_cron_ds_recommendation_compute"
        )._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "The next best products are computed in the background; reload the "
                    "list in a few minutes."
                ),
            },
        }

    @api.model
    def _cron_compute_queued(self):
        """Background job: the queued companies' tables, one company per call."""
        companies = (
            self.env["res.company"]
            .sudo()
            .search([("ds_reco_job_state", "=", "queued")], order="id")
        )
        if not companies:
            return
        company = companies[0]
        try:
            with self.env.cr.savepoint():
                self.sudo()._compute_company(company)
            company.write({"ds_reco_job_state": "done", "ds_reco_job_error": False})
        except Exception as e:  # noqa: BLE001 - reported on the company, cron goes on
            company.write({"ds_reco_job_state": "failed", "ds_reco_job_error": str(e)})
        self.env["ir.cron"]._notify_progress(done=1, remaining=len(companies) - 1)

    @api.model
    def _compute_company(self, company, date_to=None):
        date_to = date_to or fields.Date.context_today(self)
        date_from = date_to - timedelta(days=company.ds_rfm_window_days or 365)
        self.env.flush_all()
        cr = self.env.cr
        with bulk_settings(cr):
            cr.execute(
                SQL(
                    "DELETE FROM ds_partner_recommendation WHERE company_id = %s",
                    company.id,
                )
            )
            cr.execute(
                SQL(
                    """
                WITH bought AS (
                    SELECT DISTINCT m.commercial_partner_id AS partner_id, l.product_id
                      FROM account_move_line l
                      JOIN account_move m ON m.id = l.move_id
                     WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
                       AND m.company_id = %(company)s
                       AND m.invoice_date BETWEEN %(date_from)s AND %(date_to)s
                       AND l.display_type = 'product' AND l.product_id IS NOT NULL
                ),
                buyers AS (SELECT COUNT(DISTINCT partner_id)::float8 AS n FROM bought),
                product_buyers AS (
                    SELECT product_id, COUNT(*)::float8 AS cnt FROM bought GROUP BY product_id
                ),
                pairs AS (
                    SELECT a.product_id AS a, b.product_id AS b, COUNT(*)::float8 AS both_cnt
                      FROM bought a
                      JOIN bought b ON b.partner_id = a.partner_id AND b.product_id <> a.product_id
                  GROUP BY a.product_id, b.product_id
                    HAVING COUNT(*) >= %(min_pair)s
                ),
                rules AS (
                    SELECT r.* FROM (
                        SELECT p.a, p.b, p.both_cnt / pa.cnt AS confidence,
                               p.both_cnt * buyers.n / (pa.cnt * pb.cnt) AS lift,
                               ROW_NUMBER() OVER (PARTITION BY p.a
                                                  ORDER BY p.both_cnt / pa.cnt DESC, p.b) AS nr
                          FROM pairs p
                          JOIN product_buyers pa ON pa.product_id = p.a
                          JOIN product_buyers pb ON pb.product_id = p.b
                          CROSS JOIN buyers
                         WHERE p.both_cnt * buyers.n > pa.cnt * pb.cnt
                    ) r WHERE r.nr <= %(per_product)s
                ),
                candidates AS (
                    SELECT DISTINCT ON (bo.partner_id, ru.b)
                           bo.partner_id, ru.b AS product_id, bo.product_id AS because,
                           ru.confidence, ru.lift
                      FROM bought bo
                      JOIN rules ru ON ru.a = bo.product_id
                     WHERE NOT EXISTS (SELECT 1 FROM bought own
                                        WHERE own.partner_id = bo.partner_id
                                          AND own.product_id = ru.b)
                  ORDER BY bo.partner_id, ru.b, ru.confidence DESC, ru.lift DESC, bo.product_id
                ),
                ranked AS (
                    SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.partner_id
                                                   ORDER BY c.confidence DESC, c.lift DESC,
                                                            c.product_id) AS rank
                      FROM candidates c
                )
                INSERT INTO ds_partner_recommendation (partner_id, company_id, product_id,
                    because_product_id, rank, score, lift, date_computed)
                SELECT partner_id, %(company)s, product_id, because, rank, confidence, lift,
                       NOW() AT TIME ZONE 'UTC'
                  FROM ranked WHERE rank <= %(per_partner)s
                    """,
                    company=company.id,
                    date_from=date_from,
                    date_to=date_to,
                    min_pair=MIN_PAIR_BUYERS,
                    per_product=RULES_PER_PRODUCT,
                    per_partner=PER_PARTNER,
                )
            )
            cr.execute("ANALYZE ds_partner_recommendation")
        self.invalidate_model()
        return True


class ResPartner(models.Model):
    _inherit = "res.partner"

    ds_next_product_id = fields.Many2one(
        "product.product",
        string="Next Best Product",
        compute="_compute_ds_next_product",
        help="The product this contact is most likely to buy next (for campaign mails: "
        "object.ds_next_product_id.name).",
    )

    def _compute_ds_next_product(self):
        rows = dict(
            self.env.execute_query(
                SQL(
                    """
                    SELECT DISTINCT ON (partner_id) partner_id, product_id
                      FROM ds_partner_recommendation
                     WHERE partner_id = ANY(%s) AND company_id = %s
                  ORDER BY partner_id, rank
                    """,
                    self.ids,
                    self.env.company.id,
                )
            )
            if self.ids
            else []
        )
        for partner in self:
            partner.ds_next_product_id = rows.get(partner.id, False)
