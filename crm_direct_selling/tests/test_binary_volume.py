"""ds.binary.volume worked by hand: legs from the placement subtree, carry in / out with its cap,
qualification by personally sponsored active legs, flush after inactive periods, rate and
cycle pairing, a refund, computed by the volume step of the period."""

from datetime import date

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DsNetworkCommon


@tagged("post_install", "-at_install")
class TestBinaryVolume(DsNetworkCommon):
    """Placement tree (binary plan) and sponsors:

        R                      sponsors: A, B by R; C, D by A; E by B
        ├─1 A
        │   ├─1 C
        │   └─2 D
        └─2 B
            └─1 E

    Active minimum PV 100. PV per period (invoices of the period):

        period  R    A    B    C    D    E
        P1      100  100  100  200  50   300
        P2      100  0    100  100  100  0
        P3      100  0    100  0    0    0
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan = cls.env["ds.plan"].create(
            {
                "name": "Binary plan",
                "placement_rule": "manual",
                "placement_type": "binary",
                "holding_days": 30,
                "binary_rate": 10.0,
                "binary_carry_max": 250.0,
                "binary_flush_periods": 2,
                "binary_requires_sponsored_legs": True,
            }
        )
        cls.company.ds_placement_plan_id = cls.plan
        d = cls._ds_create_distributor
        cls.r = d("R")
        cls.a = d("A", cls.r)
        cls.b = d("B", cls.r)
        cls.c = d("C", cls.a)
        cls.dd = d("D", cls.a)
        cls.e = d("E", cls.b)
        for dist, parent, slot in (
            (cls.a, cls.r, 1),
            (cls.b, cls.r, 2),
            (cls.c, cls.a, 1),
            (cls.dd, cls.a, 2),
            (cls.e, cls.b, 1),
        ):
            dist.action_place(parent, slot=slot, reason="worked example")
        cls.p1 = cls._ds_create_period(date(2026, 1, 1), date(2026, 1, 31))
        cls.p2 = cls._ds_create_period(date(2026, 2, 1), date(2026, 2, 28))
        cls.p3 = cls._ds_create_period(date(2026, 3, 1), date(2026, 3, 31))
        pv = {
            cls.p1: {"r": 100, "a": 100, "b": 100, "c": 200, "dd": 50, "e": 300},
            cls.p2: {"r": 100, "b": 100, "c": 100, "dd": 100},
            cls.p3: {"r": 100, "b": 100},
        }
        for period, amounts in pv.items():
            for name, volume in amounts.items():
                lines = [(cls.product_pv100, volume // 100)] if volume // 100 else []
                if volume % 100:
                    lines.append((cls.product_pv10, (volume % 100) // 10))
                cls._ds_invoice(getattr(cls, name), period.date_from, lines)

    def _rows(self, period):
        rows = self.env["ds.binary.volume"].search([("period_id", "=", period.id)])
        return {
            row.distributor_id: (
                row.left_volume,
                row.right_volume,
                row.left_carry_in,
                row.right_carry_in,
                row.paired_volume,
                row.left_carry_out,
                row.right_carry_out,
                row.qualified,
            )
            for row in rows
        }

    def test_worked_periods(self):
        self.p1.action_compute_volumes()
        # (left, right, carry in L, R, paired, carry out L, R, qualified)
        self.assertEqual(
            self._rows(self.p1),
            {
                # 350 : 400, sponsored active A (left) and B (right): pairs 350
                self.r: (350, 400, 0, 0, 350, 0, 50, True),
                # D (A's recruit, right leg) is inactive (50 PV): A does not qualify
                self.a: (200, 50, 0, 0, 0, 200, 50, False),
                # B has no right leg: carries 300, capped at 250
                self.b: (300, 0, 0, 0, 0, 250, 0, False),
            },
        )
        self.p2.action_compute_volumes()
        rows = self._rows(self.p2)
        self.assertEqual(
            rows,
            {
                # A inactive: R has no sponsored active distributor on the left any more
                self.r: (200, 100, 0, 50, 0, 200, 150, False),
                # inactive A carries 200+100 (capped 250) and 50+100
                self.a: (100, 100, 200, 50, 0, 250, 150, False),
                self.b: (0, 0, 250, 0, 0, 250, 0, False),
            },
        )
        a2 = self.env["ds.binary.volume"].search(
            [("period_id", "=", self.p2.id), ("distributor_id", "=", self.a.id)]
        )
        self.assertEqual(
            (a2.is_active, a2.inactive_periods, a2.flushed), (False, 1, False)
        )
        self.p3.action_compute_volumes()
        rows = self._rows(self.p3)
        # A's second inactive period in a row: the carry is flushed
        self.assertEqual(rows[self.a], (0, 0, 250, 150, 0, 0, 0, False))
        a3 = self.env["ds.binary.volume"].search(
            [("period_id", "=", self.p3.id), ("distributor_id", "=", self.a.id)]
        )
        self.assertEqual((a3.inactive_periods, a3.flushed), (2, True))
        self.assertEqual(rows[self.r], (0, 100, 200, 150, 0, 200, 250, False))

    def test_without_sponsored_legs_rule(self):
        self.plan.binary_requires_sponsored_legs = False
        self.p1.action_compute_volumes()
        rows = self._rows(self.p1)
        self.assertEqual(rows[self.r], (350, 400, 0, 0, 350, 0, 50, True))
        # active A pairs its weak leg: 50
        self.assertEqual(rows[self.a], (200, 50, 0, 0, 50, 150, 0, True))
        self.assertEqual(rows[self.b], (300, 0, 0, 0, 0, 250, 0, True))

    def test_cycles(self):
        self.plan.write(
            {
                "binary_requires_sponsored_legs": False,
                "binary_cycle_left": 100.0,
                "binary_cycle_right": 200.0,
                "binary_cycle_amount": 25.0,
            }
        )
        self.p1.action_compute_volumes()
        rows = self.env["ds.binary.volume"].search([("period_id", "=", self.p1.id)])
        by = {row.distributor_id: row for row in rows}
        # R: 350 left, 400 right: two cycles of 100:200 use 200 and 400
        self.assertEqual(
            (by[self.r].cycles, by[self.r].left_carry_out, by[self.r].right_carry_out),
            (2, 150, 0),
        )
        self.assertEqual(by[self.r].paired_volume, 200)
        # A: 200 left, 50 right: no whole cycle, everything carries
        self.assertEqual(
            (by[self.a].cycles, by[self.a].left_carry_out, by[self.a].right_carry_out),
            (0, 200, 50),
        )

    def test_refund_reduces_the_leg(self):
        """A refund of E's purchase in the period takes its PV out of B's and R's legs."""
        refund = self._ds_invoice(
            self.e, self.p1.date_from, [(self.product_pv100, 1)], move_type="out_refund"
        )
        self.assertTrue(refund)
        self.p1.action_compute_volumes()
        rows = self._rows(self.p1)
        self.assertEqual(rows[self.b][:2], (200, 0))
        self.assertEqual(rows[self.r][:2], (350, 300))
        self.assertEqual(rows[self.r][4:7], (300, 50, 0))

    def test_closed_period_and_no_plan(self):
        self.company.ds_placement_plan_id = False
        self.p1.action_compute_volumes()
        self.assertFalse(self._rows(self.p1))
        self.company.ds_placement_plan_id = self.plan
        self.p1.sudo().state = "closed"
        with self.assertRaisesRegex(UserError, "is closed"):
            self.env["ds.binary.volume"]._ds_compute(self.p1)
