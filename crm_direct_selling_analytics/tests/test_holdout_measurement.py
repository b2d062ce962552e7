"""The programme-level holdout (issue 16): everything the company sent against nothing,
measured through the web client and checked against an independent computation."""

import hashlib
import random
from datetime import date, timedelta

from scipy import stats as sps

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_direct_selling.tests.rpc import call_button

from .common import DsAnalyticsCommon


@tagged("post_install", "-at_install")
class TestHoldoutMeasurement(DsAnalyticsCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="ds_holdout_analyst",
            password="ds_holdout_analyst",
            groups="crm_direct_selling.group_ds_user,base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.company.write({"ds_holdout_pct": 20.0, "ds_holdout_seed": "prog-1"})
        cls.partners = cls._bulk_partners(2500, "Prog")
        cls.window = (date(2026, 5, 1), date(2026, 5, 31))

    def _held(self, partner_id):
        digest = hashlib.md5(f"holdout:prog-1:{partner_id}".encode()).hexdigest()
        return int(digest[:8], 16) / 4294967296.0 < 0.20

    def _press(self, record, method):
        return call_button(self, self.user.login, record._name, method, record.ids)

    def test_programme_effect_measured(self):
        rng = random.Random(16)
        rows, revenue = [], {}
        base = self.partners[:2000]  # bought before the window; the rest never did
        for partner in base:
            rows.append((partner.id, date(2026, 2, 10), 30.0, 0))
            held = self._held(partner.id)
            amount = 0.0
            if rng.random() < (0.25 if held else 0.40):
                amount = round(rng.expovariate(1 / 60), 2) + 1
                rows.append((partner.id, date(2026, 5, 12), amount, 0))
            revenue[partner.id] = amount
        for partner in self.partners[
            2000:2100
        ]:  # buy in the window only: not in the base
            rows.append((partner.id, date(2026, 5, 20), 999.0, 0))
        self._bulk_moves(rows)
        campaign_cost = 1234.0
        segment = self._segment_of(base[:300])
        campaign = self.env["ds.campaign"].create(
            {
                "name": "In window",
                "segment_id": segment.id,
                "seed": "prog",
                "date_start": date(2026, 4, 20),
                "date_end": date(2026, 5, 10),
                "cost": campaign_cost,
            }
        )
        campaign.action_assign()
        campaign.action_launch()
        measurement = self.env["ds.holdout.measurement"].create(
            {"name": "May", "date_from": self.window[0], "date_to": self.window[1]}
        )
        body = self._press(measurement, "action_measure")
        self.assertNotIn("error", body, body.get("error"))
        held = [revenue[p.id] for p in base if self._held(p.id)]
        reach = [revenue[p.id] for p in base if not self._held(p.id)]
        self.assertEqual(measurement.holdout_count, len(held))
        self.assertEqual(measurement.exposed_count, len(reach))
        self.assertEqual(
            len(held) + len(reach), 2000, "the window-only buyers are not in the base"
        )
        ref = sps.ttest_ind(reach, held, equal_var=False)
        self.assertAlmostEqual(measurement.p_value, ref.pvalue, places=4)
        diff = sum(reach) / len(reach) - sum(held) / len(held)
        self.assertAlmostEqual(measurement.uplift_revenue_per_member, diff, places=2)
        self.assertAlmostEqual(
            measurement.incremental_revenue,
            round(diff * len(reach), 2),
            delta=0.01 * len(reach),
        )
        self.assertLess(
            measurement.incremental_revenue_low, measurement.incremental_revenue
        )
        self.assertGreater(
            measurement.incremental_revenue_high, measurement.incremental_revenue
        )
        self.assertEqual(measurement.campaign_cost, campaign_cost)
        self.assertTrue(measurement.significant)
        self.assertIn("Marketing adds revenue", measurement.summary)

    def test_no_holdout_is_a_clear_error(self):
        self.company.ds_holdout_pct = 0.0
        measurement = self.env["ds.holdout.measurement"].create(
            {"date_from": self.window[0], "date_to": self.window[0] + timedelta(days=9)}
        )
        body = self._press(measurement, "action_measure")
        self.assertIn("no global holdout", body["error"]["data"]["message"])
        self.assertEqual(measurement.state, "draft")

    def test_foreign_user_refused(self):
        portal = new_test_user(
            self.env,
            login="ds_holdout_portal",
            password="ds_holdout_portal",
            groups="base.group_portal",
        )
        measurement = self.env["ds.holdout.measurement"].create(
            {"date_from": self.window[0], "date_to": self.window[1]}
        )
        body = call_button(
            self, portal.login, measurement._name, "action_measure", measurement.ids
        )
        self.assertIn("error", body)
        self.assertEqual(measurement.state, "draft")
