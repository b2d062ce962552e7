from datetime import date, timedelta

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import DsAnalyticsCommon


@tagged("post_install", "-at_install")
class TestRfmSegment(DsAnalyticsCommon):
    """RFM quintiles and segment criteria on hand-checked invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.categ_beauty = cls.env["product.category"].create({"name": "Beauty"})
        cls.categ_lipstick = cls.env["product.category"].create(
            {"name": "Lipstick", "parent_id": cls.categ_beauty.id}
        )
        cls.fr = cls.env.ref("base.fr")
        C = cls._customer
        cls.a = C("Alice", country_id=cls.fr.id, zip="75011")
        cls.b = C("Bob", zip="92100")
        cls.c = C("Carol", zip="75002")
        cls.d = C("Dan")
        cls.e = C("Eve")
        inv = cls._invoice
        for day in ("2026-06-20", "2026-06-10", "2026-05-01"):
            inv(cls.a, day, 100.0)
        inv(cls.b, "2026-06-25", 50.0)
        inv(cls.c, "2026-01-15", 1000.0, categ=cls.categ_lipstick)
        inv(cls.c, "2026-02-15", 500.0)
        inv(cls.d, "2025-09-01", 20.0)
        inv(cls.d, "2025-01-01", 9999.0)  # outside the 365-day window
        for day in ("2026-04-01", "2026-04-10", "2026-04-20", "2026-04-30"):
            inv(cls.e, day, 25.0)
        inv(cls.e, "2026-05-05", 10.0, refund=True)
        # distributors: monetary on PV, not revenue
        cls.dist_1 = cls._distributor(
            "Dist1",
            rank_id=cls.rank_1.id,
            enrollment_date=date.today() - timedelta(days=10),
        )
        cls.dist_2 = cls._distributor(
            "Dist2",
            rank_id=cls.rank_2.id,
            enrollment_date=date.today() - timedelta(days=800),
        )
        inv(cls.dist_1.partner_id, "2026-06-01", 80.0, pv=60.0)
        inv(cls.dist_1.partner_id, "2026-06-02", 70.0, pv=90.0)
        inv(cls.dist_2.partner_id, "2026-06-03", 500.0, pv=40.0)
        cls.result = cls.env["ds.partner.rfm"]._refresh_company(
            cls.company, date_to=cls.today
        )
        cls.rfm = {
            r.partner_id: r
            for r in cls.env["ds.partner.rfm"].search(
                [("company_id", "=", cls.company.id)]
            )
        }

    def test_rfm_customer_quintiles(self):
        expected = {  # partner: (R, F, M, band, frequency, monetary)
            self.a: (4, 4, 4, "champion", 3, 300.0),
            self.b: (5, 1, 2, "new", 1, 50.0),
            self.c: (2, 3, 5, "at_risk", 2, 1500.0),
            self.d: (1, 1, 1, "lost", 1, 20.0),
            self.e: (3, 5, 3, "loyal", 4, 90.0),
        }
        for partner, (r, f, m, band, freq, money) in expected.items():
            row = self.rfm[partner]
            self.assertEqual(
                (row.r_score, row.f_score, row.m_score), (r, f, m), partner.name
            )
            self.assertEqual(row.rfm_band, band, partner.name)
            self.assertEqual(row.frequency, freq, partner.name)
            self.assertAlmostEqual(row.monetary, money, places=2, msg=partner.name)
            self.assertFalse(row.is_distributor)
        self.assertEqual(self.rfm[self.a].rfm_code, "444")
        self.assertEqual(
            self.rfm[self.d].recency_days, (self.today - date(2025, 9, 1)).days
        )

    def test_rfm_distributors_scored_on_pv(self):
        r1, r2 = self.rfm[self.dist_1.partner_id], self.rfm[self.dist_2.partner_id]
        self.assertTrue(r1.is_distributor and r2.is_distributor)
        self.assertAlmostEqual(r1.monetary, 150.0)
        self.assertAlmostEqual(r2.monetary, 40.0)
        self.assertAlmostEqual(r2.revenue, 500.0)
        self.assertGreater(
            r1.m_score, r2.m_score, "more PV wins although Dist2 has more revenue"
        )
        self.assertEqual(self.result["rows"], 7)

    def test_rfm_refresh_is_idempotent(self):
        self.env["ds.partner.rfm"]._refresh_company(self.company, date_to=self.today)
        rows = self.env["ds.partner.rfm"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(rows), 7)
        self.assertEqual(
            rows.filtered(lambda r: r.partner_id == self.a).rfm_code, "444"
        )

    def _ntile_reference(self):
        """Scores recomputed from the stored values with the textbook definition: NTILE(5) over
        (value, partner) per population, lowered to the minimum of each group of equal values."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT partner_id, r_score, f_score, m_score,
                          MIN(r0) OVER (PARTITION BY is_distributor, last_invoice_date),
                          MIN(f0) OVER (PARTITION BY is_distributor, frequency),
                          MIN(m0) OVER (PARTITION BY is_distributor, monetary)
                     FROM (SELECT *,
                                  NTILE(5) OVER (PARTITION BY is_distributor ORDER BY last_invoice_date, partner_id) r0,
                                  NTILE(5) OVER (PARTITION BY is_distributor ORDER BY frequency, partner_id) f0,
                                  NTILE(5) OVER (PARTITION BY is_distributor ORDER BY monetary, partner_id) m0
                             FROM ds_partner_rfm WHERE company_id = %s) t""",
                self.company.id,
            )
        )
        return {row[0]: (row[1:4], row[4:7]) for row in self.env.cr.fetchall()}

    def test_rfm_quintiles_match_ntile_with_ties_and_remainders(self):
        # 5 customers + 23 more (28 = 5 x 5 + 3: uneven quintiles), many equal values; the
        # distributors stay a population of 2 (fewer rows than quintiles)
        partners = self._bulk_partners(23, "Tie")
        rows = []
        for i, pid in enumerate(partners.ids):
            for k in range(1 + i % 3):
                rows.append(
                    (
                        pid,
                        date(2026, 6, 1) - timedelta(days=30 * (i % 4) + k),
                        10.0 * (i % 5),
                        0.0,
                    )
                )
        self._bulk_moves(rows)
        self.env["ds.partner.rfm"]._refresh_company(self.company, date_to=self.today)
        reference = self._ntile_reference()
        self.assertGreaterEqual(len(reference), 30)
        for partner_id, (scores, expected) in reference.items():
            self.assertEqual(scores, expected, f"partner {partner_id}")
        scores = {reference[pid][0] for pid in partners.ids}
        self.assertGreater(
            len(scores), 3, "the bulk partners spread over several scores"
        )

    def _seg(self, **vals):
        seg = self.env["ds.segment"].create({"name": "S", **vals})
        seg.action_refresh()
        return seg

    def test_segment_rfm_and_type(self):
        seg = self._seg(r_score_min=4, partner_type="customer")
        self.assertEqual(seg.member_ids.partner_id, self.a | self.b)
        self.assertEqual(seg.member_count, 2)
        self.assertEqual(seg.preview_count, 2)
        self.assertEqual(seg.preview_member_ids, self.a | self.b)
        self.assertEqual(
            self._seg(rfm_band="lost", partner_type="customer").member_ids.partner_id,
            self.d,
        )
        self.assertEqual(
            self._seg(partner_type="distributor").member_ids.partner_id,
            self.dist_1.partner_id | self.dist_2.partner_id,
        )

    def test_segment_domain_region_zip(self):
        seg = self._seg(
            domain=repr([("name", "in", ["Alice", "Bob", "Carol"])]), zip_prefixes="75"
        )
        self.assertEqual(seg.member_ids.partner_id, self.a | self.c)
        self.assertEqual(
            self._seg(country_ids=[(6, 0, self.fr.ids)]).member_ids.partner_id, self.a
        )

    def test_segment_category_rank_tenure_recruits(self):
        self.assertEqual(
            self._seg(
                category_ids=[(6, 0, self.categ_beauty.ids)], category_days=3650
            ).member_ids.partner_id,
            self.c,
            "child categories count",
        )
        self.assertEqual(
            self._seg(rank_ids=[(6, 0, self.rank_2.ids)]).member_ids.partner_id,
            self.dist_2.partner_id,
        )
        self.assertEqual(
            self._seg(
                partner_type="distributor", new_recruit_days=30
            ).member_ids.partner_id,
            self.dist_1.partner_id,
        )
        self.assertEqual(
            self._seg(
                partner_type="distributor", tenure_min_months=12
            ).member_ids.partner_id,
            self.dist_2.partner_id,
        )

    def test_segment_activity_over_periods(self):
        Period = self.env["ds.period"]
        start = date.today().replace(day=1)
        periods = Period
        for i in (3, 2, 1):
            first = (start - timedelta(days=31 * i)).replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            periods |= Period.create(
                {"name": f"P{i}", "date_from": first, "date_to": last}
            )
        for period in periods:
            self.env["ds.volume"].create(
                [
                    {
                        "distributor_id": self.dist_1.id,
                        "period_id": period.id,
                        "pv": 100,
                        "is_active": True,
                        "company_id": self.company.id,
                    },
                    {
                        "distributor_id": self.dist_2.id,
                        "period_id": period.id,
                        "pv": 0,
                        "is_active": False,
                        "company_id": self.company.id,
                    },
                ]
            )
        self.assertEqual(
            self._seg(activity="active", activity_periods=3).member_ids.partner_id,
            self.dist_1.partner_id,
        )
        self.assertEqual(
            self._seg(activity="inactive", activity_periods=3).member_ids.partner_id,
            self.dist_2.partner_id,
        )

    def test_segment_refresh_replaces_snapshot(self):
        seg = self._seg(r_score_min=4, partner_type="customer")
        seg.r_score_min = 5
        self.assertEqual(seg.member_count, 2, "snapshot unchanged until refreshed")
        self.assertEqual(seg.preview_count, 1)
        seg.action_refresh()
        self.assertEqual(seg.member_ids.partner_id, self.b)
        self.assertEqual(seg.member_count, 1)

    def test_segment_refresh_writes_only_differences(self):
        seg = self._seg(r_score_min=4, partner_type="customer")
        kept = self.env["ds.segment.member"].search(
            [("segment_id", "=", seg.id), ("partner_id", "=", self.a.id)]
        )
        seg.write({"r_score_min": 3})
        seg.action_refresh()
        self.assertEqual(seg.member_ids.partner_id, self.a | self.b | self.e)
        self.assertEqual(seg.member_count, 3)
        self.assertIn(kept, seg.member_ids, "an unchanged member keeps its row")
        seg.write({"r_score_min": 5})
        seg.action_refresh()
        self.assertEqual(seg.member_ids.partner_id, self.b)
        self.assertFalse(kept.exists())

    def test_segment_bad_input(self):
        with self.assertRaises(ValidationError):
            self.env["ds.segment"].create(
                {"name": "Bad", "domain": "[('no_such_field', '=', 1)]"}
            )
        with self.assertRaises(ValidationError):
            self.env["ds.segment"].create({"name": "Bad score", "r_score_min": 7})
