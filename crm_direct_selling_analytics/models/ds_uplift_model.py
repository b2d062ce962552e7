"""Uplift targeting (issue 16): a model trained on the target and control members of
finished campaigns that predicts each partner's incremental revenue from a campaign, so a
new campaign can target the top share of its segment by predicted uplift while a random
control inside that share still measures the true gain. Features are read with one SQL
statement, scores written with one; the estimator is in ``tools/uplift.py``."""

import time

import numpy as np

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.crm_direct_selling.models.derived_table import ensure_table
from odoo.addons.crm_direct_selling.models.ds_access import ds_check_manager

from ..tools import uplift
from ..tools.npsql import read_columns, write_columns
from ..tools.sqlparts import bulk_settings, partner_moves
from .ds_partner_rfm import RFM_BANDS

MIN_GROUP = 200
MIN_RESPONDERS = 20
TRAIN_SHARE = 0.7
FEATURES = (
    "revenue 90 days",
    "orders 90 days",
    "revenue 365 days",
    "orders 365 days",
    "days since last purchase",
    "days since first purchase",
    "distributor",
    "rank",
    *(f"RFM {band}" for band, __ in RFM_BANDS),
)


class DsUpliftModel(models.Model):
    _name = "ds.uplift.model"
    _inherit = ["mail.thread", "ds.decision.job.mixin"]
    _description = "Uplift Targeting Model"
    _job_cron = "crm_direct_selling_analytics.ir_cron_ds_uplift_model_train"
    _order = "id desc"

    name = fields.Char(required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    campaign_ids = fields.Many2many(
        "ds.campaign",
        string="Training Campaigns",
        domain="[('state', '=', 'done'), ('company_id', '=', company_id)]",
        help="Finished campaigns whose target and control members' outcomes teach the model.",
    )
    state = fields.Selection(
        [("draft", "Not trained"), ("trained", "Trained")],
        default="draft",
        readonly=True,
    )
    trained_on = fields.Datetime(readonly=True)
    train_seconds = fields.Float(readonly=True, aggregator=None)
    sample_size = fields.Integer(readonly=True, help="Members used to fit the model.")
    test_size = fields.Integer(
        string="Held-out Members",
        readonly=True,
        help="Members kept out to draw the Qini curve.",
    )
    qini_auc = fields.Float(string="Qini Area", readonly=True, aggregator=None)
    qini_random_auc = fields.Float(
        string="Qini Area of Random Targeting", readonly=True, aggregator=None
    )
    qini_gain = fields.Float(
        string="Better than Random",
        readonly=True,
        aggregator=None,
        help="Qini area - random area on the held-out members: the incremental revenue "
        "targeting by the model adds over targeting at random (averaged over shares).",
    )
    qini_gain_low = fields.Float(
        string="Better than Random (low)", readonly=True, aggregator=None
    )
    qini_gain_high = fields.Float(
        string="Better than Random (high)",
        readonly=True,
        aggregator=None,
        help="98% bootstrap interval of the gain over random targeting.",
    )
    trustworthy = fields.Boolean(
        readonly=True,
        help="Ranks better than random on the held-out members beyond chance (the low end of "
        "the 98% bootstrap interval of the gain is above zero); campaigns may target by it.",
    )
    qini_point_ids = fields.One2many(
        "ds.uplift.qini.point", "model_id", string="Qini Curve", readonly=True
    )
    score_count = fields.Integer(
        string="Partners Scored", readonly=True, aggregator=None
    )

    def unlink(self):
        # ds.uplift.score keeps no foreign keys: its cascade, by hand
        self.env.cr.execute(
            SQL("DELETE FROM ds_uplift_score WHERE model_id = ANY(%s)", self.ids)
        )
        return super().unlink()

    def action_train(self):
        ds_check_manager(self.env, self.env._("train uplift models"), self)
        return self.sudo().with_context(ds_job_uid=self.env.uid)._train_or_queue()

    # ------------------------------------------------------------ features
    @api.model
    def _feature_columns(self, company, population, max_date):
        """One SQL read of the features of a population, straight into numpy (no Python
        object per member): returns (key, partner, treated, y, campaign, X), ordered by key.
        ``population``: SQL selecting (key, partner_id, ref_date, rank_id, rfm_band,
        is_distributor, treated, y, campaign_id); treated / y / campaign_id may be NULL
        (scoring) and read as 0."""
        return self._read_features(
            SQL(
                """
                WITH pop AS (%(population)s),
                pm AS (%(moves)s),
                agg AS (
                    SELECT pop.key,
                           SUM(pm.revenue) FILTER (WHERE pm.invoice_date >= pop.ref_date - 90) AS rev90,
                           COUNT(*) FILTER (WHERE pm.invoice_date >= pop.ref_date - 90
                                              AND pm.move_type = 'out_invoice') AS ord90,
                           SUM(pm.revenue) FILTER (WHERE pm.invoice_date >= pop.ref_date - 365) AS rev365,
                           COUNT(*) FILTER (WHERE pm.invoice_date >= pop.ref_date - 365
                                              AND pm.move_type = 'out_invoice') AS ord365,
                           MAX(pm.invoice_date) AS last_d, MIN(pm.invoice_date) AS first_d
                      FROM pop
                      JOIN pm ON pm.partner_id = pop.partner_id AND pm.invoice_date < pop.ref_date
                  GROUP BY pop.key
                )
                %(select)s
                """,
                population=population,
                moves=partner_moves(company.id, "1900-01-01", max_date),
                select=self._feature_select(),
            )
        )

    @api.model
    def _scoring_feature_columns(self, company, today):
        """The features of every partner who bought in the two years up to ``today``, as
        of today: the same columns as ``_feature_columns`` with that population (its
        scoring query before), from one pass over the invoices (the population is the
        aggregate's own partners) instead of two and a join."""
        return self._read_features(
            SQL(
                """
                WITH pm AS (%(moves)s),
                agg AS (
                    SELECT pm.partner_id AS key,
                           SUM(pm.revenue) FILTER (WHERE pm.invoice_date < %(today)s
                                                     AND pm.invoice_date >= %(today)s::date - 90) AS rev90,
                           COUNT(*) FILTER (WHERE pm.invoice_date < %(today)s
                                              AND pm.invoice_date >= %(today)s::date - 90
                                              AND pm.move_type = 'out_invoice') AS ord90,
                           SUM(pm.revenue) FILTER (WHERE pm.invoice_date < %(today)s
                                                     AND pm.invoice_date >= %(today)s::date - 365) AS rev365,
                           COUNT(*) FILTER (WHERE pm.invoice_date < %(today)s
                                              AND pm.invoice_date >= %(today)s::date - 365
                                              AND pm.move_type = 'out_invoice') AS ord365,
                           MAX(pm.invoice_date) FILTER (WHERE pm.invoice_date < %(today)s) AS last_d,
                           MIN(pm.invoice_date) FILTER (WHERE pm.invoice_date < %(today)s) AS first_d
                      FROM pm
                  GROUP BY pm.partner_id
                    HAVING MAX(pm.invoice_date) >= %(since)s
                ),
                pop AS (
                    SELECT a.key, a.key AS partner_id, %(today)s::date AS ref_date, d.rank_id,
                           r.rfm_band, d.id IS NOT NULL AS is_distributor,
                           NULL::bool AS treated, NULL::float8 AS y, NULL::int AS campaign_id
                      FROM agg a
                      JOIN res_partner p ON p.id = a.key
                 LEFT JOIN ds_distributor d ON d.id = p.ds_distributor_id
                 LEFT JOIN ds_partner_rfm r ON r.partner_id = a.key
                                          AND r.company_id = %(company)s
                )
                %(select)s
                """,
                moves=partner_moves(company.id, "1900-01-01", today),
                today=today,
                since=today.replace(year=today.year - 2),
                company=company.id,
                select=self._feature_select(),
            )
        )

    @api.model
    def _feature_select(self):
        return SQL(
            """
                SELECT pop.key::int8, pop.partner_id::int8,
                       CASE WHEN pop.treated THEN 1.0 ELSE 0.0 END::float8,
                       COALESCE(pop.y, 0)::float8, COALESCE(pop.campaign_id, 0)::int8,
                       COALESCE(a.rev90, 0)::float8, COALESCE(a.ord90, 0)::float8,
                       COALESCE(a.rev365, 0)::float8, COALESCE(a.ord365, 0)::float8,
                       LEAST(COALESCE(pop.ref_date - a.last_d, 730), 730)::float8,
                       LEAST(COALESCE(pop.ref_date - a.first_d, 0), 1825)::float8,
                       COALESCE(r.sequence, 0)::float8,
                       CASE WHEN pop.is_distributor THEN 1.0 ELSE 0.0 END::float8,
                       COALESCE(array_position(%(bands)s::varchar[], pop.rfm_band::varchar), 0)::int4
                  FROM pop
             LEFT JOIN agg a ON a.key = pop.key
             LEFT JOIN ds_rank r ON r.id = pop.rank_id
              ORDER BY pop.key
            """,
            bands=[band for band, __ in RFM_BANDS],
        )

    @api.model
    def _read_features(self, query):
        key, partner, treated, y, campaign, *numbers, dist, band = read_columns(
            self.env.cr,
            query,
            ["int8", "int8", "float8", "float8", "int8"] + ["float8"] * 8 + ["int4"],
        )
        rank = numbers.pop()
        # columns: 6 activity numbers, distributor, rank sequence, one-hot RFM band
        bands = (band[:, None] == np.arange(1, len(RFM_BANDS) + 1)[None, :]).astype(
            float
        )
        X = np.column_stack([np.column_stack(numbers), dist, rank, bands])
        return key, partner, treated > 0, y, campaign, X

    # ------------------------------------------------------------ training
    def _training_counts(self, campaigns):
        """Target and control members of the campaigns and how many of each bought."""
        target, control, target_resp, control_resp = self.env.execute_query(
            SQL(
                """
                SELECT COUNT(*) FILTER (WHERE cm."group" = 'target'),
                       COUNT(*) FILTER (WHERE cm."group" <> 'target'),
                       COUNT(*) FILTER (WHERE cm."group" = 'target' AND cm.revenue > 0),
                       COUNT(*) FILTER (WHERE cm."group" <> 'target' AND cm.revenue > 0)
                  FROM ds_campaign_member cm WHERE cm.campaign_id = ANY(%s)
                """,
                campaigns.ids,
            )
        )[0]
        return {
            "target": target,
            "control": control,
            "target_responders": target_resp,
            "control_responders": control_resp,
        }

    def _check_trainable(self):
        """The finished campaigns to train on, or a clear error naming what is missing."""
        self.ensure_one()
        campaigns = self.campaign_ids.filtered(lambda c: c.state == "done")
        if not campaigns:
            raise UserError(
                self.env._(
                    "Choose at least one finished campaign (measured, with a control group) to "
                    "train the uplift model on."
                )
            )
        self.env.flush_all()
        counts = self._training_counts(campaigns)
        if (
            min(counts["target"], counts["control"]) < MIN_GROUP
            or min(counts["target_responders"], counts["control_responders"])
            < MIN_RESPONDERS
        ):
            raise UserError(
                self.env._(
                    "Too little to learn from: %(t)s target and %(c)s control members, of whom "
                    "%(rt)s and %(rc)s bought. At least %(min_group)s members and %(min_resp)s "
                    "buyers are needed in each group: add finished campaigns.",
                    t=counts["target"],
                    c=counts["control"],
                    rt=counts["target_responders"],
                    rc=counts["control_responders"],
                    min_group=MIN_GROUP,
                    min_resp=MIN_RESPONDERS,
                )
            )
        return campaigns, counts

    def _job_size(self):
        campaigns = self.campaign_ids.filtered(lambda c: c.state == "done")
        if not campaigns:
            return 0
        counts = self._training_counts(campaigns)
        return counts["target"] + counts["control"] + super()._job_size()

    def _train(self, progress=None):
        self.ensure_one()
        started = time.time()
        campaigns, __ = self._check_trainable()
        company = self.company_id
        with bulk_settings(self.env.cr):
            __, __, treated, y, campaign_of, X = self._feature_columns(
                company,
                SQL(
                    """
                    SELECT cm.id AS key, cm.partner_id, c.date_start AS ref_date, cm.rank_id,
                           cm.rfm_band, p.ds_distributor_id IS NOT NULL AS is_distributor,
                           cm."group" = 'target' AS treated, COALESCE(cm.revenue, 0)::float8 AS y,
                           c.id AS campaign_id
                      FROM ds_campaign_member cm
                      JOIN ds_campaign c ON c.id = cm.campaign_id
                      JOIN res_partner p ON p.id = cm.partner_id
                     WHERE cm.campaign_id = ANY(%s)
                    """,
                    campaigns.ids,
                ),
                max(campaigns.mapped("date_start")),
            )
        self._set_progress(30.0, progress)
        # each member's campaign's share of target members (the propensity)
        __, inverse = np.unique(campaign_of, return_inverse=True)
        share = np.bincount(inverse, weights=treated.astype(float)) / np.bincount(
            inverse
        )
        p = share[inverse]
        # the held-out members: a fixed hash of each member's position, never seen by the fit
        position = np.arange(len(y), dtype=np.int64)
        train = ((position * 2654435761) % 4294967296) / 4294967296.0 < TRAIN_SHARE
        model = uplift.fit_transformed_outcome(
            X[train], y[train], treated[train], p[train]
        )
        held_scores = uplift.predict(model, X[~train])
        grid, q, area, random_area = uplift.qini(
            held_scores, y[~train], treated[~train]
        )
        low, high = uplift.qini_gain_interval(held_scores, y[~train], treated[~train])
        self._set_progress(50.0, progress)
        final = uplift.fit_transformed_outcome(X, y, treated, p)
        score_count = self._score(final)
        self._set_progress(90.0, progress)
        self.qini_point_ids.unlink()
        self.write(
            {
                "state": "trained",
                "trained_on": fields.Datetime.now(),
                "sample_size": int(train.sum()),
                "test_size": int((~train).sum()),
                "qini_auc": area,
                "qini_random_auc": random_area,
                "qini_gain": area - random_area,
                "qini_gain_low": low,
                "qini_gain_high": high,
                "trustworthy": low > 0,
                "qini_point_ids": [
                    (
                        0,
                        0,
                        {
                            "share": float(k) * 100.0,
                            "qini": float(v),
                            "random": float(k) * q[-1],
                        },
                    )
                    for k, v in zip(grid, q, strict=True)
                ],
                "score_count": score_count,
                "train_seconds": time.time() - started,
            }
        )

    def _score(self, model):
        """Predicted uplift of every partner who bought in the last two years, as of
        today (one feature read into numpy, one binary COPY of the scores)."""
        today = fields.Date.context_today(self)
        company = self.company_id
        cr = self.env.cr
        with bulk_settings(cr):
            __, partners, __, __, __, X = self._scoring_feature_columns(company, today)
            scores = uplift.predict(model, X) if len(partners) else np.array([])
            cr.execute(SQL("DELETE FROM ds_uplift_score WHERE model_id = %s", self.id))
            write_columns(
                cr,
                "ds_uplift_score",
                [
                    ("model_id", "int4", np.full(len(partners), self.id)),
                    ("partner_id", "int4", partners),
                    ("score", "float8", scores),
                ],
            )
        self.env["ds.uplift.score"].invalidate_model()
        return len(partners)


class DsUpliftQiniPoint(models.Model):
    _name = "ds.uplift.qini.point"
    _description = "Uplift Model Qini Curve Point"
    _order = "model_id, share"

    model_id = fields.Many2one(
        "ds.uplift.model", required=True, ondelete="cascade", index=True
    )
    share = fields.Float(string="Targeted Share (%)", aggregator=None, digits=(16, 0))
    qini = fields.Float(
        string="Incremental Revenue (model)",
        aggregator=None,
        help="Incremental revenue of the held-out members if the top share by predicted "
        "uplift had been targeted.",
    )
    random = fields.Float(string="Incremental Revenue (random)", aggregator=None)


class DsUpliftScore(models.Model):
    _name = "ds.uplift.score"
    _description = "Predicted Uplift per Partner"
    _order = "score desc"
    _rec_name = "partner_id"
    # derived rows rewritten by ds.uplift.model training: no foreign keys
    # (crm_direct_selling's derived_table.py); res.partner unlink() applies the cascade
    _auto = False

    model_id = fields.Many2one("ds.uplift.model", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    score = fields.Float(
        string="Predicted Uplift",
        aggregator=None,
        help="Predicted extra revenue if this partner is targeted.",
    )

    def init(self):
        ensure_table(
            self.env.cr,
            self._table,
            [
                ("model_id", "int4 NOT NULL"),
                ("partner_id", "int4 NOT NULL"),
                ("score", "float8"),
            ],
            unique=[("ds_uplift_score_model_partner_key", ("model_id", "partner_id"))],
        )


class DsCampaign(models.Model):
    _inherit = "ds.campaign"

    uplift_model_id = fields.Many2one(
        "ds.uplift.model",
        string="Target by Uplift Model",
        domain="[('state', '=', 'trained'), ('company_id', '=', company_id)]",
        help="Assign only the segment members with the highest predicted uplift (the "
        "control group is drawn at random inside that share, so the measured gain stays "
        "honest).",
    )
    target_top_pct = fields.Float(
        string="Top Share by Uplift (%)",
        default=100.0,
        aggregator=None,
        help="With an uplift model: the share of the segment, by predicted uplift, that the "
        "campaign assigns (target and control).",
    )
    expected_incremental_revenue = fields.Monetary(
        readonly=True,
        copy=False,
        aggregator=None,
        help="What the uplift model predicted for the target members at assignment, to "
        "compare with the measured incremental revenue after the fact.",
    )

    _sql_constraints = [
        (
            "target_top_pct_range",
            "CHECK(target_top_pct > 0 AND target_top_pct <= 100)",
            "The top share by uplift must be between 0% and 100%.",
        ),
    ]

    def _assign_population_sql(self):
        if not self.uplift_model_id or self.target_top_pct >= 100:
            return super()._assign_population_sql()
        if not self.uplift_model_id.trustworthy:
            raise UserError(
                self.env._(
                    "Uplift model %(model)s does not rank better than random on held-out "
                    "members: it cannot choose whom campaign %(campaign)s targets.",
                    model=self.uplift_model_id.name,
                    campaign=self.name,
                )
            )
        # the top share of the segment by predicted uplift (unscored partners last)
        return SQL(
            """sm.partner_id IN (
                SELECT x.partner_id FROM (
                    SELECT s2.partner_id,
                           cume_dist() OVER (ORDER BY us.score DESC NULLS LAST, s2.partner_id) AS cd
                      FROM ds_segment_member s2
                 LEFT JOIN ds_uplift_score us ON us.partner_id = s2.partner_id AND us.model_id = %(model)s
                     WHERE s2.segment_id = %(segment)s
                ) x WHERE x.cd <= %(share)s)""",
            model=self.uplift_model_id.id,
            segment=self.segment_id.id,
            share=self.target_top_pct / 100.0,
        )

    def _assign_members(self):
        result = super()._assign_members()
        expected = 0.0
        if self.uplift_model_id:
            expected = self.env.execute_query(
                SQL(
                    """
                    SELECT COALESCE(SUM(us.score), 0) FROM ds_campaign_member cm
                      JOIN ds_uplift_score us ON us.partner_id = cm.partner_id AND us.model_id = %s
                     WHERE cm.campaign_id = %s AND cm."group" = 'target'
                    """,
                    self.uplift_model_id.id,
                    self.id,
                )
            )[0][0]
        self.expected_incremental_revenue = self.currency_id.round(expected)
        return result
