"""Binary and matrix bonus types worked by hand (like the worked unilevel plan of
test_bonus_plan.py): placement, pairing, cycles, cap, qualification, carry into the next
period, matching on binary earnings, a refund taken back; matrix levels, compression, depth."""

from datetime import date

from odoo import Command
from odoo.tests import tagged

from .bonus_common import BonusCommon


class PlacementBonusCommon(BonusCommon):
    @classmethod
    def _placement_plan(cls, **vals):
        base = {
            "name": "Placement plan",
            "retail_mode": "none",
            "fast_start_rate": 0.0,
            "payout_cap_pct": 0.0,
            "min_payout": 0.0,
            "rank_bonus_ids": False,
            "matching_generation_ids": False,
            "matching_rank_id": False,
            "level_ids": False,
            "holding_days": 30,
            "placement_rule": "manual",
        }
        base.update(vals)
        plan = cls._plan(**base)
        cls.company.ds_placement_plan_id = plan
        return plan

    def _close_and_run(self, period, plan=None):
        period.action_close()
        run = self._run(period, plan or self.plan)
        run.action_compute()
        return run


@tagged("post_install", "-at_install")
class TestBinaryBonus(PlacementBonusCommon):
    """Placement (binary) and sponsors:

        R                      sponsors: A, B by R; C, D by A; E by B
        ├─1 A
        │   ├─1 C
        │   └─2 D
        └─2 B
            └─1 E

    January BV (= PV): R 100, A 100, B 100, C 200, D 100, E 300.
    Legs: R 400 : 400, A 200 : 100, B 300 : 0.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan = cls._placement_plan(
            binary_rate=10.0,
            matching_rank_id=cls.bronze.id,
            matching_generation_ids=[Command.create({"generation": 1, "rate": 10.0})],
        )
        d = {}
        for name, sponsor in (
            ("R", None),
            ("A", "R"),
            ("B", "R"),
            ("C", "A"),
            ("D", "A"),
            ("E", "B"),
        ):
            d[name] = cls._distributor(name, d.get(sponsor))
        for name, parent, slot in (
            ("A", "R", 1),
            ("B", "R", 2),
            ("C", "A", 1),
            ("D", "A", 2),
            ("E", "B", 1),
        ):
            d[name].action_place(d[parent], slot=slot, reason="worked binary plan")
        cls.d = d
        cls.jan_invoices = {}
        for name, bv in {
            "R": 100,
            "A": 100,
            "B": 100,
            "C": 200,
            "D": 100,
            "E": 300,
        }.items():
            cls.jan_invoices[name] = cls._invoice(
                d[name].partner_id, bv, date(2026, 1, 20)
            )

    def test_01_rate_pairing_and_matching(self):
        run = self._close_and_run(self.jan)
        self.assertEqual(
            self._line_tuples(run),
            sorted(
                [
                    # R pairs 400 of 400:400 at 10 %
                    ("R", "binary", "R", 0, 400.0, 10.0, 40.0, False),
                    # A pairs its weak leg, 100 of 200:100
                    ("A", "binary", "A", 0, 100.0, 10.0, 10.0, False),
                    # leadership matching on A's binary earnings, generation 1
                    ("R", "matching", "A", 1, 10.0, 10.0, 1.0, False),
                ]
            ),
        )
        self.assertAlmostEqual(run.total_amount, 51.0)

    def test_02_pairing_cap(self):
        self.plan.binary_cap = 25.0
        run = self._close_and_run(self.jan)
        lines = {(t[0], t[1]): t[6] for t in self._line_tuples(run)}
        self.assertEqual(lines[("R", "binary")], 25.0)
        self.assertEqual(lines[("A", "binary")], 10.0)

    def test_03_cycles(self):
        self.plan.write(
            {
                "binary_cycle_left": 100.0,
                "binary_cycle_right": 100.0,
                "binary_cycle_amount": 15.0,
            }
        )
        run = self._close_and_run(self.jan)
        lines = {(t[0], t[1]): t for t in self._line_tuples(run)}
        # R: 4 cycles of 100:100; A: 1 (200:100)
        self.assertEqual(lines[("R", "binary")][4:7], (60.0, 100.0, 60.0))
        self.assertEqual(lines[("A", "binary")][4:7], (15.0, 100.0, 15.0))

    def test_04_qualification(self):
        """With a personally sponsored active distributor required on each side: D (A's
        recruit on A's right) buys 50 only, so A does not qualify; R does (A and B)."""
        self.plan.binary_requires_sponsored_legs = True
        self._refund(self.jan_invoices["D"], 50, date(2026, 1, 25))
        run = self._close_and_run(self.jan)
        lines = {(t[0], t[1]): t[6] for t in self._line_tuples(run)}
        self.assertNotIn(("A", "binary"), lines)
        self.assertEqual(lines[("R", "binary")], 35.0)  # 350 : 400

    def test_05_carry_into_february_and_refund(self):
        self._close_and_run(self.jan)
        d = self.d
        for name, bv in {"R": 100, "A": 100, "D": 200, "B": 100}.items():
            self._invoice(d[name].partner_id, bv, date(2026, 2, 10))
        # a refund in February of E's January purchase (100 of 300): taken out of the
        # legs of February (R's right leg, B's left leg)
        self._refund(self.jan_invoices["E"], 100, date(2026, 2, 12))
        run = self._close_and_run(self.feb)
        lines = {(t[0], t[1]): t for t in self._line_tuples(run)}
        # A: carried 100 left + 0 new : 200 right -> pairs 100
        self.assertEqual(lines[("A", "binary")][4:7], (100.0, 10.0, 10.0))
        # R: 300 left (A 100 + D 200) : B 100 - E 100 = 0 right -> nothing paired
        self.assertNotIn(("R", "binary"), lines)
        vol = self.env["ds.binary.volume"].search(
            [("period_id", "=", self.feb.id), ("distributor_id", "=", d["R"].id)]
        )
        self.assertEqual(
            (vol.left_volume, vol.right_volume, vol.left_carry_out), (300, 0, 300)
        )


@tagged("post_install", "-at_install")
class TestMatrixBonus(PlacementBonusCommon):
    """A forced 3-wide matrix filled breadth-first (first open slot, spillover):

        R: A B C          (R's recruits A..E, G; A's recruit F)
        A: D E F          D, E spill under A; F is A's own recruit
        B: G              G spills under B (R and A are full)

    January BV: R 100, A 100, B 50 (inactive), C 100, D 200, E 100, F 100, G 100.
    Levels: 1 at 10 %, 2 at 5 %.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan = cls._placement_plan(
            placement_type="matrix",
            placement_rule="first_open",
            holding_days=0,
            matrix_width=3,
            matrix_depth=2,
            matrix_level_ids=[
                Command.create({"level": 1, "rate": 10.0}),
                Command.create({"level": 2, "rate": 5.0}),
            ],
        )
        d = {}
        for name, sponsor in (
            ("R", None),
            ("A", "R"),
            ("B", "R"),
            ("C", "R"),
            ("D", "R"),
            ("E", "R"),
            ("F", "A"),
            ("G", "R"),
        ):
            d[name] = cls._distributor(name, d.get(sponsor))
        cls.d = d
        bvs = {
            "R": 100,
            "A": 100,
            "B": 50,
            "C": 100,
            "D": 200,
            "E": 100,
            "F": 100,
            "G": 100,
        }
        for name, bv in bvs.items():
            cls._invoice(d[name].partner_id, bv, date(2026, 1, 20))

    def test_01_spillover_placement(self):
        d = self.d
        where = {
            n: (x.placement_parent_id.name, x.placement_slot)
            for n, x in d.items()
            if n != "R"
        }
        self.assertEqual(
            where,
            {
                "A": ("R", 1),
                "B": ("R", 2),
                "C": ("R", 3),
                "D": ("A", 1),
                "E": ("A", 2),
                "F": ("A", 3),
                "G": ("B", 1),
            },
        )

    def _totals(self, run):
        totals = {}
        for line in run.line_ids.filtered(lambda ln: ln.bonus_type == "matrix"):
            totals[line.distributor_id.name] = (
                totals.get(line.distributor_id.name, 0) + line.amount
            )
        return {k: round(v, 2) for k, v in totals.items()}

    def test_02_levels(self):
        run = self._close_and_run(self.jan)
        # A: D 20 + E 10 + F 10; R: level 1 A 10, B 5, C 10; level 2 D 10, E 5, F 5, G 5
        self.assertEqual(self._totals(run), {"A": 40.0, "R": 50.0})
        line = run.line_ids.filtered(
            lambda ln: (
                ln.bonus_type == "matrix"
                and ln.distributor_id == self.d["R"]
                and ln.source_distributor_id == self.d["G"]
            )
        )
        self.assertEqual(
            (line.level, line.base, line.rate, line.amount), (2, 100.0, 5.0, 5.0)
        )

    def test_03_compression(self):
        """B is inactive: compressed, R is G's first matrix level (10 % instead of 5 %)."""
        self.plan.matrix_compression = True
        run = self._close_and_run(self.jan)
        self.assertEqual(self._totals(run), {"A": 40.0, "R": 55.0})

    def test_04_depth_limit(self):
        self.plan.matrix_depth = 1
        run = self._close_and_run(self.jan)
        self.assertEqual(self._totals(run), {"A": 40.0, "R": 25.0})
