from datetime import date

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DsNetworkCommon


@tagged("post_install", "-at_install")
class TestDsVolume(DsNetworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls._ds_create_tree(
            [("A", None), ("B", "A"), ("C", "A"), ("D", "B"), ("E", "C")]
        )
        cls.a, cls.b, cls.c, cls.d, cls.e = (t[k] for k in "ABCDE")
        cls.retail = cls.env["res.partner"].create(
            {"name": "Retail R", "ds_referrer_id": cls.d.id}
        )
        cls.jan = cls._ds_create_period(date(2026, 1, 1), date(2026, 1, 31))
        cls.feb = cls._ds_create_period(date(2026, 2, 1), date(2026, 2, 28))

    def _jan_invoices(self):
        p100, p10 = self.product_pv100, self.product_pv10
        self._ds_invoice(self.a, date(2026, 1, 5), [(p100, 1)])
        self._ds_invoice(self.b, date(2026, 1, 6), [(p100, 2)])
        self._ds_invoice(self.d, date(2026, 1, 7), [(p10, 1)])
        self._ds_invoice(self.retail, date(2026, 1, 8), [(p100, 1)])
        inv_c = self._ds_invoice(self.c, date(2026, 1, 9), [(p100, 3)])
        self._ds_refund(inv_c, date(2026, 1, 20))
        self._ds_invoice(self.e, date(2026, 1, 10), [(p100, 4)])

    def test_points_on_lines_and_attribution(self):
        inv = self._ds_invoice(
            self.retail,
            date(2026, 1, 8),
            [(self.product_pv100, 2), (self.product_pv10, 3)],
        )
        self.assertEqual(inv.ds_pv_total, 230.0)
        self.assertEqual(inv.ds_bv_total, 175.0)
        self.assertEqual(
            inv.ds_distributor_id, self.d, "retail purchase credited to the referrer"
        )
        self.assertEqual(inv.ds_period_id, self.jan)
        refund = self._ds_refund(inv, date(2026, 2, 3))
        self.assertEqual(refund.ds_pv_total, -230.0, "refund lines are negative")
        self.assertEqual(
            sorted(refund.invoice_line_ids.mapped("ds_bv")), [-160.0, -15.0]
        )
        self.assertEqual(refund.ds_distributor_id, self.d)
        self.assertEqual(
            refund.ds_period_id, self.feb, "posting_period policy: deducts when posted"
        )
        own = self._ds_invoice(self.b, date(2026, 1, 8), [(self.product_pv10, 1)])
        self.assertEqual(
            own.ds_distributor_id,
            self.b,
            "a distributor's own purchase is credited to them",
        )

    def test_refund_original_period_policy(self):
        self.company.ds_refund_policy = "original_period"
        inv = self._ds_invoice(self.e, date(2026, 1, 8), [(self.product_pv100, 1)])
        refund = self._ds_refund(inv, date(2026, 2, 3))
        self.assertEqual(
            refund.ds_period_id, self.jan, "original period still open: reversed there"
        )
        inv2 = self._ds_invoice(self.e, date(2026, 1, 9), [(self.product_pv100, 1)])
        self.jan.action_close()
        refund2 = self._ds_refund(inv2, date(2026, 2, 4))
        self.assertEqual(
            refund2.ds_period_id,
            self.feb,
            "original period closed: deducted in the posting period",
        )

    def test_batch_post_assigns_each_move_its_own_distributor_and_period(self):
        """Several invoices and refunds posted in ONE action_post (as the autoship job posts
        its batch): each gets the distributor and period it gets when posted alone."""
        self.company.ds_refund_policy = "original_period"
        p100 = self.product_pv100
        origin_e = self._ds_invoice(self.e, date(2026, 1, 8), [(p100, 1)])
        moves = (
            self._ds_invoice(self.a, date(2026, 1, 5), [(p100, 1)], post=False)
            | self._ds_invoice(self.retail, date(2026, 2, 6), [(p100, 2)], post=False)
            | self._ds_invoice(self.d, date(2026, 2, 7), [(p100, 1)], post=False)
            | self._ds_refund(origin_e, date(2026, 2, 10), post=False)
            | self._ds_invoice(self.b, date(2026, 1, 9), [(p100, 1)], post=False)
        )
        moves.action_post()
        inv_a, inv_retail, inv_d, refund_e, _inv_b = moves
        self.assertEqual(
            [(m.ds_distributor_id, m.ds_period_id) for m in moves],
            [
                (self.a, self.jan),
                (self.d, self.feb),  # retail: the referrer
                (self.d, self.feb),
                (self.e, self.jan),  # original_period policy, January still open
                (self.b, self.jan),
            ],
        )
        self.assertEqual(refund_e.reversed_entry_id, origin_e)
        self.assertEqual(inv_a.ds_pv_total, 100.0)
        self.assertEqual(inv_retail.ds_pv_total, 200.0)
        self.assertEqual(inv_d.ds_pv_total, 100.0)

    def test_pv_gv_ranks_hand_checked(self):
        self._jan_invoices()
        self.jan.action_compute_volumes()
        exp = {  # pv, bv, gv, active, rank
            self.a: (100, 80, 810, True, self.rank_bronze),
            self.b: (200, 160, 310, True, self.rank_bronze),
            self.c: (0, 0, 400, False, self.rank_member),
            self.d: (110, 85, 110, True, self.rank_member),
            self.e: (400, 320, 400, True, self.rank_bronze),
        }
        for dist, (pv, bv, gv, active, rank) in exp.items():
            vol = self._ds_volume(dist, self.jan)
            self.assertEqual(len(vol), 1)
            self.assertEqual(
                (vol.pv, vol.bv, vol.gv, vol.is_active, vol.paid_rank_id),
                (pv, bv, gv, active, rank),
                dist.name,
            )
            self.assertEqual(vol.sponsor_id, dist.sponsor_id, "genealogy snapshot")
            self.assertEqual(vol.depth, dist.depth)
        vol_a = self._ds_volume(self.a, self.jan)
        self.assertEqual(vol_a.next_rank_id, self.rank_silver)
        self.assertEqual(
            vol_a.qualified_legs,
            2,
            "both legs hold a Bronze: only GV is missing for Silver",
        )
        self.assertTrue(vol_a.new_rank)
        # rerunning replaces rows, same figures
        self._ds_invoice(self.a, date(2026, 1, 25), [(self.product_pv10, 1)])
        self.jan.action_compute_volumes()
        self.assertEqual(self.Volume.search_count([("period_id", "=", self.jan.id)]), 5)
        self.assertEqual(self._ds_volume(self.a, self.jan).pv, 110)
        self.assertEqual(self._ds_volume(self.a, self.jan).gv, 820)

    def test_leg_cap_exact_threshold_and_new_rank(self):
        self._jan_invoices()
        self.jan.action_close()
        self.assertEqual(self.a.rank_id, self.rank_bronze)
        self.assertEqual(self.a.highest_rank_id, self.rank_bronze)
        p100 = self.product_pv100
        self._ds_invoice(self.a, date(2026, 2, 2), [(p100, 1)])
        self._ds_invoice(self.b, date(2026, 2, 2), [(p100, 7)])
        self._ds_invoice(self.c, date(2026, 2, 2), [(p100, 1)])
        self._ds_invoice(self.e, date(2026, 2, 2), [(p100, 2)])
        self.feb.action_compute_volumes()
        vol_a, vol_b, vol_c = (
            self._ds_volume(x, self.feb) for x in (self.a, self.b, self.c)
        )
        self.assertEqual(vol_a.gv, 1100, "GV is uncapped")
        # capped: 100 own + min(700, 60% of 1000) + min(300, 600) = 1000: exactly the Silver threshold
        self.assertEqual(vol_a.paid_rank_id, self.rank_silver)
        self.assertTrue(vol_a.new_rank, "first time Silver")
        self.assertEqual(
            vol_c.paid_rank_id, self.rank_bronze, "PV 100 / GV 300: exactly at Bronze"
        )
        self.assertEqual(vol_b.paid_rank_id, self.rank_bronze)
        self.assertFalse(vol_b.new_rank, "Bronze reached before")
        # one PV less in the capped leg and A drops to Bronze
        self.rank_silver.max_leg_pct = 55  # cap 550: 100 + 550 + 300 = 950 < 1000
        self.feb.action_compute_volumes()
        self.assertEqual(
            self._ds_volume(self.a, self.feb).paid_rank_id, self.rank_bronze
        )

    def test_new_rank_survives_reopen(self):
        """A rank first reached in a period stays new when the period is reopened and
        recomputed after its close raised the highest rank, and is not new the next period."""
        self._jan_invoices()
        self.jan.action_close()
        vol_a = self._ds_volume(self.a, self.jan)
        self.assertEqual(vol_a.paid_rank_id, self.rank_bronze)
        self.assertTrue(vol_a.new_rank)
        self.assertEqual(self.a.highest_rank_id, self.rank_bronze)
        self.jan.action_reopen()
        self.jan.action_compute_volumes()
        vol_a = self._ds_volume(self.a, self.jan)
        self.assertTrue(vol_a.new_rank, "still the first time, after the reopen")
        self.assertFalse(vol_a.prior_highest_rank_id)
        self.jan.action_close()
        self.assertTrue(self._ds_volume(self.a, self.jan).new_rank)
        self._ds_invoice(self.a, date(2026, 2, 2), [(self.product_pv100, 3)])
        self.feb.action_compute_volumes()
        vol_feb = self._ds_volume(self.a, self.feb)
        self.assertEqual(vol_feb.prior_highest_rank_id, self.rank_bronze)
        self.assertFalse(vol_feb.new_rank)

    def test_cent_thresholds(self):
        """Thresholds whose float is not a whole number of cents (1.15 * 100 = 114.999...) are
        reached exactly by volumes of that many cents, and missed by one cent less."""
        p115 = self._ds_create_product("Sample PV1.15", 1.15, 1.15, 1.15)
        t = self._ds_create_tree([("X", None), ("Y", "X")])
        self._ds_invoice(t["X"], date(2026, 2, 3), [(p115, 1)])
        self._ds_invoice(t["Y"], date(2026, 2, 3), [(p115, 1)])
        self.company.ds_active_min_pv = 1.15
        # 2.3 * 100 = 229.999... in floats
        self.rank_bronze.write({"min_pv": 1.15, "min_gv": 2.3})
        self.rank_silver.write(
            {
                "min_pv": 1.15,
                "min_gv": 2.3,
                "min_qualified_legs": 1,
                "leg_rank_id": False,
            }
        )
        self.rank_silver.max_leg_pct = 50  # leg cap 1.15: X reaches 1.15 + 1.15 = 2.30
        self.feb.action_compute_volumes()
        vol_x = self._ds_volume(t["X"], self.feb)
        self.assertEqual((vol_x.pv, vol_x.gv), (1.15, 2.3))
        self.assertTrue(vol_x.is_active)
        self.assertEqual(vol_x.paid_rank_id, self.rank_silver, "capped GV exactly 2.30")
        self.rank_silver.max_leg_pct = 49.9  # cap 1.1477: 2.2977 < 2.30
        self.feb.action_compute_volumes()
        self.assertEqual(
            self._ds_volume(t["X"], self.feb).paid_rank_id, self.rank_bronze
        )
        self.rank_bronze.min_gv = 2.31
        self.company.ds_active_min_pv = 1.16
        self.feb.action_compute_volumes()
        vol_x = self._ds_volume(t["X"], self.feb)
        self.assertFalse(vol_x.is_active, "one cent short of the active minimum")
        self.assertEqual(
            vol_x.paid_rank_id, self.rank_member, "one cent short of Bronze"
        )

    def test_one_leg_short(self):
        t = self._ds_create_tree([("X", None), ("Y", "X"), ("Z", "X")])
        p100 = self.product_pv100
        self._ds_invoice(t["X"], date(2026, 2, 3), [(p100, 4)])
        self._ds_invoice(t["Y"], date(2026, 2, 3), [(p100, 5)])  # Y: Bronze
        self._ds_invoice(
            t["Z"], date(2026, 2, 3), [(p100, 2)]
        )  # Z: GV 200 < 300, not Bronze
        self.feb.action_compute_volumes()
        vol_x = self._ds_volume(t["X"], self.feb)
        self.assertEqual(vol_x.gv, 1100)
        self.assertEqual(vol_x.qualified_legs, 1)
        self.assertEqual(
            vol_x.paid_rank_id,
            self.rank_bronze,
            "Silver needs 2 Bronze legs: one short",
        )
        self._ds_invoice(
            t["Z"], date(2026, 2, 4), [(self.product_pv10, 10)]
        )  # Z GV 300: Bronze
        self.feb.action_compute_volumes()
        vol_x = self._ds_volume(t["X"], self.feb)
        self.assertEqual(vol_x.qualified_legs, 2)
        self.assertEqual(vol_x.paid_rank_id, self.rank_silver)

    def test_period_locking(self):
        self._jan_invoices()
        self.jan.action_close()
        self.assertEqual(self.jan.state, "closed")
        before = {v.distributor_id: (v.pv, v.gv) for v in self.jan.volume_ids}
        late = self._ds_invoice(self.a, date(2026, 1, 30), [(self.product_pv100, 5)])
        self.assertEqual(
            late.ds_period_id,
            self.feb,
            "posted after the close: counts in the next open period",
        )
        with self.assertRaises(UserError):
            self.jan.action_compute_volumes()
        with self.assertRaises(UserError):
            self.jan.write({"date_to": date(2026, 1, 30)})
        self.assertEqual(
            {v.distributor_id: (v.pv, v.gv) for v in self.jan.volume_ids}, before
        )
        self.feb.action_compute_volumes()
        self.assertEqual(self._ds_volume(self.a, self.feb).pv, 500)
        # a move after the close never rewrites the closed period's snapshot
        self.d.action_move(self.a, reason="test")
        self.assertEqual(self._ds_volume(self.d, self.jan).sponsor_id, self.b)
        self.assertEqual(self._ds_volume(self.b, self.jan).gv, 310)
        # reopen (no posted bonus run depends on it) and compute again
        self.jan.action_reopen()
        self.assertEqual(self.jan.state, "open")

    def test_overlap_and_generate(self):
        from odoo.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            self._ds_create_period(date(2026, 1, 15), date(2026, 2, 14), name="overlap")
        periods = self._ds_create_months(date(2026, 1, 10), 4)
        self.assertEqual(
            periods.mapped("name"), ["2026-03", "2026-04"], "existing months skipped"
        )
        self.assertEqual(periods[0].date_to, date(2026, 3, 31))

    def test_live_current_volume(self):
        self._jan_invoices()
        live = self.a._ds_live_volume(self.jan)
        self.assertEqual((live["pv"], live["gv"]), (100.0, 810.0))
