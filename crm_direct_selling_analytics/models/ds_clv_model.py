"""Who will leave and what they are worth (issue 16): a BG/NBD + Gamma-Gamma model per
company, trained on the posted invoices (one SQL query for the per-customer summaries),
checked on a held-out period (predicted against actual purchases by decile), then scoring
every customer and distributor in one INSERT. The statistics are in ``tools/clv.py``."""

import time
from datetime import date, timedelta

import numpy as np

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.crm_direct_selling.models.derived_table import ensure_table
from odoo.addons.crm_direct_selling.models.ds_access import ds_check_manager

from ..tools import clv
from ..tools.npsql import read_columns, write_columns
from ..tools.sqlparts import bulk_settings, partner_moves

MIN_REPEAT_BUYERS = 30
# the held-out check a model must pass before the reports use it: total predicted purchases
# of the held-out days within this share of the actual ones
CALIBRATION_TOLERANCE_PCT = 20.0
HISTORY_START = date(1990, 1, 1)


class DsClvModel(models.Model):
    _name = "ds.clv.model"
    _inherit = ["mail.thread", "ds.decision.job.mixin"]
    _description = "Customer Lifetime Value Model (BG/NBD + Gamma-Gamma)"
    _job_cron = "crm_direct_selling_analytics.ir_cron_ds_clv_model_train"
    _order = "id desc"

    name = fields.Char(required=True, default=lambda self: self.env._("Lifetime value"))
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [("draft", "Not trained"), ("trained", "Trained")],
        default="draft",
        readonly=True,
    )
    holdout_days = fields.Integer(
        string="Held-out Days",
        default=182,
        required=True,
        help="The calibration check: the model is fitted on the history up to this many "
        "days ago and its predictions compared with what customers actually bought since.",
    )
    horizon_days = fields.Integer(
        string="Horizon (days)", default=365, required=True, readonly=True
    )
    trained_on = fields.Datetime(readonly=True)
    train_seconds = fields.Float(readonly=True)
    data_until = fields.Date(readonly=True)
    sample_size = fields.Integer(string="Customers", readonly=True)
    repeat_buyers = fields.Integer(readonly=True)
    bgnbd_r = fields.Float(string="r", readonly=True, digits=(16, 4))
    bgnbd_alpha = fields.Float(string="alpha", readonly=True, digits=(16, 4))
    bgnbd_a = fields.Float(string="a", readonly=True, digits=(16, 4))
    bgnbd_b = fields.Float(string="b", readonly=True, digits=(16, 4))
    gg_p = fields.Float(string="p", readonly=True, digits=(16, 4))
    gg_q = fields.Float(string="q", readonly=True, digits=(16, 4))
    gg_gamma = fields.Float(string="gamma", readonly=True, digits=(16, 4))
    calibration_ids = fields.One2many("ds.clv.calibration", "model_id", readonly=True)
    calibration_predicted = fields.Float(
        string="Predicted (held-out)",
        readonly=True,
        help="Purchases predicted for the held-out days by the model fitted before them.",
    )
    calibration_actual = fields.Float(string="Actual (held-out)", readonly=True)
    calibration_error_pct = fields.Float(
        string="Total Error (%)", readonly=True, digits=(16, 1), aggregator=None
    )
    calibration_note = fields.Char(readonly=True)
    calibrated = fields.Boolean(
        readonly=True,
        help="Its predictions of the held-out days were within 20% of the actual purchases. "
        "Only a calibrated model rates Churn Risk and gives Most Valuable Customers their "
        "expected value; otherwise the purchase-rhythm rule rates churn.",
    )

    _sql_constraints = [
        ("holdout_days", "CHECK(holdout_days > 0)", "Held-out days must be positive."),
    ]

    @api.model
    def _summaries(self, company, date_to, cutoff):
        """Per partner who bought up to ``date_to``, ordered by partner, one SQL read into
        numpy of both the whole history and the history up to ``cutoff`` (the calibration
        fit), from one pass over the invoices: (partner, x repeat purchase days, t_x and T
        in weeks, average value of the repeat days, first and last purchase day as days
        since 2000-01-01; purchase days up to the cut-off (0: none), x, t_x and T at the
        cut-off, purchase days after it (the held-out actuals))."""
        return read_columns(
            self.env.cr,
            SQL(
                """
                WITH pm AS (%(moves)s),
                days AS (
                    SELECT pm.partner_id, pm.invoice_date AS d, SUM(pm.revenue)::float8 AS v
                      FROM pm WHERE pm.move_type = 'out_invoice'
                  GROUP BY pm.partner_id, pm.invoice_date
                ),
                s AS (
                    SELECT partner_id, COUNT(*) - 1 AS x, MIN(d) AS first_d, MAX(d) AS last_d,
                           SUM(v) - (ARRAY_AGG(v ORDER BY d))[1] AS repeat_value,
                           COUNT(*) FILTER (WHERE d <= %(cutoff)s) AS n_cut,
                           MAX(d) FILTER (WHERE d <= %(cutoff)s) AS last_cut,
                           COUNT(*) FILTER (WHERE d > %(cutoff)s) AS n_after
                      FROM days GROUP BY partner_id
                )
                SELECT s.partner_id::int4, s.x::float8, ((s.last_d - s.first_d) / 7.0)::float8,
                       ((%(date_to)s::date - s.first_d) / 7.0)::float8,
                       (CASE WHEN s.x > 0 THEN s.repeat_value / s.x ELSE 0 END)::float8,
                       (s.first_d - DATE '2000-01-01')::int4, (s.last_d - DATE '2000-01-01')::int4,
                       s.n_cut::int4, GREATEST(s.n_cut - 1, 0)::float8,
                       COALESCE((s.last_cut - s.first_d) / 7.0, 0)::float8,
                       ((%(cutoff)s::date - s.first_d) / 7.0)::float8,
                       s.n_after::float8
                  FROM s
              ORDER BY s.partner_id
                """,
                moves=partner_moves(company.id, HISTORY_START, date_to),
                date_to=date_to,
                cutoff=cutoff,
            ),
            ["int4", "float8", "float8", "float8", "float8", "int4", "int4", "int4"]
            + ["float8"] * 4,
        )

    def _fit(self, x, tx, T, m, spend=True):
        """(BG/NBD parameters, Gamma-Gamma parameters or None without ``spend``)."""
        if (x > 0).sum() < MIN_REPEAT_BUYERS:
            raise UserError(
                self.env._(
                    "Too few repeat buyers to train a lifetime-value model: %(found)s "
                    "customers bought on more than one day, at least %(needed)s are needed.",
                    found=int((x > 0).sum()),
                    needed=MIN_REPEAT_BUYERS,
                )
            )
        # customers with the same (x, t_x, T) in days count once with their number as weight:
        # at a million customers the likelihood has a few hundred thousand distinct terms
        summaries, counts = np.unique(
            np.stack([x, tx, T], axis=1), axis=0, return_counts=True
        )
        bgnbd = clv.bgnbd_fit(*summaries.T, weights=counts)
        if not spend:
            return bgnbd, None
        repeat = (x > 0) & (m > 0)
        gg = clv.gamma_gamma_fit(x[repeat], m[repeat])
        return bgnbd, gg

    def action_train(self):
        ds_check_manager(self.env, self.env._("train lifetime-value models"), self)
        return self.sudo().with_context(ds_job_uid=self.env.uid)._train_or_queue()

    def _train(self, progress=None):
        self.ensure_one()
        started = time.time()
        company = self.company_id
        today = fields.Date.context_today(self)
        cutoff = today - timedelta(days=self.holdout_days)
        self.env.flush_all()
        cr = self.env.cr
        with bulk_settings(cr):
            # one read of the history: the whole of it (scoring) and up to the cut-off
            (pids, x, tx, T, m, first, last, n_cut, x_cut, tx_cut, T_cut, actual) = (
                self._summaries(company, today, cutoff)
            )
            before = n_cut > 0
            self._set_progress(20.0, progress)
            # 1. calibration: fit on the history up to the cut-off, predict the held-out
            # days, compared with the purchase days each partner actually had in them
            # (purchases only: no spend model to fit here)
            x_cut, tx_cut, T_cut, actual = (
                x_cut[before],
                tx_cut[before],
                T_cut[before],
                actual[before],
            )
            bgnbd, __ = self._fit(x_cut, tx_cut, T_cut, None, spend=False)
            predicted = clv.bgnbd_expected(
                bgnbd, self.holdout_days / 7.0, x_cut, tx_cut, T_cut
            )
            calibration = []
            checkable = bool(np.isfinite(predicted).all())
            if checkable:
                order = np.argsort(predicted, kind="stable")
                for decile, idx in enumerate(np.array_split(order, 10), start=1):
                    if len(idx):
                        calibration.append(
                            {
                                "decile": decile,
                                "customers": len(idx),
                                "predicted": float(predicted[idx].mean()),
                                "actual": float(actual[idx].mean()),
                            }
                        )
            self._set_progress(40.0, progress)
            # 2. the model used for scoring: the whole history
            bgnbd, gg = self._fit(x, tx, T, m)
            horizon = self.horizon_days / 7.0
            p_alive = clv.bgnbd_p_alive(bgnbd, x, tx, T)
            expected = clv.bgnbd_expected(bgnbd, horizon, x, tx, T)
            value = expected * clv.gamma_gamma_value(gg, x, m)
            if not (
                np.isfinite(p_alive).all()
                and np.isfinite(expected).all()
                and np.isfinite(value).all()
            ):
                # formatted before _(): Babel's extraction stops at f-strings in its arguments
                r_, alpha_, a_, b_ = (format(v, ".4g") for v in bgnbd[:4])
                raise UserError(
                    self.env._(
                        "The lifetime-value model did not converge on this purchase history "
                        "(%(customers)s customers, %(repeat)s repeat buyers; parameters r "
                        "%(r)s, alpha %(alpha)s, a %(a)s, b %(b)s): its predictions are not "
                        "finite, no score was written. A longer history (customers observed "
                        "over several of their purchase cycles) is needed.",
                        customers=len(pids),
                        repeat=int((x > 0).sum()),
                        r=r_,
                        alpha=alpha_,
                        a=a_,
                        b=b_,
                    )
                )
            self._set_progress(80.0, progress)
            cr.execute(
                SQL("DELETE FROM ds_partner_clv WHERE company_id = %s", company.id)
            )
            # the scores: one binary COPY into a temporary table, one INSERT ... SELECT
            cr.execute(
                """CREATE TEMPORARY TABLE ds_clv_scores (
                       pid int4, x float8, first_d int4, last_d int4, m float8,
                       alive float8, expected float8, value float8) ON COMMIT DROP"""
            )
            write_columns(
                cr,
                "ds_clv_scores",
                [
                    ("pid", "int4", pids),
                    ("x", "float8", x),
                    ("first_d", "int4", first),
                    ("last_d", "int4", last),
                    ("m", "float8", m),
                    ("alive", "float8", p_alive),
                    ("expected", "float8", expected),
                    ("value", "float8", value),
                ],
            )
            cr.execute(
                SQL(
                    """
                    INSERT INTO ds_partner_clv (partner_id, company_id, model_id, repeat_purchases,
                        first_purchase, last_purchase, avg_repeat_value, p_alive,
                        expected_purchases_12m, expected_value_12m, date_computed)
                    SELECT v.pid, %(company)s, %(model)s, v.x::int4,
                           DATE '2000-01-01' + v.first_d, DATE '2000-01-01' + v.last_d,
                           ROUND(v.m::numeric, 2), v.alive, v.expected, ROUND(v.value::numeric, 2),
                           NOW() AT TIME ZONE 'UTC'
                      FROM ds_clv_scores v
                    """,
                    company=company.id,
                    model=self.id,
                )
            )
            cr.execute("DROP TABLE ds_clv_scores")
        self.env["ds.partner.clv"].invalidate_model()
        total_predicted = float(
            sum(c["predicted"] * c["customers"] for c in calibration)
        )
        total_actual = float(sum(c["actual"] * c["customers"] for c in calibration))
        error_pct = (
            (total_predicted - total_actual) / total_actual * 100.0
            if total_actual
            else 0.0
        )
        self.calibration_ids.unlink()
        self.write(
            {
                "state": "trained",
                "trained_on": fields.Datetime.now(),
                "data_until": today,
                "sample_size": len(pids),
                "repeat_buyers": int((x > 0).sum()),
                "bgnbd_r": bgnbd[0],
                "bgnbd_alpha": bgnbd[1],
                "bgnbd_a": bgnbd[2],
                "bgnbd_b": bgnbd[3],
                "gg_p": gg[0],
                "gg_q": gg[1],
                "gg_gamma": gg[2],
                "calibration_ids": [(0, 0, vals) for vals in calibration],
                "calibration_predicted": total_predicted,
                "calibration_actual": total_actual,
                "calibration_error_pct": error_pct,
                # nothing bought in the held-out days, or a fit before them that did not
                # converge: nothing checked, not calibrated
                "calibrated": bool(checkable and total_actual)
                and abs(error_pct) <= CALIBRATION_TOLERANCE_PCT,
                "calibration_note": False
                if checkable
                else self.env._(
                    "The model fitted before the held-out days did not converge (its "
                    "predictions are not finite): they could not be checked."
                ),
                "train_seconds": time.time() - started,
            }
        )


