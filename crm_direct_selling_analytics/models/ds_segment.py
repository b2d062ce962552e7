import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from odoo.addons.crm_direct_selling.models.derived_table import unlink_and_apply
from odoo.addons.crm_direct_selling.models.ds_access import ds_check_user

from ..tools.sqlparts import bulk_settings
from .ds_partner_rfm import RFM_BANDS


class DsSegment(models.Model):
    _name = "ds.segment"
    _description = "Direct Selling Segment"
    _inherit = ["mail.thread"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    description = fields.Text()
    domain = fields.Char(
        default="[]",
        required=True,
        help="Odoo domain on contacts, combined (AND) with the direct-selling criteria below.",
    )
    partner_type = fields.Selection(
        [
            ("all", "Distributors and customers"),
            ("distributor", "Distributors"),
            ("customer", "Customers"),
        ],
        default="all",
        required=True,
    )
    # RFM
    r_score_min = fields.Integer(
        aggregator=None, string="Min. Recency Score", help="1-5, 0 = any"
    )
    f_score_min = fields.Integer(
        aggregator=None, string="Min. Frequency Score", help="1-5, 0 = any"
    )
    m_score_min = fields.Integer(
        aggregator=None, string="Min. Monetary Score", help="1-5, 0 = any"
    )
    r_score_max = fields.Integer(
        aggregator=None, string="Max. Recency Score", help="1-5, 0 = any"
    )
    rfm_band = fields.Selection(RFM_BANDS, string="RFM Band")
    # network
    rank_ids = fields.Many2many(
        "ds.rank", "ds_segment_rank_rel", "segment_id", "rank_id", string="Ranks"
    )
    tenure_min_months = fields.Integer(
        help="Enrolled (customers: created) at least this many months ago."
    )
    tenure_max_months = fields.Integer(
        help="Enrolled (customers: created) at most this many months ago; 0 = any"
    )
    new_recruit_days = fields.Integer(
        string="New Recruits (days)",
        help="Distributors enrolled in the last N days; 0 = off",
    )
    activity = fields.Selection(
        [
            ("active", "Active in each of the last N periods"),
            ("inactive", "Inactive in all of the last N periods"),
        ],
        help="Uses the distributor volumes (ds.volume) of the last N periods that have ended.",
    )
    activity_periods = fields.Integer(string="N Periods", default=3)
    # region
    country_ids = fields.Many2many(
        "res.country", "ds_segment_country_rel", "segment_id", "country_id"
    )
    state_ids = fields.Many2many(
        "res.country.state",
        "ds_segment_state_rel",
        "segment_id",
        "state_id",
        string="States",
    )
    zip_prefixes = fields.Char(
        string="ZIP Prefixes", help="Comma-separated, e.g. 75, 92"
    )
    # product interest
    category_ids = fields.Many2many(
        "product.category",
        "ds_segment_categ_rel",
        "segment_id",
        "categ_id",
        string="Bought Product Categories",
    )
    category_days = fields.Integer(string="Bought Within (days)", default=365)

    member_ids = fields.One2many("ds.segment.member", "segment_id", string="Members")
    member_count = fields.Integer(readonly=True, copy=False)
    last_refresh = fields.Datetime(readonly=True, copy=False)
    refresh_seconds = fields.Float(readonly=True, copy=False, digits=(16, 2))
    preview_count = fields.Integer(
        compute="_compute_preview_count", string="Matching Now"
    )
    preview_member_ids = fields.Many2many(
        "res.partner",
        compute="_compute_preview_member_ids",
        string="Preview",
        help="The first 80 members of the snapshot (the full list is behind the Members button).",
    )
    campaign_ids = fields.One2many("ds.campaign", "segment_id")

    @api.constrains("domain")
    def _check_domain(self):
        for segment in self:
            try:
                segment._get_domain()
            except Exception as e:
                raise ValidationError(
                    _(
                        "Segment %(name)s: invalid domain: %(err)s",
                        name=segment.name,
                        err=e,
                    )
                ) from e

    @api.constrains("r_score_min", "f_score_min", "m_score_min", "r_score_max")
    def _check_scores(self):
        for segment in self:
            for value in (
                segment.r_score_min,
                segment.f_score_min,
                segment.m_score_min,
                segment.r_score_max,
            ):
                if not 0 <= value <= 5:
                    raise ValidationError(
                        _(
                            "Segment %s: RFM scores go from 1 to 5 (0 = any).",
                            segment.name,
                        )
                    )

    def _get_domain(self):
        self.ensure_one()
        domain = safe_eval(self.domain or "[]")
        if not isinstance(domain, list):
            raise ValidationError(_("The domain must be a list."))
        # validates field names
        self.env["res.partner"]._search(domain)
        return domain

    # ------------------------------------------------------------------ SQL
    def _members_query(self):
        """SQL selecting the partner ids (column partner_id) matching this segment now."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        company = self.company_id
        conds = [
            SQL("(p.company_id IS NULL OR p.company_id = %s)", company.id),
            SQL("p.active"),
        ]
        domain = self._get_domain()
        if domain:
            query = self.env["res.partner"].with_company(company)._search(domain)
            conds.append(SQL("p.id IN (%s)", query.subselect()))
        # on the partner's own column (same as d.id, a foreign key): estimated from its statistics,
        # which keeps hash joins at scale, and the join to ds_distributor can be left out
        if self.partner_type == "distributor":
            conds.append(SQL("p.ds_distributor_id IS NOT NULL"))
        elif self.partner_type == "customer":
            conds.append(SQL("p.ds_distributor_id IS NULL"))
        rfm_conds = []
        for field, op in (("r_score", ">="), ("f_score", ">="), ("m_score", ">=")):
            value = self[field + "_min"]
            if value:
                rfm_conds.append(
                    SQL("r.%s %s %s", SQL.identifier(field), SQL(op), value)
                )
        if self.r_score_max:
            rfm_conds.append(SQL("r.r_score <= %s", self.r_score_max))
        if self.rfm_band:
            rfm_conds.append(SQL("r.rfm_band = %s", self.rfm_band))
        if rfm_conds:
            conds.append(
                SQL(
                    "EXISTS (SELECT 1 FROM ds_partner_rfm r WHERE r.partner_id = p.id AND r.company_id = %s AND %s)",
                    company.id,
                    SQL(" AND ").join(rfm_conds),
                )
            )
        if self.rank_ids:
            conds.append(SQL("d.rank_id IN %s", tuple(self.rank_ids.ids)))
        since = SQL("COALESCE(d.enrollment_date, p.create_date::date)")
        if self.tenure_min_months:
            conds.append(
                SQL(
                    "%s <= %s",
                    since,
                    today - relativedelta(months=self.tenure_min_months),
                )
            )
        if self.tenure_max_months:
            conds.append(
                SQL(
                    "%s >= %s",
                    since,
                    today - relativedelta(months=self.tenure_max_months),
                )
            )
        if self.new_recruit_days:
            conds.append(
                SQL(
                    "d.enrollment_date >= %s",
                    today - timedelta(days=self.new_recruit_days),
                )
            )
        conds += self._activity_conditions(today)
        if self.country_ids:
            conds.append(SQL("p.country_id IN %s", tuple(self.country_ids.ids)))
        if self.state_ids:
            conds.append(SQL("p.state_id IN %s", tuple(self.state_ids.ids)))
        prefixes = [
            z.strip() for z in (self.zip_prefixes or "").split(",") if z.strip()
        ]
        if prefixes:
            patterns = [
                z.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                for z in prefixes
            ]
            conds.append(SQL("p.zip LIKE ANY (%s)", patterns))
        conds += self._category_conditions(today)
        conds += self._extra_conditions(today)
        return SQL(
            "SELECT p.id AS partner_id FROM res_partner p LEFT JOIN ds_distributor d ON d.id = p.ds_distributor_id WHERE %s",
            SQL(" AND ").join(conds),
        )

    def _extra_conditions(self, today):
        """Criteria added by other addons (e.g. training in crm_direct_selling_portal):
        a list of SQL conditions on ``p`` (res_partner) and ``d`` (ds_distributor)."""
        return []

    def _activity_conditions(self, today):
        """Active in each / inactive in all of the last N ended periods (ds.volume.is_active)."""
        company = self.company_id
        if not self.activity:
            return []
        conds = []
        n = max(self.activity_periods, 1)
        periods = self.env["ds.period"].search(
            [("company_id", "=", company.id), ("date_to", "<", today)],
            order="date_to desc",
            limit=n,
        )
        period_ids = tuple(periods.ids) or (0,)
        active_count = SQL(
            "(SELECT COUNT(*) FROM ds_volume v WHERE v.distributor_id = d.id AND v.is_active AND v.period_id IN %s)",
            period_ids,
        )
        conds.append(SQL("p.ds_distributor_id IS NOT NULL"))
        if self.activity == "active":
            conds.append(SQL("%s = %s", active_count, len(periods) or -1))
        else:
            conds.append(SQL("%s = 0", active_count))
        return conds

    def _category_conditions(self, today):
        """Bought a product of these categories (or their children) within the lookback."""
        company = self.company_id
        if not self.category_ids:
            return []
        conds = []
        categs = self.env["product.category"].search(
            [("id", "child_of", self.category_ids.ids)]
        )
        conds.append(
            SQL(
                """p.id IN (SELECT m.commercial_partner_id
                          FROM account_move_line l
                          JOIN account_move m ON m.id = l.move_id
                          JOIN product_product pp ON pp.id = l.product_id
                          JOIN product_template pt ON pt.id = pp.product_tmpl_id
                         WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
                           AND m.company_id = %s AND m.invoice_date >= %s AND pt.categ_id IN %s)""",
                company.id,
                today - timedelta(days=self.category_days or 365),
                tuple(categs.ids),
            )
        )
        return conds

    @api.depends("member_count", "last_refresh")
    def _compute_preview_member_ids(self):
        for segment in self:
            members = self.env["ds.segment.member"].search(
                [("segment_id", "=", segment.id or 0)], limit=80, order="partner_id"
            )
            segment.preview_member_ids = members.partner_id

    @api.depends_context("uid")
    def _compute_preview_count(self):
        self.env.flush_all()
        for segment in self:
            if not segment.id:
                segment.preview_count = 0
                continue
            try:
                query = segment._members_query()
            except (UserError, ValidationError):
                segment.preview_count = 0
                continue
            self.env.cr.execute(SQL("SELECT COUNT(*) FROM (%s) q", query))
            segment.preview_count = self.env.cr.fetchone()[0]

    def action_refresh(self):
        """Bring the member snapshot of each segment up to date, set-based in one statement.

        Only the differences are written: members that no longer match are deleted, new matches
        inserted, unchanged members left alone (a daily refresh of a large, stable segment writes
        little).
        """
        ds_check_user(self.env, _("refresh segments"), self, "write")
        self.env.flush_all()
        cr = self.env.cr
        for segment in self:
            started = time.time()
            query = segment._members_query()
            cr.execute(
                SQL(
                    "SELECT 1 FROM ds_segment_member WHERE segment_id = %s LIMIT 1",
                    segment.id,
                )
            )
            empty = not cr.fetchone()
            with bulk_settings(cr):
                if empty:
                    cr.execute(
                        SQL(
                            """INSERT INTO ds_segment_member (segment_id, partner_id)
                               SELECT %(seg)s, q.partner_id FROM (%(query)s) q""",
                            seg=segment.id,
                            query=query,
                        )
                    )
                    count = cr.rowcount
                else:
                    # NOT IN (hashed) and ON CONFLICT (unique index): plans that stay linear
                    # whatever the estimates of the segment query
                    cr.execute(
                        SQL(
                            """WITH q AS MATERIALIZED (%(query)s),
                                gone AS (
                                    DELETE FROM ds_segment_member sm
                                     WHERE sm.segment_id = %(seg)s
                                       AND sm.partner_id NOT IN (SELECT q.partner_id FROM q)
                                ),
                                added AS (
                                    INSERT INTO ds_segment_member (segment_id, partner_id)
                                    SELECT %(seg)s, q.partner_id FROM q
                                    ON CONFLICT (segment_id, partner_id) DO NOTHING
                                )
                               SELECT COUNT(*) FROM q""",
                            seg=segment.id,
                            query=query,
                        )
                    )
                    count = cr.fetchone()[0]
            cr.execute("ANALYZE ds_segment_member")
            segment.write(
                {
                    "member_count": count,
                    "last_refresh": fields.Datetime.now(),
                    "refresh_seconds": time.time() - started,
                }
            )
        self.env["ds.segment.member"].invalidate_model()
        self.invalidate_recordset(["member_ids"])
        return True

    def unlink(self):
        # ds.segment.member keeps no foreign keys (crm_direct_selling's derived_table.py): its
        # ondelete='cascade', by hand
        return unlink_and_apply(
            self, super().unlink, [("ds_segment_member", "segment_id", "cascade")]
        )

    @api.model
    def _cron_refresh(self):
        self.env["ds.partner.rfm"]._cron_refresh()
        segments = self.search([])
        for done, segment in enumerate(segments, start=1):
            segment.action_refresh()
            self.env["ir.cron"]._notify_progress(
                done=done, remaining=len(segments) - done
            )

    def action_view_members(self):
        ds_check_user(self.env, _("open segment members"), self)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Members of %s", self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("ds_segment_member_ids.segment_id", "=", self.id)],
        }

    def action_new_campaign(self):
        ds_check_user(self.env, _("create campaigns"), self)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "ds.campaign",
            "view_mode": "form",
            "context": {"default_segment_id": self.id, "default_name": self.name},
        }
