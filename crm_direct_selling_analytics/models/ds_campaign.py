import math
import time
import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.crm_direct_selling.models.derived_table import unlink_and_apply
from odoo.addons.crm_direct_selling.models.ds_access import ds_check_user

from ..tools import stats
from ..tools.sqlparts import (
    bulk_settings,
    hash32,
    holdout_condition,
    partner_moves,
    uniform_hash,
)
from .ds_partner_rfm import RFM_BANDS

SRM_THRESHOLD = 0.001
VERDICTS = [
    ("not_measured", "Not measured yet"),
    ("srm", "Blocked: sample ratio mismatch"),
    ("too_small", "Too early: groups too small"),
    ("positive", "Campaign earned more"),
    ("negative", "Campaign earned less"),
    ("no_difference", "Not significant: no difference shown"),
]
SIGNIFICANCE = [
    ("not_measured", "Not measured"),
    ("significant", "Significant"),
    ("not_significant", "Not significant"),
]
METRICS = ("rev", "pv", "orders")


class DsCampaign(models.Model):
    _name = "ds.campaign"
    _description = "Direct Selling Campaign with Control Group"
    _inherit = ["mail.thread"]
    _order = "date_start desc, id desc"

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("assigned", "Assigned"),
            ("running", "Running"),
            ("done", "Measured"),
            ("cancel", "Cancelled"),
        ],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    segment_id = fields.Many2one("ds.segment", required=True, tracking=True, index=True)
    utm_campaign_id = fields.Many2one("utm.campaign", string="UTM Campaign")
    control_pct = fields.Float(
        aggregator=None, string="Control Group (%)", default=10.0, tracking=True
    )
    stratify = fields.Boolean(
        default=True,
        help="Split each rank x RFM band stratum separately so small audiences stay balanced.",
    )
    seed = fields.Char(
        required=True,
        copy=False,
        default=lambda self: uuid.uuid4().hex[:16],
        help="Assignment is md5(seed, partner): the same seed always gives the same groups.",
    )
    date_start = fields.Date(tracking=True)
    date_end = fields.Date(tracking=True)
    cost = fields.Monetary(tracking=True)
    use_cuped = fields.Boolean(
        string="CUPED", help="Reduce variance with the same metric in the pre-period."
    )
    pre_period_days = fields.Integer(
        help="Length of the pre-period before the start; 0 = as long as the campaign window."
    )
    min_group_size = fields.Integer(
        default=lambda self: self.env.company.ds_campaign_min_group_size or 100
    )

    member_ids = fields.One2many("ds.campaign.member", "campaign_id", string="Members")
    mailing_ids = fields.One2many(
        "mailing.mailing", "ds_campaign_id", string="Mailings"
    )
    loyalty_program_ids = fields.One2many(
        "loyalty.program", "ds_campaign_id", string="Coupon Programs"
    )
    holdout_count = fields.Integer(
        readonly=True,
        copy=False,
        help="Segment members left out by the global holdout.",
    )
    target_count = fields.Integer(readonly=True, copy=False)
    control_count = fields.Integer(readonly=True, copy=False)
    assign_seconds = fields.Float(readonly=True, copy=False)

    # power preview
    baseline_response_rate = fields.Float(aggregator=None, readonly=True, copy=False)
    baseline_revenue_per_member = fields.Float(
        aggregator=None, readonly=True, copy=False, digits=(16, 2)
    )
    baseline_revenue_sd = fields.Float(
        aggregator=None, readonly=True, copy=False, digits=(16, 2)
    )
    mde_response = fields.Float(
        aggregator=None, string="MDE Response Rate", readonly=True, copy=False
    )
    mde_revenue = fields.Float(
        aggregator=None,
        string="MDE Revenue / Member",
        readonly=True,
        copy=False,
        digits=(16, 2),
    )
    mde_revenue_pct = fields.Float(
        aggregator=None,
        string="MDE Revenue (%)",
        readonly=True,
        copy=False,
        digits=(16, 1),
    )
    power_note = fields.Text(readonly=True, copy=False)

    # results
    measured_on = fields.Datetime(readonly=True, copy=False)
    measure_seconds = fields.Float(readonly=True, copy=False)
    cuped_applied = fields.Boolean(string="CUPED Applied", readonly=True, copy=False)
    responders_target = fields.Integer(readonly=True, copy=False)
    responders_control = fields.Integer(readonly=True, copy=False)
    response_rate_target = fields.Float(aggregator=None, readonly=True, copy=False)
    response_rate_control = fields.Float(aggregator=None, readonly=True, copy=False)
    uplift_response = fields.Float(aggregator=None, readonly=True, copy=False)
    uplift_response_ci_low = fields.Float(
        string="Response Uplift CI low", aggregator=None, readonly=True, copy=False
    )
    uplift_response_ci_high = fields.Float(
        string="Response Uplift CI high", aggregator=None, readonly=True, copy=False
    )
    response_p_value = fields.Float(aggregator=None, readonly=True, copy=False)
    revenue_per_member_target = fields.Float(aggregator=None, readonly=True, copy=False)
    revenue_per_member_control = fields.Float(
        aggregator=None, readonly=True, copy=False
    )
    uplift_revenue_per_member = fields.Float(aggregator=None, readonly=True, copy=False)
    uplift_ci_low = fields.Float(
        string="Uplift CI low", aggregator=None, readonly=True, copy=False
    )
    uplift_ci_high = fields.Float(
        string="Uplift CI high", aggregator=None, readonly=True, copy=False
    )
    uplift_relative = fields.Float(
        aggregator=None, string="Relative Uplift (%)", readonly=True, copy=False
    )
    p_value = fields.Float(aggregator=None, readonly=True, copy=False)
    pv_per_member_target = fields.Float(
        aggregator=None, string="PV / Member Target", readonly=True, copy=False
    )
    pv_per_member_control = fields.Float(
        aggregator=None, string="PV / Member Control", readonly=True, copy=False
    )
    uplift_pv = fields.Float(
        aggregator=None, string="Uplift PV / Member", readonly=True, copy=False
    )
    uplift_pv_ci_low = fields.Float(
        string="PV Uplift CI low", aggregator=None, readonly=True, copy=False
    )
    uplift_pv_ci_high = fields.Float(
        string="PV Uplift CI high", aggregator=None, readonly=True, copy=False
    )
    pv_p_value = fields.Float(
        aggregator=None, string="PV p-value", readonly=True, copy=False
    )
    orders_per_member_target = fields.Float(aggregator=None, readonly=True, copy=False)
    orders_per_member_control = fields.Float(aggregator=None, readonly=True, copy=False)
    uplift_orders = fields.Float(
        aggregator=None, string="Uplift Orders / Member", readonly=True, copy=False
    )
    uplift_orders_ci_low = fields.Float(
        string="Orders Uplift CI low", aggregator=None, readonly=True, copy=False
    )
    uplift_orders_ci_high = fields.Float(
        string="Orders Uplift CI high", aggregator=None, readonly=True, copy=False
    )
    orders_p_value = fields.Float(aggregator=None, readonly=True, copy=False)
    incremental_revenue = fields.Monetary(readonly=True, copy=False)
    incremental_margin = fields.Monetary(readonly=True, copy=False)
    roi = fields.Float(
        aggregator=None,
        string="ROI (%)",
        readonly=True,
        copy=False,
        help="(incremental margin - cost) / cost",
    )
    srm_p_value = fields.Float(
        aggregator=None, string="SRM p-value", readonly=True, copy=False
    )
    # the money figures with the 95% interval of the revenue / margin uplift per member
    # times the target group, and whether the revenue interval excludes zero
    incremental_revenue_ci_low = fields.Monetary(
        aggregator=None, string="Incremental Revenue CI low", readonly=True, copy=False
    )
    incremental_revenue_ci_high = fields.Monetary(
        aggregator=None, string="Incremental Revenue CI high", readonly=True, copy=False
    )
    incremental_margin_ci_low = fields.Monetary(
        aggregator=None, string="Incremental Margin CI low", readonly=True, copy=False
    )
    incremental_margin_ci_high = fields.Monetary(
        aggregator=None, string="Incremental Margin CI high", readonly=True, copy=False
    )
    roi_ci_low = fields.Float(
        string="ROI CI low (%)",
        aggregator=None,
        readonly=True,
        copy=False,
        help="(incremental margin CI low - cost) / cost",
    )
    roi_ci_high = fields.Float(
        string="ROI CI high (%)",
        aggregator=None,
        readonly=True,
        copy=False,
        help="(incremental margin CI high - cost) / cost",
    )
    significance = fields.Selection(
        SIGNIFICANCE,
        default="not_measured",
        readonly=True,
        copy=False,
        help="Significant when the 95% interval of the revenue uplift excludes zero (and the "
        "groups are large enough and of the planned sizes); otherwise incremental revenue "
        "and ROI are not significant: the true effect may be zero.",
    )
    verdict = fields.Selection(
        VERDICTS, default="not_measured", readonly=True, copy=False, tracking=True
    )
    verdict_text = fields.Text(readonly=True, copy=False)

    mailing_count = fields.Integer(compute="_compute_channel_counts")
    coupon_count = fields.Integer(compute="_compute_channel_counts")

    _sql_constraints = [
        (
            "control_pct_range",
            "CHECK(control_pct > 0 AND control_pct < 100)",
            "The control share must be between 0% and 100%.",
        ),
        ("cost_positive", "CHECK(cost >= 0)", "The campaign cost cannot be negative."),
    ]

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for campaign in self:
            if (
                campaign.date_start
                and campaign.date_end
                and campaign.date_end < campaign.date_start
            ):
                raise ValidationError(
                    _(
                        "Campaign %s: the end date is before the start date.",
                        campaign.name,
                    )
                )

    def _compute_channel_counts(self):
        mailings = dict(
            self.env["mailing.mailing"]._read_group(
                [("ds_campaign_id", "in", self.ids)], ["ds_campaign_id"], ["__count"]
            )
        )
        cards = {}
        for program, count in self.env["loyalty.card"]._read_group(
            [("program_id.ds_campaign_id", "in", self.ids)], ["program_id"], ["__count"]
        ):
            cards[program.ds_campaign_id] = cards.get(program.ds_campaign_id, 0) + count
        for campaign in self:
            campaign.mailing_count = mailings.get(campaign, 0)
            campaign.coupon_count = cards.get(campaign, 0)

    def unlink(self):
        # ds.campaign.member keeps no foreign keys (crm_direct_selling's derived_table.py): its
        # ondelete='cascade', by hand
        return unlink_and_apply(
            self, super().unlink, [("ds_campaign_member", "campaign_id", "cascade")]
        )

    # ------------------------------------------------------------ assignment
    def action_assign(self):
        """Split the segment snapshot into target and control, set-based and reproducible.

        u = md5(seed, partner) mapped to [0, 1). Without stratification a member is in control when
        u < control share. With stratification, members of each (rank, RFM band) stratum are ordered
        by u and every 1/share-th one goes to control (systematic sampling with a seeded random start
        per stratum), so each stratum holds floor or ceil of its planned control size. Partners in
        the company's global holdout are left out of every campaign.
        """
        ds_check_user(self.env, _("assign campaign groups"), self, "write")
        for campaign in self:
            if campaign.state not in ("draft", "assigned"):
                raise UserError(
                    _(
                        "Campaign %s is already launched: its groups can no longer change.",
                        campaign.name,
                    )
                )
            if not campaign.segment_id.last_refresh:
                campaign.segment_id.action_refresh()
            started = time.time()
            self.env.flush_all()
            cr = self.env.cr
            with bulk_settings(cr):
                holdout_count, counts = campaign._assign_members()
            campaign.write(
                {
                    "state": "assigned",
                    "holdout_count": holdout_count,
                    "target_count": counts["target"],
                    "control_count": counts["control"],
                    "assign_seconds": time.time() - started,
                }
            )
            campaign.action_preview_power()
        self.env["ds.campaign.member"].invalidate_model()
        return True

    def _assign_members(self):
        """Write the target / control members of the campaign (one DELETE, one INSERT).

        Returns (holdout count, {group: count}). Strata are keyed by (rank, RFM band); the seeded
        random start of each stratum is computed once per possible stratum (a few dozen md5), not
        once per member, and members are numbered within their stratum in the order of their
        32-bit md5 (the order of u). Rows are written in partner order (the indexes grow at
        their right edge).
        """
        self.ensure_one()
        cr = self.env.cr
        share = self.control_pct / 100.0
        cr.execute(
            SQL("DELETE FROM ds_campaign_member WHERE campaign_id = %s", self.id)
        )
        holdout = holdout_condition(self.company_id, SQL("sm.partner_id"))
        holdout_count = 0
        if self.company_id.ds_holdout_pct:
            cr.execute(
                SQL(
                    "SELECT COUNT(*) FROM ds_segment_member sm WHERE sm.segment_id = %s AND %s",
                    self.segment_id.id,
                    holdout,
                )
            )
            holdout_count = cr.fetchone()[0]
        if self.stratify:
            rank_keys = [
                0,
                *self.env["ds.rank"].with_context(active_test=False).search([]).ids,
            ]
            band_keys = ["-", *(band for band, __ in RFM_BANDS)]
            stratum = SQL("concat_ws('/', k.rank_key, kb.band_key)")
            strata = SQL(
                """SELECT k.rank_key, kb.band_key, %(start)s AS start
                     FROM unnest(%(ranks)s::int[]) AS k(rank_key)
               CROSS JOIN unnest(%(bands)s::varchar[]) AS kb(band_key)""",
                start=uniform_hash(self.seed + ":stratum", stratum),
                ranks=rank_keys,
                bands=band_keys,
            )
            # stratum not among the candidates above (a band written outside the selection):
            # the same start, computed on the row
            start = SQL(
                "COALESCE(st.start, %s)",
                uniform_hash(
                    self.seed + ":stratum",
                    SQL("concat_ws('/', b.rank_key, b.band_key)"),
                ),
            )
            group = SQL(
                """CASE WHEN floor(b.rn * %(share)s + %(start)s) > floor((b.rn - 1) * %(share)s + %(start)s)
                        THEN 'control' ELSE 'target' END""",
                share=share,
                start=start,
            )
            order = hash32(self.seed, SQL("b.partner_id"))
        else:
            strata = SQL(
                "SELECT 0 AS rank_key, '-'::varchar AS band_key, 0.0 AS start WHERE FALSE"
            )
            group = SQL(
                "CASE WHEN %s < %s THEN 'control' ELSE 'target' END",
                uniform_hash(self.seed, SQL("b.partner_id")),
                share,
            )
            order = SQL("b.partner_id")
        cr.execute(
            SQL(
                """
            WITH base0 AS (
                SELECT sm.partner_id, d.rank_id, r.rfm_band,
                       COALESCE(d.rank_id, 0) AS rank_key, COALESCE(r.rfm_band, '-') AS band_key
                  FROM ds_segment_member sm
                  JOIN res_partner p ON p.id = sm.partner_id
             LEFT JOIN ds_distributor d ON d.id = p.ds_distributor_id
             LEFT JOIN ds_partner_rfm r ON r.partner_id = sm.partner_id AND r.company_id = %(company)s
                 WHERE sm.segment_id = %(segment)s AND NOT %(holdout)s AND %(population)s
            ), numbered AS (
                SELECT b.*, row_number() OVER (PARTITION BY b.rank_key, b.band_key COLLATE "C"
                                               ORDER BY %(order)s, b.partner_id) AS rn
                  FROM base0 b
            ), strata AS (%(strata)s),
            ins AS (
                INSERT INTO ds_campaign_member (campaign_id, partner_id, "group", rank_id, rfm_band, stratum)
                SELECT %(campaign)s, b.partner_id, %(group)s, b.rank_id, b.rfm_band,
                       concat_ws('/', b.rank_key, b.band_key)
                  FROM numbered b
             LEFT JOIN strata st ON st.rank_key = b.rank_key AND st.band_key = b.band_key
              ORDER BY b.partner_id
             RETURNING "group"
            )
            SELECT "group", COUNT(*) FROM ins GROUP BY "group"
            """,
                company=self.company_id.id,
                segment=self.segment_id.id,
                holdout=SQL("(%s)", holdout),
                population=self._assign_population_sql(),
                order=order,
                strata=strata,
                campaign=self.id,
                group=group,
            )
        )
        counts = {"target": 0, "control": 0}
        counts.update(dict(cr.fetchall()))
        # keep planner statistics right after a bulk insert (reports join on this table)
        cr.execute("ANALYZE ds_campaign_member")
        return holdout_count, counts

    def _assign_population_sql(self):
        """Condition on ``sm.partner_id``: which segment members the campaign assigns
        (all of them; uplift targeting narrows it to the top share)."""
        return SQL("TRUE")

    # ------------------------------------------------------------ power
    def _window(self):
        self.ensure_one()
        date_end = self.date_end or fields.Date.context_today(self)
        date_start = self.date_start or (date_end - timedelta(days=29))
        length = (date_end - date_start).days + 1
        pre_days = self.pre_period_days or length
        pre_end = date_start - timedelta(days=1)
        return date_start, date_end, pre_end - timedelta(days=pre_days - 1), pre_end

    def action_preview_power(self):
        """Minimum detectable effects (alpha 0.05, power 0.8) for the chosen control share.

        Baseline = the audience's behaviour in a window as long as the campaign, just before it.
        """
        ds_check_user(self.env, _("preview the power of campaigns"), self, "write")
        for campaign in self:
            date_start, date_end, __, __ = campaign._window()
            length = (date_end - date_start).days + 1
            base_to = date_start - timedelta(days=1)
            base_from = base_to - timedelta(days=length - 1)
            self.env.flush_all()
            if campaign.state != "draft" and (
                campaign.target_count or campaign.control_count
            ):
                audience = SQL(
                    "SELECT partner_id FROM ds_campaign_member WHERE campaign_id = %s",
                    campaign.id,
                )
            else:
                audience = SQL(
                    "SELECT sm.partner_id FROM ds_segment_member sm WHERE sm.segment_id = %s AND NOT (%s)",
                    campaign.segment_id.id,
                    holdout_condition(campaign.company_id, SQL("sm.partner_id")),
                )
            # moves aggregated per partner first, then joined to the audience (one row each)
            with bulk_settings(self.env.cr):
                self.env.cr.execute(
                    SQL(
                        """WITH a AS (%(audience)s), pm AS (%(moves)s),
                            bought AS (SELECT pm.partner_id, SUM(pm.revenue) AS rev,
                                              COUNT(*) FILTER (WHERE pm.move_type = 'out_invoice') AS orders
                                         FROM pm GROUP BY pm.partner_id),
                            per AS (SELECT COALESCE(b.rev, 0) AS rev, COALESCE(b.orders, 0) AS orders
                                      FROM a LEFT JOIN bought b ON b.partner_id = a.partner_id)
                       SELECT COUNT(*), COALESCE(SUM(rev), 0), COALESCE(SUM(rev * rev), 0),
                              COUNT(*) FILTER (WHERE orders > 0) FROM per""",
                        audience=audience,
                        moves=partner_moves(campaign.company_id.id, base_from, base_to),
                    )
                )
                n, s, ss, responders = self.env.cr.fetchone()
            n, s, ss = int(n), float(s), float(ss)
            mean, var = stats.mean_var(n, s, ss)
            sd = math.sqrt(var)
            rate = responders / n if n else 0.0
            share = campaign.control_pct / 100.0
            n_c = round(n * share)
            n_t = n - n_c
            mde_rev = stats.mde_mean(sd, n_t, n_c)
            mde_resp = stats.mde_proportion(rate, n_t, n_c)
            lines = [
                _(
                    "Audience: %(n)s members, baseline %(rate).1f%% buying and %(mean).2f revenue per member "
                    "over the %(days)s days before the start.",
                    n=n,
                    rate=rate * 100,
                    mean=mean,
                    days=length,
                ),
                _(
                    "Smallest effect detectable with alpha 0.05 and power 0.8, by control share:"
                ),
            ]
            for pct in sorted({5.0, 10.0, 20.0, 30.0, 50.0, campaign.control_pct}):
                c = round(n * pct / 100.0)
                m_rev = stats.mde_mean(sd, n - c, c)
                m_resp = stats.mde_proportion(rate, n - c, c)
                # plain values only inside _(): the translation export reads its arguments
                share = f"{round(pct, 1):g}"
                relative = ("%.1f%%" % (m_rev / mean * 100)) if mean else "-"
                lines.append(
                    _(
                        "  %(pct)s%% control (%(c)s members): +%(rev).2f revenue per member (%(rel)s), "
                        "+%(resp).2f points of response rate",
                        pct=share,
                        c=c,
                        rev=m_rev,
                        rel=relative,
                        resp=m_resp * 100,
                    )
                )
            if n_c < campaign.min_group_size:
                lines.append(
                    _(
                        "Warning: the control group (%(c)s) is below the minimum size (%(m)s): "
                        "no verdict will be given.",
                        c=n_c,
                        m=campaign.min_group_size,
                    )
                )
            campaign.write(
                {
                    "baseline_response_rate": rate,
                    "baseline_revenue_per_member": mean,
                    "baseline_revenue_sd": sd,
                    "mde_response": mde_resp,
                    "mde_revenue": mde_rev,
                    "mde_revenue_pct": (mde_rev / mean * 100.0) if mean else 0.0,
                    "power_note": "\n".join(lines),
                }
            )
        return True

    # ------------------------------------------------------------ launch
    def action_launch(self):
        ds_check_user(self.env, _("launch campaigns"), self, "write")
        for campaign in self:
            if campaign.state != "assigned":
                raise UserError(
                    _(
                        "Campaign %s: assign the target and control groups before launching.",
                        campaign.name,
                    )
                )
            if not campaign.date_start or not campaign.date_end:
                raise UserError(
                    _(
                        "Campaign %s: set the start and end dates (measurement window).",
                        campaign.name,
                    )
                )
            if not campaign.target_count or not campaign.control_count:
                raise UserError(
                    _(
                        "Campaign %s: both target and control groups need members.",
                        campaign.name,
                    )
                )
            if campaign.utm_campaign_id:
                campaign.mailing_ids.filtered(lambda m: not m.campaign_id).write(
                    {"campaign_id": campaign.utm_campaign_id.id}
                )
            campaign.state = "running"
            campaign.action_issue_coupons()
            campaign.mailing_ids.filtered(
                lambda m: m.state == "draft"
            ).action_put_in_queue()
        return True

    def action_issue_coupons(self):
        """Create one coupon per target member (not yet holding one) for each linked program."""
        ds_check_user(self.env, _("issue campaign coupons"), self, "write")
        Card = self.env["loyalty.card"]
        for campaign in self:
            for program in campaign.loyalty_program_ids:
                self.env.flush_all()
                self.env.cr.execute(
                    SQL(
                        """SELECT cm.partner_id FROM ds_campaign_member cm
                        WHERE cm.campaign_id = %s AND cm."group" = 'target'
                          AND NOT EXISTS (SELECT 1 FROM loyalty_card c
                                           WHERE c.program_id = %s AND c.partner_id = cm.partner_id)
                        ORDER BY cm.partner_id""",
                        campaign.id,
                        program.id,
                    )
                )
                partner_ids = [row[0] for row in self.env.cr.fetchall()]
                for i in range(0, len(partner_ids), 1000):
                    Card.create(
                        [
                            {"program_id": program.id, "partner_id": pid, "points": 1.0}
                            for pid in partner_ids[i : i + 1000]
                        ]
                    )
        return True

    def action_cancel(self):
        ds_check_user(self.env, _("cancel campaigns"), self, "write")
        self.write({"state": "cancel"})

    def action_draft(self):
        ds_check_user(self.env, _("reset campaigns to draft"), self, "write")
        self.filtered(lambda c: c.state == "cancel").write({"state": "draft"})

    # ------------------------------------------------------------ measurement
    def _measure_aggregates(self):
        """Per group: n, responders and for each metric the sums needed for Welch and CUPED."""
        self.ensure_one()
        date_start, date_end, pre_start, pre_end = self._window()
        self.env.flush_all()
        parts = []
        for m in METRICS:
            parts += [
                SQL("SUM(%s)", SQL.identifier(m)),
                SQL("SUM(%s * %s)", SQL.identifier(m), SQL.identifier(m)),
                SQL("SUM(%s)", SQL.identifier("pre_" + m)),
                SQL(
                    "SUM(%s * %s)",
                    SQL.identifier("pre_" + m),
                    SQL.identifier("pre_" + m),
                ),
                SQL("SUM(%s * %s)", SQL.identifier(m), SQL.identifier("pre_" + m)),
            ]
        in_win = SQL("pm.invoice_date >= %s", date_start)
        cr = self.env.cr
        # moves aggregated per partner first (the partners who bought), then joined to the
        # members; only the members whose stored revenue / orders / responded change are written
        # (no purchase = 0, an unmeasured NULL counts as 0)
        with bulk_settings(cr):
            cr.execute(
                SQL(
                    """
            WITH pm AS (%(moves)s),
                 bought AS (
                    SELECT pm.partner_id,
                           SUM(pm.revenue) FILTER (WHERE %(in_win)s) AS rev,
                           SUM(pm.pv) FILTER (WHERE %(in_win)s) AS pv,
                           COUNT(*) FILTER (WHERE %(in_win)s AND pm.move_type = 'out_invoice') AS orders,
                           SUM(pm.revenue - pm.cost) FILTER (WHERE %(in_win)s) AS margin,
                           SUM(pm.revenue) FILTER (WHERE NOT %(in_win)s) AS pre_rev,
                           SUM(pm.pv) FILTER (WHERE NOT %(in_win)s) AS pre_pv,
                           COUNT(*) FILTER (WHERE NOT %(in_win)s AND pm.move_type = 'out_invoice') AS pre_orders
                      FROM pm
                     GROUP BY pm.partner_id
                 ),
                 per AS (
                    SELECT cm.id AS member_id, cm."group" AS grp, cm.revenue AS old_revenue,
                           cm.orders AS old_orders, cm.responded AS old_responded,
                           COALESCE(b.rev, 0)::float AS rev, COALESCE(b.pv, 0)::float AS pv,
                           COALESCE(b.orders, 0)::float AS orders, COALESCE(b.margin, 0)::float AS margin,
                           COALESCE(b.pre_rev, 0)::float AS pre_rev, COALESCE(b.pre_pv, 0)::float AS pre_pv,
                           COALESCE(b.pre_orders, 0)::float AS pre_orders
                      FROM ds_campaign_member cm
                 LEFT JOIN bought b ON b.partner_id = cm.partner_id
                     WHERE cm.campaign_id = %(campaign)s
                 ),
                 changed AS (
                    SELECT per.member_id, ROUND(per.rev::numeric, %(digits)s) AS revenue,
                           per.orders::int AS orders, per.orders > 0 AS responded
                      FROM per
                     WHERE COALESCE(per.old_revenue, 0) <> ROUND(per.rev::numeric, %(digits)s)
                        OR COALESCE(per.old_orders, 0) <> per.orders
                        OR COALESCE(per.old_responded, FALSE) <> (per.orders > 0)
                 ),
                 upd AS (
                    UPDATE ds_campaign_member cm
                       SET revenue = c.revenue, orders = c.orders, responded = c.responded
                      FROM changed c
                     WHERE cm.id = c.member_id
                 )
            SELECT grp, COUNT(*), COUNT(*) FILTER (WHERE orders > 0), SUM(margin),
                   SUM(margin * margin), %(parts)s
              FROM per GROUP BY grp
            """,
                    campaign=self.id,
                    moves=partner_moves(
                        self.company_id.id, pre_start, date_end, with_cost=True
                    ),
                    in_win=in_win,
                    digits=self.currency_id.decimal_places,
                    parts=SQL(", ").join(parts),
                )
            )
            rows = cr.fetchall()
        result = {}
        self.env["ds.campaign.member"].invalidate_model(
            ["revenue", "orders", "responded"]
        )
        for row in rows:
            grp, n, responders, margin, margin_sq = row[:5]
            agg = {
                "n": int(n),
                "responders": int(responders),
                "margin": float(margin or 0.0),
                "margin_sq": float(margin_sq or 0.0),
            }
            values = [float(v or 0.0) for v in row[5:]]
            for i, m in enumerate(METRICS):
                s, ss, sx, sxx, sxy = values[5 * i : 5 * i + 5]
                agg[m] = {
                    "n": int(n),
                    "sy": s,
                    "syy": ss,
                    "sx": sx,
                    "sxx": sxx,
                    "sxy": sxy,
                }
            result[grp] = agg
        empty = {"n": 0, "sy": 0.0, "syy": 0.0, "sx": 0.0, "sxx": 0.0, "sxy": 0.0}
        for grp in ("target", "control"):
            result.setdefault(
                grp,
                {
                    "n": 0,
                    "responders": 0,
                    "margin": 0.0,
                    "margin_sq": 0.0,
                    **{m: dict(empty) for m in METRICS},
                },
            )
        return result

    def _compare(self, agg_t, agg_c, cuped):
        """Welch comparison of one metric (optionally CUPED-adjusted)."""
        adjusted = stats.cuped(agg_t, agg_c) if cuped else None
        if adjusted:
            (mt, vt), (mc, vc) = adjusted["t"], adjusted["c"]
        else:
            mt, vt = stats.mean_var(agg_t["n"], agg_t["sy"], agg_t["syy"])
            mc, vc = stats.mean_var(agg_c["n"], agg_c["sy"], agg_c["syy"])
        res = stats.welch(mt, vt, agg_t["n"], mc, vc, agg_c["n"])
        res["mean_t"] = agg_t["sy"] / agg_t["n"] if agg_t["n"] else 0.0
        res["mean_c"] = agg_c["sy"] / agg_c["n"] if agg_c["n"] else 0.0
        res["cuped"] = bool(adjusted)
        return res

    def action_measure(self):
        ds_check_user(self.env, _("measure campaigns"), self, "write")
        for campaign in self:
            if campaign.state not in ("running", "done"):
                raise UserError(
                    _("Campaign %s: launch it before measuring.", campaign.name)
                )
            started = time.time()
            agg = campaign._measure_aggregates()
            t, c = agg["target"], agg["control"]
            n_t, n_c = t["n"], c["n"]
            rev = campaign._compare(t["rev"], c["rev"], campaign.use_cuped)
            pv = campaign._compare(t["pv"], c["pv"], campaign.use_cuped)
            orders = campaign._compare(t["orders"], c["orders"], campaign.use_cuped)
            resp = stats.two_proportions(t["responders"], n_t, c["responders"], n_c)
            srm = stats.srm_p_value(n_t, n_c, campaign.control_pct / 100.0)
            currency = campaign.currency_id
            margin_t = t["margin"] / n_t if n_t else 0.0
            margin_c = c["margin"] / n_c if n_c else 0.0
            incremental_revenue = currency.round(rev["diff"] * n_t)
            incremental_margin = currency.round((margin_t - margin_c) * n_t)
            # the margin per member compared like the revenue (Welch, no CUPED): its
            # interval gives the interval of the ROI
            margin_diff = stats.welch(
                *stats.mean_var(n_t, t["margin"], t["margin_sq"]),
                n_t,
                *stats.mean_var(n_c, c["margin"], c["margin_sq"]),
                n_c,
            )
            margin_low = currency.round(margin_diff["low"] * n_t)
            margin_high = currency.round(margin_diff["high"] * n_t)

            def roi_of(margin_amount, cost=campaign.cost):
                return ((margin_amount - cost) / cost * 100.0) if cost else 0.0

            roi = roi_of(incremental_margin)
            vals = {
                "state": "done",
                "measured_on": fields.Datetime.now(),
                "cuped_applied": rev["cuped"],
                "target_count": n_t,
                "control_count": n_c,
                "responders_target": t["responders"],
                "responders_control": c["responders"],
                "response_rate_target": resp["p_t"],
                "response_rate_control": resp["p_c"],
                "uplift_response": resp["diff"],
                "uplift_response_ci_low": resp["low"],
                "uplift_response_ci_high": resp["high"],
                "response_p_value": resp["p_value"],
                "revenue_per_member_target": rev["mean_t"],
                "revenue_per_member_control": rev["mean_c"],
                "uplift_revenue_per_member": rev["diff"],
                "uplift_ci_low": rev["low"],
                "uplift_ci_high": rev["high"],
                "uplift_relative": (rev["diff"] / rev["mean_c"] * 100.0)
                if rev["mean_c"]
                else 0.0,
                "p_value": rev["p_value"],
                "pv_per_member_target": pv["mean_t"],
                "pv_per_member_control": pv["mean_c"],
                "uplift_pv": pv["diff"],
                "uplift_pv_ci_low": pv["low"],
                "uplift_pv_ci_high": pv["high"],
                "pv_p_value": pv["p_value"],
                "orders_per_member_target": orders["mean_t"],
                "orders_per_member_control": orders["mean_c"],
                "uplift_orders": orders["diff"],
                "uplift_orders_ci_low": orders["low"],
                "uplift_orders_ci_high": orders["high"],
                "orders_p_value": orders["p_value"],
                "incremental_revenue": incremental_revenue,
                "incremental_revenue_ci_low": currency.round(rev["low"] * n_t),
                "incremental_revenue_ci_high": currency.round(rev["high"] * n_t),
                "incremental_margin": incremental_margin,
                "incremental_margin_ci_low": margin_low,
                "incremental_margin_ci_high": margin_high,
                "roi": roi,
                "roi_ci_low": roi_of(margin_low),
                "roi_ci_high": roi_of(margin_high),
                "srm_p_value": srm,
            }
            vals.update(campaign._verdict(vals))
            vals["measure_seconds"] = time.time() - started
            campaign.write(vals)
        return True

    def _verdict(self, v):
        self.ensure_one()
        cur = self.currency_id
        n_t, n_c = v["target_count"], v["control_count"]
        if v["srm_p_value"] < SRM_THRESHOLD:
            actual = n_c / (n_t + n_c) * 100.0 if (n_t + n_c) else 0.0
            return {
                "verdict": "srm",
                "significance": "not_significant",
                "verdict_text": _(
                    "No verdict: the groups do not have the planned sizes (%(actual).1f%% in control instead of "
                    "%(planned).1f%%, sample-ratio p-value %(p).6f). Members were probably added, removed or "
                    "reached outside the campaign; fix the assignment before reading any result.",
                    actual=actual,
                    planned=self.control_pct,
                    p=v["srm_p_value"],
                ),
            }
        if min(n_t, n_c) < self.min_group_size:
            return {
                "verdict": "too_small",
                "significance": "not_significant",
                "verdict_text": _(
                    "Too early to call: %(t)s members in target and %(c)s in control, at least %(m)s are needed "
                    "in each group before declaring a winner.",
                    t=n_t,
                    c=n_c,
                    m=self.min_group_size,
                ),
            }
        effect = _(
            "Each targeted member bought %(diff)s %(cur)s more than a comparable control member "
            "(95%% interval %(low)s to %(high)s, p-value %(p).4f). Response rate %(rt).1f%% vs %(rc).1f%%. "
            "Incremental margin %(marg)s for a cost of %(cost)s.",
            diff=round(v["uplift_revenue_per_member"], 2),
            cur=cur.name or "",
            low=round(v["uplift_ci_low"], 2),
            high=round(v["uplift_ci_high"], 2),
            p=v["p_value"],
            rt=v["response_rate_target"] * 100,
            rc=v["response_rate_control"] * 100,
            marg=v["incremental_margin"],
            cost=self.cost,
        )
        money = _(
            "Incremental revenue %(inc)s (95%% interval %(inc_low)s to %(inc_high)s).",
            inc=v["incremental_revenue"],
            inc_low=v["incremental_revenue_ci_low"],
            inc_high=v["incremental_revenue_ci_high"],
        )
        if self.cost:
            money += " " + _(
                "ROI %(roi).0f%% (95%% interval %(low).0f%% to %(high).0f%%).",
                roi=v["roi"],
                low=v["roi_ci_low"],
                high=v["roi_ci_high"],
            )
        effect += " " + money
        if v["uplift_ci_low"] > 0:
            head = _("The campaign earned more than doing nothing.")
            if self.cost:
                head += " " + (
                    _("It paid for itself (ROI %.0f%%).", v["roi"])
                    if v["incremental_margin"] >= self.cost
                    else _(
                        "But the extra margin did not cover its cost (ROI %.0f%%).",
                        v["roi"],
                    )
                )
            return {
                "verdict": "positive",
                "significance": "significant",
                "verdict_text": head + " " + effect,
            }
        if v["uplift_ci_high"] < 0:
            return {
                "verdict": "negative",
                "significance": "significant",
                "verdict_text": _(
                    "The campaign lowered revenue: targeted members bought less than the control group."
                )
                + " "
                + effect,
            }
        return {
            "verdict": "no_difference",
            "significance": "not_significant",
            "verdict_text": _(
                "Not significant: the data cannot tell the campaign apart from doing nothing; "
                "the true effect is somewhere in the interval, which includes zero, and so are "
                "the incremental revenue and the ROI below."
            )
            + " "
            + effect,
        }

    def action_view_members(self):
        ds_check_user(self.env, _("open campaign members"), self)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Members of %s", self.name),
            "res_model": "ds.campaign.member",
            "view_mode": "list,pivot",
            "domain": [("campaign_id", "=", self.id)],
            "context": {"search_default_group_group": 1},
        }

    def action_new_mailing(self):
        ds_check_user(self.env, _("create campaign mailings"), self, "write")
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "mailing.mailing",
            "view_mode": "form",
            "context": {
                "default_ds_campaign_id": self.id,
                "default_mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "default_campaign_id": self.utm_campaign_id.id,
                "default_subject": self.name,
            },
        }

    @api.model
    def _cron_measure(self):
        """Daily measurement. The cron runs as OdooBot: the verdicts are written in each
        company's language, not OdooBot's."""
        today = fields.Date.context_today(self)
        campaigns = self.search(
            [("state", "in", ("running", "done")), ("date_start", "<=", today)]
        )
        for company in campaigns.company_id:
            lang = company.partner_id.lang or self.env.lang
            campaigns.filtered(
                lambda c, company=company: c.company_id == company
            ).with_context(lang=lang).action_measure()