class DsClvCalibration(models.Model):
    _name = "ds.clv.calibration"
    _description = "Lifetime Value Model Calibration (held-out decile)"
    _order = "model_id, decile"

    model_id = fields.Many2one(
        "ds.clv.model", required=True, ondelete="cascade", index=True
    )
    decile = fields.Integer(
        aggregator=None, help="1 = the customers predicted to buy least."
    )
    customers = fields.Integer()
    predicted = fields.Float(
        string="Predicted Purchases / Customer", aggregator=None, digits=(16, 3)
    )
    actual = fields.Float(
        string="Actual Purchases / Customer", aggregator=None, digits=(16, 3)
    )


class DsPartnerClv(models.Model):
    _name = "ds.partner.clv"
    _description = "Customer Lifetime Value and Churn Probability"
    _order = "expected_value_12m desc, id"
    _rec_name = "partner_id"
    # derived rows rewritten by ds.clv.model.action_train() (one per partner who ever
    # bought): made by init() without foreign keys (crm_direct_selling's derived_table.py);
    # the partner's cascade is applied by res.partner unlink()
    _auto = False

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True)
    model_id = fields.Many2one("ds.clv.model", readonly=True)
    repeat_purchases = fields.Integer(
        readonly=True, aggregator="avg", help="Purchase days after the first one."
    )
    first_purchase = fields.Date(readonly=True)
    last_purchase = fields.Date(readonly=True)
    avg_repeat_value = fields.Float(readonly=True, aggregator="avg", digits="Account")
    p_alive = fields.Float(
        string="Probability Alive",
        readonly=True,
        aggregator="avg",
        digits=(16, 3),
        help="Probability the customer still buys (BG/NBD). One purchase only: 1 by the "
        "model's assumption; their churn risk is read from the rule instead.",
    )
    expected_purchases_12m = fields.Float(
        string="Expected Purchases (12 months)",
        readonly=True,
        aggregator="sum",
        digits=(16, 2),
    )
    expected_value_12m = fields.Float(
        string="Expected Value (12 months)",
        readonly=True,
        aggregator="sum",
        digits="Account",
    )
    date_computed = fields.Datetime(readonly=True)

    def init(self):
        ensure_table(
            self.env.cr,
            self._table,
            [
                ("partner_id", "int4 NOT NULL"),
                ("company_id", "int4 NOT NULL"),
                ("model_id", "int4"),
                ("repeat_purchases", "int4"),
                ("first_purchase", "date"),
                ("last_purchase", "date"),
                ("avg_repeat_value", "numeric"),
                ("p_alive", "float8"),
                ("expected_purchases_12m", "float8"),
                ("expected_value_12m", "numeric"),
                ("date_computed", "timestamp"),
            ],
            unique=[
                ("ds_partner_clv_partner_company_key", ("partner_id", "company_id"))
            ],
        )
