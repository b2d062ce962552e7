import math
import random

import numpy as np
from scipy import stats as sps

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import DsAnalyticsCommon

TRUE_UPLIFT = 12.0  # expected extra revenue per targeted member (30% buy 40 more)


@tagged("post_install", "-at_install")
class TestCampaignMeasure(DsAnalyticsCommon):
    """Generated data with a known effect; reference statistics recomputed independently."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._bulk_partners(3000, "Measure")
        cls.segment = cls._segment_of(cls.partners)
        cls.campaign = cls.env["ds.campaign"].create(
            {
                "name": "Reactivation",
                "segment_id": cls.segment.id,
                "seed": "m-42",
                "control_pct": 30.0,
                "stratify": False,
                "date_start": "2026-05-01",
                "date_end": "2026-05-31",
                "cost": 5000.0,
            }
        )
        cls.campaign.action_assign()
        cls.campaign.action_launch()
        cls.aa = cls.env["ds.campaign"].create(
            {
                "name": "A/A",
                "segment_id": cls.segment.id,
                "seed": "aa-1",
                "control_pct": 50.0,
                "date_start": "2026-03-01",
                "date_end": "2026-03-31",
            }
        )
        cls.aa.action_assign()
        cls.groups = {m.partner_id.id: m.group for m in cls.campaign.member_ids}
        aa_groups = {m.partner_id.id: m.group for m in cls.aa.member_ids}
        # A pattern of 100 members (pseudo-random but fixed) is laid over each group in partner
        # order, so that both groups follow the same distribution whatever the partner ids are:
        # the injected effect is exactly 12 per member over whole cycles (30 of 100 targets buy 40
        # more) and the A/A groups differ by the partial last cycle only.
        rng = random.Random(2026)
        flags = [1] * 30 + [0] * 70
        rng.shuffle(flags)
        pattern = []
        for flag in flags:
            x = max(round(rng.gauss(100, 30), 2), 0.0) if rng.random() < 0.5 else 0.0
            base = (
                max(round(0.6 * x + rng.gauss(60, 25), 2), 1.0)
                if rng.random() < 0.5
                else 0.0
            )
            z = max(round(rng.gauss(80, 20), 2), 1.0) if rng.random() < 0.4 else 0.0
            pattern.append((x, base, flag, z))
        rows = []
        cls.pre, cls.win, cls.orders = {}, {}, {}
        for grp in ("target", "control"):
            members = sorted(p for p, g in cls.groups.items() if g == grp)
            for k, pid in enumerate(members):
                x, base, flag, __ = pattern[k % len(pattern)]
                if x:
                    rows.append((pid, "2026-04-12", x, x / 10))
                y_parts = [base] if base else []
                if grp == "target" and flag:
                    y_parts.append(40.0)
                for amount in y_parts:
                    rows.append((pid, "2026-05-15", amount, amount / 10))
                cls.pre[pid] = x
                cls.win[pid] = sum(y_parts)
                cls.orders[pid] = len(y_parts)
        for grp in ("target", "control"):
            members = sorted(p for p, g in aa_groups.items() if g == grp)
            for k, pid in enumerate(members):
                z = pattern[k % len(pattern)][3]
                if z:
                    rows.append((pid, "2026-03-10", z, 0.0))
        cls._bulk_moves(rows)

    def _arrays(self, values):
        t = np.array([values[p] for p, g in self.groups.items() if g == "target"])
        c = np.array([values[p] for p, g in self.groups.items() if g == "control"])
        return t, c

    def test_injected_uplift_is_covered_and_matches_scipy(self):
        c = self.campaign
        c.action_measure()
        t, k = self._arrays(self.win)
        self.assertEqual(c.target_count, len(t))
        self.assertEqual(c.control_count, len(k))
        self.assertAlmostEqual(c.revenue_per_member_target, t.mean(), places=6)
        self.assertAlmostEqual(c.revenue_per_member_control, k.mean(), places=6)
        ref = sps.ttest_ind(t, k, equal_var=False)
        ci = ref.confidence_interval(0.95)
        self.assertAlmostEqual(
            c.uplift_revenue_per_member, t.mean() - k.mean(), places=6
        )
        self.assertAlmostEqual(c.p_value, ref.pvalue, places=8)
        self.assertAlmostEqual(c.uplift_ci_low, ci.low, places=6)
        self.assertAlmostEqual(c.uplift_ci_high, ci.high, places=6)
        self.assertLess(c.uplift_ci_low, TRUE_UPLIFT)
        self.assertGreater(c.uplift_ci_high, TRUE_UPLIFT)
        self.assertEqual(c.verdict, "positive", c.verdict_text)
        self.assertIn("earned more", c.verdict_text)
        # response rate: two-proportion z-test by hand
        rt, rc = (t > 0).sum(), (k > 0).sum()
        nt, nc = len(t), len(k)
        pool = (rt + rc) / (nt + nc)
        z = (rt / nt - rc / nc) / math.sqrt(pool * (1 - pool) * (1 / nt + 1 / nc))
        self.assertEqual(c.responders_target, rt)
        self.assertAlmostEqual(c.response_rate_target, rt / nt, places=10)
        self.assertAlmostEqual(c.response_p_value, 2 * sps.norm.sf(abs(z)), places=10)
        se = math.sqrt((rt / nt) * (1 - rt / nt) / nt + (rc / nc) * (1 - rc / nc) / nc)
        self.assertAlmostEqual(
            c.uplift_response_ci_low,
            rt / nt - rc / nc - 1.959963984540054 * se,
            places=8,
        )
        # orders and PV per member, members without purchase counting as zero
        ot, oc = self._arrays(self.orders)
        self.assertAlmostEqual(
            c.orders_p_value, sps.ttest_ind(ot, oc, equal_var=False).pvalue, places=8
        )
        self.assertAlmostEqual(c.pv_per_member_target, (t / 10).mean(), places=4)
        # money: incremental revenue, ROI on incremental margin (no product cost here: margin = revenue)
        inc = round((t.mean() - k.mean()) * nt, 2)
        self.assertAlmostEqual(c.incremental_revenue, inc, places=2)
        self.assertAlmostEqual(
            c.roi, (c.incremental_margin - 5000.0) / 5000.0 * 100.0, places=6
        )
        self.assertAlmostEqual(
            c.uplift_relative, (t.mean() - k.mean()) / k.mean() * 100, places=6
        )
        # SRM: chi-square against the planned 30%
        srm = sps.chisquare([nt, nc], f_exp=[(nt + nc) * 0.7, (nt + nc) * 0.3]).pvalue
        self.assertAlmostEqual(c.srm_p_value, srm, places=10)
        self.assertGreater(c.srm_p_value, 0.001)

    def test_cuped_matches_reference_and_narrows_interval(self):
        c = self.campaign
        c.action_measure()
        width_plain = c.uplift_ci_high - c.uplift_ci_low
        c.use_cuped = True
        c.action_measure()
        self.assertTrue(c.cuped_applied)
        yt, yc = self._arrays(self.win)
        xt, xc = self._arrays(self.pre)
        y, x = np.concatenate([yt, yc]), np.concatenate([xt, xc])
        theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
        adj_t, adj_c = yt - theta * (xt - x.mean()), yc - theta * (xc - x.mean())
        ref = sps.ttest_ind(adj_t, adj_c, equal_var=False)
        ci = ref.confidence_interval(0.95)
        self.assertAlmostEqual(
            c.uplift_revenue_per_member, adj_t.mean() - adj_c.mean(), places=6
        )
        self.assertAlmostEqual(c.p_value, ref.pvalue, places=8)
        self.assertAlmostEqual(c.uplift_ci_low, ci.low, places=5)
        self.assertAlmostEqual(c.uplift_ci_high, ci.high, places=5)
        self.assertLess(c.uplift_ci_high - c.uplift_ci_low, width_plain)
        self.assertLess(c.uplift_ci_low, TRUE_UPLIFT)
        self.assertGreater(c.uplift_ci_high, TRUE_UPLIFT)

    def test_significant_result_with_money_intervals(self):
        """Issue 13: incremental revenue and ROI come with their 95% interval (the revenue
        uplift interval times the target group); an interval above zero is significant."""
        c = self.campaign
        c.action_measure()
        t, k = self._arrays(self.win)
        nt = len(t)
        ci = sps.ttest_ind(t, k, equal_var=False).confidence_interval(0.95)
        self.assertGreater(ci.low, 0.0)
        self.assertEqual(c.significance, "significant")
        self.assertEqual(c.verdict, "positive")
        self.assertAlmostEqual(c.incremental_revenue_ci_low, round(ci.low * nt, 2), 2)
        self.assertAlmostEqual(c.incremental_revenue_ci_high, round(ci.high * nt, 2), 2)
        self.assertLess(c.incremental_revenue_ci_low, c.incremental_revenue)
        self.assertGreater(c.incremental_revenue_ci_high, c.incremental_revenue)
        # no product cost here: the margin is the revenue, its interval the same
        self.assertAlmostEqual(
            c.incremental_margin_ci_low, c.incremental_revenue_ci_low, 2
        )
        self.assertAlmostEqual(
            c.roi_ci_low, (c.incremental_margin_ci_low - 5000.0) / 5000.0 * 100.0, 6
        )
        self.assertAlmostEqual(
            c.roi_ci_high, (c.incremental_margin_ci_high - 5000.0) / 5000.0 * 100.0, 6
        )
        self.assertLess(c.roi_ci_low, c.roi)
        self.assertGreater(c.roi_ci_high, c.roi)
        self.assertNotIn("Not significant", c.verdict_text)
        self.assertIn("95% interval", c.verdict_text)

    def test_interval_crossing_zero_is_not_significant(self):
        """Issue 13: a campaign showed ROI 2,999.7 % while its uplift interval crossed
        zero; it is marked not significant in the verdict, the form and the list."""
        aa = self.aa
        aa.cost = 10.0
        aa.action_launch()
        aa.action_measure()
        self.assertLess(aa.uplift_ci_low, 0.0)
        self.assertGreater(aa.uplift_ci_high, 0.0)
        self.assertEqual(aa.significance, "not_significant")
        self.assertEqual(aa.verdict, "no_difference")
        self.assertTrue(aa.verdict_text.startswith("Not significant"), aa.verdict_text)
        labels = dict(aa._fields["verdict"]._description_selection(self.env))
        self.assertIn("Not significant", labels["no_difference"])
        nt = aa.target_count
        self.assertAlmostEqual(
            aa.incremental_revenue_ci_low, round(aa.uplift_ci_low * nt, 2), 2
        )
        self.assertLess(aa.incremental_revenue_ci_low, 0.0)
        self.assertGreater(aa.incremental_revenue_ci_high, 0.0)
        # the ROI interval spans from a loss to a gain (cost 10: the margin interval
        # crosses zero, so the ROI interval crosses -100 %)
        self.assertLess(aa.roi_ci_low, -100.0)
        self.assertGreater(aa.roi_ci_high, -100.0)
        self.assertLessEqual(aa.roi_ci_low, aa.roi)
        self.assertGreaterEqual(aa.roi_ci_high, aa.roi)
        views = self.env["ds.campaign"].get_views([(False, "list"), (False, "form")])
        for view_type in ("list", "form"):
            arch = views["views"][view_type]["arch"]
            self.assertIn('name="significance"', arch, view_type)
            self.assertIn('name="roi_ci_low"', arch, view_type)
        self.assertIn("not significant", views["views"]["form"]["arch"])
        self.assertEqual(
            aa.read_group(
                [("id", "=", aa.id)], ["roi", "uplift_ci_low"], ["significance"]
            )[0].get("roi"),
            None,
            "an ROI is not summed over campaigns",
        )

    def test_aa_window_no_difference(self):
        aa = self.aa
        aa.action_launch()
        aa.action_measure()
        self.assertEqual(aa.verdict, "no_difference", aa.verdict_text)
        self.assertLess(aa.uplift_ci_low, 0.0)
        self.assertGreater(aa.uplift_ci_high, 0.0)
        self.assertGreater(aa.p_value, 0.05)

    def test_srm_blocks_verdict(self):
        c = self.campaign
        # lose a third of the control group (e.g. members deleted behind the campaign's back)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """DELETE FROM ds_campaign_member WHERE id IN (
                   SELECT id FROM ds_campaign_member WHERE campaign_id = %s AND "group" = 'control'
                    ORDER BY id LIMIT %s)""",
                c.id,
                c.control_count // 3,
            )
        )
        self.env.invalidate_all()
        c.action_measure()
        self.assertLess(c.srm_p_value, 0.001)
        self.assertEqual(c.verdict, "srm")
        self.assertIn("No verdict", c.verdict_text)

    def test_minimum_sizes_before_winner(self):
        small = self.env["ds.campaign"].create(
            {
                "name": "Small",
                "segment_id": self._segment_of(self.partners[:150], "Small").id,
                "seed": "s",
                "control_pct": 10.0,
                "date_start": "2026-05-01",
                "date_end": "2026-05-31",
            }
        )
        small.action_assign()
        small.action_launch()
        small.action_measure()
        self.assertEqual(small.verdict, "too_small")
        self.assertLess(small.control_count, 100)

    def test_measure_requires_launch(self):
        draft = self.env["ds.campaign"].create(
            {"name": "Draft", "segment_id": self.segment.id}
        )
        with self.assertRaises(UserError):
            draft.action_measure()
        with self.assertRaises(UserError):
            draft.action_launch()
