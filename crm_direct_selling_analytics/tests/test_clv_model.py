"""Who will leave and what they are worth (issue 16): the BG/NBD + Gamma-Gamma model trained
through the web client on customers simulated from a known truth; calibrated on the held-out
period, parameters recovered, a partner with one purchase and a lapsed regular defined."""

from datetime import timedelta

import numpy as np

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_direct_selling.tests.rpc import call_button

from .common import DsAnalyticsCommon

TRUTH = {"r": 0.5, "alpha": 6.0, "a": 1.5, "b": 4.0, "p": 4.0, "q": 6.0, "gamma": 50.0}


@tagged("post_install", "-at_install")
class TestClvModel(DsAnalyticsCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="ds_clv_manager",
            password="ds_clv_manager",
            groups="crm_direct_selling.group_ds_manager,base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.user = new_test_user(
            cls.env,
            login="ds_clv_user",
            password="ds_clv_user",
            groups="crm_direct_selling.group_ds_user,base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.today = fields.Date.context_today(cls.env["ds.clv.model"])

    def _simulate(self, n, seed=2026):
        """Customers of the BG/NBD + Gamma-Gamma truth, first purchase 200 to 730 days ago,
        observed until today (the model holds out the last 182 days)."""
        rng = np.random.default_rng(seed)
        partners = self._bulk_partners(n, "Clv")
        lam = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], n)  # purchases per week
        drop = rng.beta(TRUTH["a"], TRUTH["b"], n)
        nu = rng.gamma(TRUTH["q"], 1 / TRUTH["gamma"], n)  # per-customer value rate
        rows = []
        for i, partner in enumerate(partners):
            first = int(rng.integers(200, 731))
            day = 0.0
            days = {0}
            while True:
                day += rng.exponential(1 / lam[i]) * 7
                if day > first:
                    break
                days.add(int(day))
                if rng.random() < drop[i]:
                    break
            for d in sorted(days):
                value = round(float(rng.gamma(TRUTH["p"], 1 / nu[i])), 2) + 0.01
                rows.append(
                    (partner.id, self.today - timedelta(days=first - d), value, 0)
                )
        self._bulk_moves(rows)
        return partners

    def _press(self, user, record, method):
        return call_button(self, user.login, record._name, method, record.ids)

    def test_trained_model_is_calibrated(self):
        self._simulate(2500)
        one_timer = self._bulk_partners(1, "Once")
        lapsed = self._bulk_partners(1, "Lapsed")
        self._bulk_moves(
            [(one_timer.id, self.today - timedelta(days=300), 80.0, 0)]
            + [
                (lapsed.id, self.today - timedelta(days=700 - 7 * k), 60.0, 0)
                for k in range(40)
            ]
        )
        model = self.env["ds.clv.model"].create({"name": "Test model"})
        refused = self._press(self.user, model, "action_train")
        self.assertIn("error", refused, "training is for managers")
        body = self._press(self.manager, model, "action_train")
        self.assertNotIn("error", body, body.get("error"))
        model.invalidate_recordset()
        self.assertEqual(model.state, "trained")
        self.assertEqual(model.sample_size, 2502)
        # the held-out check: totals within 15%, deciles follow the actual purchases
        self.assertLess(abs(model.calibration_error_pct), 15.0)
        deciles = model.calibration_ids.sorted("decile")
        self.assertEqual(len(deciles), 10)
        self.assertGreater(
            np.corrcoef(deciles.mapped("predicted"), deciles.mapped("actual"))[0, 1],
            0.9,
        )
        top = deciles[-1]
        self.assertLess(abs(top.predicted - top.actual) / top.actual, 0.3)
        # the truth is recovered (weeks as the time unit)
        for name, field in (("r", "bgnbd_r"), ("a", "bgnbd_a"), ("b", "bgnbd_b")):
            self.assertLess(abs(model[field] - TRUTH[name]) / TRUTH[name], 0.4, name)
        scores = self.env["ds.partner.clv"].search([("model_id", "=", model.id)])
        self.assertEqual(len(scores), 2502)
        once = scores.filtered(lambda s: s.partner_id == one_timer)
        self.assertEqual(once.repeat_purchases, 0)
        self.assertEqual(
            once.p_alive, 1.0, "one purchase: alive by the model's assumption"
        )
        self.assertGreater(once.expected_value_12m, 0.0)
        gone = scores.filtered(lambda s: s.partner_id == lapsed)
        self.assertEqual(gone.repeat_purchases, 39)
        self.assertLess(
            gone.p_alive, 0.05, "weekly for 40 weeks, then silent for 400 days"
        )
        self.assertTrue(all(0.0 <= s <= 1.0 for s in scores.mapped("p_alive")))
        # expected value = expected purchases x expected value per purchase, to the cent
        s = scores.filtered(lambda s: s.repeat_purchases > 3)[:1]
        p, q, g = model.gg_p, model.gg_q, model.gg_gamma
        x, m = s.repeat_purchases, s.avg_repeat_value
        per_purchase = p * (g + x * m) / (p * x + q - 1)
        self.assertAlmostEqual(
            s.expected_value_12m, s.expected_purchases_12m * per_purchase, delta=0.05
        )
        # Churn Risk rates repeat buyers by the model, the rule stays as the explanation
        churn = self.env["ds.report.churn"].search([("partner_id", "=", lapsed.id)])
        self.assertEqual((churn.risk, churn.risk_source), ("high", "model"))
        self.assertAlmostEqual(churn.churn_probability, 1 - gone.p_alive, places=6)
        self.assertIn("likely to have stopped buying", churn.reason)
        self.assertIn("usually buys every 7.0 days", churn.reason)
        once_row = self.env["ds.report.churn"].search(
            [("partner_id", "=", one_timer.id)]
        )
        self.assertEqual((once_row.risk, once_row.risk_source), ("unknown", "rule"))
        # Most Valuable Customers shows the expected value beside the past revenue
        best = self.env["ds.report.pareto"].search([], limit=1)
        self.assertEqual(
            best.expected_value_12m,
            scores.filtered(
                lambda s: s.partner_id == best.partner_id
            ).expected_value_12m,
        )
        # training again replaces the scores
        model.action_train()
        self.assertEqual(self.env["ds.partner.clv"].search_count([]), 2502)

    def test_too_few_repeat_buyers(self):
        partners = self._bulk_partners(50, "Few")
        self._bulk_moves(
            [(p.id, self.today - timedelta(days=100), 10.0, 0) for p in partners]
            + [(p.id, self.today - timedelta(days=50), 10.0, 0) for p in partners[:5]]
        )
        model = self.env["ds.clv.model"].create({"holdout_days": 30})
        body = self._press(self.manager, model, "action_train")
        message = body["error"]["data"]["message"]
        self.assertIn("Too few repeat buyers", message)
        self.assertIn("at least 30", message)
        self.assertEqual(model.state, "draft")
        self.assertFalse(self.env["ds.partner.clv"].search_count([]))

    def test_train_button_queues_a_background_job(self):
        """Above the company's threshold the Train button returns at once without
        training; the cron then trains as the user who pressed it and reports progress."""
        self._simulate(400, seed=7)
        self.company.ds_decision_async_threshold = 0  # always in the background
        model = self.env["ds.clv.model"].create({"name": "Queued"})
        body = self._press(self.manager, model, "action_train")
        self.assertNotIn("error", body, body.get("error"))
        self.assertEqual(body["result"]["tag"], "display_notification")
        model.invalidate_recordset()
        self.assertEqual(model.job_state, "queued")
        self.assertEqual(model.job_user_id, self.manager)
        self.assertEqual(model.state, "draft", "the button did not train")
        self.assertFalse(self.env["ds.partner.clv"].search_count([]))
        self.assertIn("Queued", model.job_status_message)
        again = self._press(self.manager, model, "action_train")
        self.assertIn("already queued", again["error"]["data"]["message"])
        self.env["ds.clv.model"].with_user(self.env.ref("base.user_root")).with_context(
            ds_decision_progress_same_cursor=True
        )._cron_train_queued()
        model.invalidate_recordset()
        self.assertEqual((model.state, model.job_state), ("trained", "done"))
        self.assertEqual(model.progress, 100.0)
        self.assertEqual(
            self.env["ds.partner.clv"].search_count([("model_id", "=", model.id)]),
            model.sample_size,
        )
        self.assertGreater(model.sample_size, 350)
        self.assertEqual(model.message_ids[0].author_id, self.manager.partner_id)

    def test_background_job_failure_is_reported(self):
        partners = self._bulk_partners(50, "FewBg")
        self._bulk_moves(
            [(p.id, self.today - timedelta(days=100), 10.0, 0) for p in partners]
        )
        self.company.ds_decision_async_threshold = 0
        model = self.env["ds.clv.model"].create({"holdout_days": 30})
        body = self._press(self.manager, model, "action_train")
        self.assertNotIn("error", body, body.get("error"))
        self.env["ds.clv.model"].with_context(
            ds_decision_progress_same_cursor=True
        )._cron_train_queued()
        model.invalidate_recordset()
        self.assertEqual((model.state, model.job_state), ("draft", "failed"))
        self.assertIn("Too few repeat buyers", model.job_error)
        self.assertIn("Too few repeat buyers", model.job_status_message)
        self.assertFalse(self.env["ds.partner.clv"].search_count([]))
        # pressed again, it is queued again (a failed job does not block the button)
        self._press(self.manager, model, "action_train")
        model.invalidate_recordset()
        self.assertEqual(model.job_state, "queued")

    def test_uncalibrated_model_is_not_used(self):
        """Regular customers for a year and a half who all stopped buying when the held-out
        days began: the model fitted before them predicts purchases that never came. It is
        trained but not calibrated, and Churn Risk rates its repeat buyers by the rule."""
        partners = self._bulk_partners(300, "Stopped")
        cutoff = self.today - timedelta(days=182)
        rows = []
        for i, partner in enumerate(partners):
            gap = 14 + 7 * (i % 6)  # every 2 to 7 weeks
            first = 300 + 3 * (i % 70)
            rows += [
                (partner.id, cutoff - timedelta(days=first - gap * k), 25.0 + k % 7, 0)
                for k in range(first // gap + 1)
            ]
        # a few still buy in the held-out days, far fewer than the model predicts
        rows += [(p.id, self.today - timedelta(days=30), 25.0, 0) for p in partners[:3]]
        self._bulk_moves(rows)
        model = self.env["ds.clv.model"].create({"name": "Off"})
        body = self._press(self.manager, model, "action_train")
        self.assertNotIn("error", body, body.get("error"))
        model.invalidate_recordset()
        self.assertEqual(model.state, "trained")
        # hundreds of purchases predicted, 3 made
        self.assertGreater(model.calibration_error_pct, 1000.0)
        self.assertFalse(model.calibrated, "predictions far off on the held-out days")
        regular = partners[5]
        churn = self.env["ds.report.churn"].search([("partner_id", "=", regular.id)])
        self.assertEqual(churn.risk_source, "rule")
        self.assertFalse(churn.churn_probability)
        self.assertNotIn("lifetime-value model", churn.reason)
        best = self.env["ds.report.pareto"].search([], limit=1)
        self.assertFalse(best.expected_value_12m)

    def _short_history(self, prefix, end):
        """200 customers who all first bought within six weeks before ``end``."""
        partners = self._bulk_partners(200, prefix)
        self._bulk_moves(
            [
                (p.id, end - timedelta(days=7 * k + (i % 5)), 25.0 + k, 0)
                for i, p in enumerate(partners)
                for k in range(1 + i % 6)
            ]
        )
        return partners

    def test_history_too_short_to_check(self):
        """Every customer first bought within six weeks before the held-out days: the
        model fitted before them has no finite prediction (before: "cannot convert float
        NaN to integer"). Trained on the whole history, but not shown as calibrated."""
        partners = self._short_history("Short", self.today - timedelta(days=182))
        self._bulk_moves(
            [(p.id, self.today - timedelta(days=30), 25.0, 0) for p in partners[:3]]
        )
        model = self.env["ds.clv.model"].create({"name": "Short"})
        body = self._press(self.manager, model, "action_train")
        self.assertNotIn("error", body, body.get("error"))
        model.invalidate_recordset()
        self.assertEqual(model.state, "trained")
        self.assertFalse(model.calibrated)
        self.assertIn("could not be checked", model.calibration_note)
        self.assertFalse(model.calibration_ids)
        churn = self.env["ds.report.churn"].search(
            [("partner_id", "=", partners[5].id)]
        )
        self.assertEqual(churn.risk_source, "rule")

    def test_history_too_short_to_predict(self):
        """Every customer first bought within the last six weeks: no finite prediction
        at all. A clear message, no score written."""
        self._short_history("Recent", self.today)
        model = self.env["ds.clv.model"].create({"name": "Recent", "holdout_days": 7})
        body = self._press(self.manager, model, "action_train")
        message = body["error"]["data"]["message"]
        self.assertIn("did not converge", message)
        self.assertIn("no score was written", message)
        model.invalidate_recordset()
        self.assertEqual(model.state, "draft")
        self.assertFalse(self.env["ds.partner.clv"].search_count([]))
