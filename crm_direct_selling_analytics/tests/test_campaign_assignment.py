import hashlib
import math

from odoo.tests import tagged
from odoo.tools import SQL

from .common import DsAnalyticsCommon


def py_uniform(seed, key):
    return int(hashlib.md5(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 2**32


@tagged("post_install", "-at_install")
class TestCampaignAssignment(DsAnalyticsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._bulk_partners(4000, "Assign")
        # strata: RFM bands cycling over the bulk partners, one tiny band of 7 partners
        bands = ["champion", "lost", "other", "at_risk"]
        rows = [
            (p, bands[i % 4] if i >= 7 else "loyal")
            for i, p in enumerate(cls.partners.ids)
        ]
        cls.env.cr.execute(
            SQL(
                """INSERT INTO ds_partner_rfm (partner_id, company_id, rfm_band, r_score, f_score, m_score)
               SELECT r.pid, %s, r.band, 3, 3, 3 FROM unnest(%s::int[], %s::varchar[]) AS r(pid, band)""",
                cls.company.id,
                [r[0] for r in rows],
                [r[1] for r in rows],
            )
        )
        # a rank stratum made of real distributors
        cls.distributors = cls.env["ds.distributor"]
        for i in range(12):
            cls.distributors |= cls._distributor(
                f"Rank2 Dist {i}", rank_id=cls.rank_2.id
            )
        cls.segment = cls._segment_of(cls.partners | cls.distributors.partner_id)

    def _campaign(self, seed, **vals):
        return self.env["ds.campaign"].create(
            {
                "name": f"Campaign {seed}",
                "segment_id": self.segment.id,
                "seed": seed,
                **vals,
            }
        )

    def _groups(self, campaign):
        return {m.partner_id.id: m.group for m in campaign.member_ids}

    def test_assignment_reproducible(self):
        c1 = self._campaign("spring-2026")
        c1.action_assign()
        groups_1 = self._groups(c1)
        self.assertEqual(len(groups_1), 4012)
        c1.action_assign()
        self.assertEqual(
            self._groups(c1),
            groups_1,
            "re-assigning with the same seed changes nothing",
        )
        c2 = self._campaign("spring-2026")
        c2.action_assign()
        self.assertEqual(self._groups(c2), groups_1, "same seed, same groups")
        c3 = self._campaign("autumn-2026")
        c3.action_assign()
        groups_3 = self._groups(c3)
        self.assertNotEqual(groups_3, groups_1, "another seed draws other groups")
        changed = sum(1 for pid, g in groups_1.items() if groups_3[pid] != g)
        self.assertGreater(changed, 200)

    def test_unstratified_matches_hash_and_binomial(self):
        c = self._campaign("plain", stratify=False, control_pct=10.0)
        c.action_assign()
        groups = self._groups(c)
        expected = {
            pid: "control" if py_uniform("plain", pid) < 0.1 else "target"
            for pid in groups
        }
        self.assertEqual(
            groups,
            expected,
            "assignment is md5(seed:partner) < share, recomputed in Python",
        )
        n = len(groups)
        sd = math.sqrt(n * 0.1 * 0.9)
        self.assertLess(abs(c.control_count - n * 0.1), 3.5 * sd)
        self.assertEqual(c.control_count + c.target_count, n)

    def test_stratified_each_stratum_balanced(self):
        c = self._campaign("strata", control_pct=20.0)
        c.action_assign()
        self.env.cr.execute(
            SQL(
                """SELECT stratum, COUNT(*), COUNT(*) FILTER (WHERE "group" = 'control')
                 FROM ds_campaign_member WHERE campaign_id = %s GROUP BY stratum""",
                c.id,
            )
        )
        strata = {s: (n, k) for s, n, k in self.env.cr.fetchall()}
        self.assertIn("0/loyal", strata)
        self.assertIn(f"{self.rank_2.id}/-", strata)
        self.assertEqual(strata["0/loyal"][0], 7)
        self.assertEqual(strata[f"{self.rank_2.id}/-"][0], 12)
        for stratum, (n, k) in strata.items():
            self.assertIn(
                k,
                (math.floor(n * 0.2), math.ceil(n * 0.2)),
                f"stratum {stratum}: {k} of {n}",
            )
        total = sum(n for n, __ in strata.values())
        self.assertLessEqual(abs(c.control_count - total * 0.2), len(strata))

    def test_global_holdout_never_in_campaigns(self):
        self.company.write({"ds_holdout_pct": 20.0, "ds_holdout_seed": "hold-1"})
        c1 = self._campaign("h1")
        c1.action_assign()
        c2 = self._campaign("h2", stratify=False)
        c2.action_assign()
        all_ids = set(self.segment.member_ids.partner_id.ids)
        holdout = {pid for pid in all_ids if py_uniform("holdout:hold-1", pid) < 0.2}
        n = len(all_ids)
        self.assertLess(abs(len(holdout) - n * 0.2), 3.5 * math.sqrt(n * 0.2 * 0.8))
        for c in (c1, c2):
            self.assertEqual(c.holdout_count, len(holdout))
            self.assertFalse(
                holdout & set(c.member_ids.partner_id.ids),
                "holdout partners are never members",
            )
            self.assertEqual(len(c.member_ids), n - len(holdout))

    def test_power_preview(self):
        c = self._campaign("power", control_pct=10.0)
        # baseline: 1000 partners bought 100 in the 30 days before the start
        start = self.today
        rows = [
            (pid, start.replace(day=10) if start.day > 10 else start, 100.0, 0.0)
            for pid in self.partners.ids[:1000]
        ]
        c.write({"date_start": "2026-07-01", "date_end": "2026-07-30"})
        self._bulk_moves([(pid, "2026-06-15", 100.0, 0.0) for pid, *__ in rows])
        c.action_assign()
        n = len(c.member_ids)
        p = 1000 / n
        self.assertAlmostEqual(c.baseline_response_rate, p, places=6)
        self.assertAlmostEqual(c.baseline_revenue_per_member, 100000 / n, places=2)
        from scipy.stats import norm

        n_c = round(n * 0.1)
        z = norm.ppf(0.975) + norm.ppf(0.8)
        expected = z * math.sqrt(p * (1 - p)) * math.sqrt(1 / (n - n_c) + 1 / n_c)
        self.assertAlmostEqual(c.mde_response, expected, places=6)
        self.assertIn("50% control", c.power_note)
        self.assertGreater(c.mde_revenue, 0)
