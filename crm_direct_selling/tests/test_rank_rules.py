"""The rank rules as the plan documentation states them (readme "Rank and bonus rules"),
with numbers worked by hand: capped GV over real legs only, terminated distributors are
never legs, suspended distributors earn nothing and keep their rank history."""

import json
from datetime import date

from odoo import Command
from odoo.tests import HttpCase, tagged

from .bonus_common import BonusCommon
from .common import DsNetworkCommon


@tagged("post_install", "-at_install")
class TestRankRulesVolume(DsNetworkCommon):
    """Ladder of common.py: Member (no requirement), Bronze (PV 100, GV 300), Silver (PV 100,
    GV 1000, 2 Bronze legs, leg cap 60 %); products PV100 (PV 100) and PV10 (PV 10)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.feb = cls._ds_create_period(date(2026, 2, 1), date(2026, 2, 28))

    def _vol(self, distributor):
        return self._ds_volume(distributor, self.feb)

    def test_no_phantom_leg(self):
        """Capped GV = own PV + sum over real legs of min(leg GV, cap): a distributor
        without frontline adds no leg cap."""
        gold = self.env["ds.rank"].create(
            {
                "name": "T-Gold",
                "sequence": 4,
                "min_pv": 100,
                "min_gv": 600,
                "max_leg_pct": 75,  # leg cap 450
                "paid_levels": 4,
            }
        )
        x = self._ds_create_distributor("X")
        self._ds_invoice(x, date(2026, 2, 3), [(self.product_pv10, 15)])  # PV 150
        self.feb.action_compute_volumes()
        vol = self._vol(x)
        self.assertEqual((vol.pv, vol.gv), (150, 150))
        # Gold: 150 + no leg = 150 < 600 (the phantom leg made it 150 + 450 = 600);
        # Bronze: GV 150 < 300; Member has no requirement
        self.assertEqual(vol.paid_rank_id, self.rank_member)
        # a real leg of 440 (uncapped, below 450): 150 + 440 = 590 < 600 -> Bronze (GV 590)
        y = self._ds_create_distributor("Y", x)
        self._ds_invoice(
            y, date(2026, 2, 4), [(self.product_pv100, 4), (self.product_pv10, 4)]
        )
        self.feb.action_compute_volumes()
        vol = self._vol(x)
        self.assertEqual(vol.gv, 590)
        self.assertEqual(vol.paid_rank_id, self.rank_bronze)
        # the leg reaches 500, capped at 450: 150 + 450 = 600 -> Gold
        self._ds_invoice(y, date(2026, 2, 5), [(self.product_pv10, 6)])
        self.feb.action_compute_volumes()
        vol = self._vol(x)
        self.assertEqual(vol.gv, 650)
        self.assertEqual(vol.paid_rank_id, gold)

    def test_terminated_member_is_no_leg(self):
        """A terminated frontline member never qualifies a leg, with or without a leg rank;
        their volume of the period stays in their upline's GV."""
        self.rank_silver.write(
            {
                "min_gv": 0,
                "min_qualified_legs": 1,
                "leg_rank_id": self.rank_member.id,  # a rank without requirements
                "max_leg_pct": 0,
            }
        )
        a = self._ds_create_distributor("A")
        t = self._ds_create_distributor("T", a)
        self._ds_invoice(a, date(2026, 2, 3), [(self.product_pv100, 1)])  # PV 100
        t.action_terminate(reason="test")
        self.feb.action_compute_volumes()
        vol = self._vol(a)
        # Silver needs one leg holding a Member: T is terminated, A has no leg; Bronze needs
        # GV 300 > 100: A is Member
        self.assertEqual((vol.pv, vol.gv), (100, 100))
        self.assertEqual(vol.paid_rank_id, self.rank_member)
        self.assertFalse(
            self._vol(t), "a terminated distributor without volume has no row"
        )
        # T's PV 200 invoiced in the period counts in A's GV: 100 + 200 = 300 -> Bronze,
        # still no leg for Silver
        self._ds_invoice(t, date(2026, 2, 4), [(self.product_pv100, 2)])
        self.feb.action_compute_volumes()
        vol, vol_t = self._vol(a), self._vol(t)
        self.assertEqual(vol.gv, 300)
        self.assertEqual(vol.paid_rank_id, self.rank_bronze)
        self.assertEqual(vol.qualified_legs, 0, "legs for Silver (next rank)")
        self.assertEqual((vol_t.pv, vol_t.gv), (200, 200))
        self.assertFalse(vol_t.paid_rank_id, "a terminated distributor has no rank")
        self.assertFalse(vol_t.is_active)
        # without a leg rank a leg qualifies by its group volume: not a terminated one
        self.rank_silver.leg_rank_id = False
        self.feb.action_compute_volumes()
        self.assertEqual(self._vol(a).paid_rank_id, self.rank_bronze)
        # a live member with the same volume is a leg: A becomes Silver
        u = self._ds_create_distributor("U", a)
        self._ds_invoice(u, date(2026, 2, 4), [(self.product_pv10, 1)])
        self.feb.action_compute_volumes()
        vol = self._vol(a)
        self.assertEqual(vol.gv, 310)
        self.assertEqual(vol.paid_rank_id, self.rank_silver)


@tagged("post_install", "-at_install")
class TestRankRulesBonus(BonusCommon):
    """Suspended distributors earn nothing while suspended; their rank history is not
    consumed; fast start, negative BV and clawbacks as the readme states. Ladder of bonus_common.py: Bronze PV 100 (1 level), Silver PV 200, Gold PV 300.

    Network: U (root) <- S; customer Z referred by S."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.u = cls._distributor("U")
        cls.s = cls._distributor("S", cls.u)
        cls.z = cls.env["res.partner"].create(
            {"name": "Customer Z", "ds_referrer_id": cls.s.id}
        )
        # retail 10 % of BV, unilevel 10 % on level 1, Silver advancement 10.00
        cls.plan = cls._plan(
            name="Rank rules",
            fast_start_rate=0.0,
            payout_cap_pct=0.0,
            min_payout=0.0,
            matching_generation_ids=False,
            level_ids=[Command.create({"level": 1, "rate": 10.0})],
        )
        # January: U 100 (Bronze), S 200 + Z 50 = PV 250 (Silver)
        cls._invoice(cls.u.partner_id, 100, date(2026, 1, 10))
        cls._invoice(cls.s.partner_id, 200, date(2026, 1, 10))
        cls._invoice(cls.z, 50, date(2026, 1, 11))

    def _computed(self, period):
        run = self._run(period, self.plan)
        run.action_compute()
        return run

    def test_suspended_in_period_keeps_rank_history(self):
        self.s.action_suspend()
        self.jan.action_close()
        vol = self.env["ds.volume"].search(
            [("distributor_id", "=", self.s.id), ("period_id", "=", self.jan.id)]
        )
        # closing does not consume S's rank history
        self.assertFalse(self.s.highest_rank_id)
        self.assertFalse(self.s.rank_id)
        # the rank S qualifies for is shown, but not recognised as a new rank
        self.assertEqual(vol.paid_rank_id, self.silver)
        self.assertFalse(vol.new_rank)
        self.assertEqual(vol.distributor_state, "suspended")
        # January: S earns nothing (no retail 5.00, no Silver 10.00); U earns 10 % of 250
        jan = self._computed(self.jan)
        self.assertEqual(
            self._line_tuples(jan),
            [("U", "unilevel", "S", 1, 250.0, 10.0, 25.0, False)],
        )
        # reinstated, S reaches Silver in February: first time in good standing, paid once
        self.s.action_reactivate()
        self._invoice(self.u.partner_id, 100, date(2026, 2, 10))
        self._invoice(self.s.partner_id, 200, date(2026, 2, 10))
        feb = self._computed(self.feb)
        self.assertEqual(
            self._line_tuples(feb),
            [
                ("S", "rank_advancement", "S", 0, 10.0, 100.0, 10.0, False),
                ("U", "unilevel", "S", 1, 200.0, 10.0, 20.0, False),
            ],
        )
        self.feb.action_close()
        self.assertEqual(self.s.highest_rank_id, self.silver)

    def test_suspended_after_close_is_held_not_lost(self):
        """Earned in good standing (at the close), suspended when the run is computed: the
        earnings are held (carried forward), not lost, and paid once reinstated."""
        self.jan.action_close()
        self.assertEqual(self.s.highest_rank_id, self.silver)
        self.s.action_suspend()
        jan = self._computed(self.jan)
        self.assertEqual(
            self._line_tuples(jan),
            [
                ("S", "rank_advancement", "S", 0, 10.0, 100.0, 10.0, True),
                ("S", "retail", "S", 0, 50.0, 10.0, 5.0, True),
                ("U", "unilevel", "S", 1, 250.0, 10.0, 25.0, False),
            ],
        )
        self.assertAlmostEqual(jan.total_amount, 25.0)
        self.assertAlmostEqual(jan.amount_carried_out, 15.0)
        jan.action_approve()
        jan.action_post()
        self.assertEqual(jan.move_ids.partner_id, self.u.partner_id)
        # still suspended in February: held again
        feb = self._computed(self.feb)
        self.assertEqual(
            self._line_tuples(feb),
            [("S", "carry_forward", "", 0, 15.0, 100.0, 15.0, True)],
        )
        # reinstated before the February run is recomputed: paid
        self.s.action_reactivate()
        feb.action_compute()
        self.assertEqual(
            self._line_tuples(feb),
            [("S", "carry_forward", "", 0, 15.0, 100.0, 15.0, False)],
        )

    def test_terminated_forfeits_held_earnings(self):
        """A distributor terminated after the close: the period's earnings are held, and the
        next run forfeits them (a terminated distributor is never paid)."""
        self.jan.action_close()
        self.s.action_terminate(reason="test")
        jan = self._computed(self.jan)
        self.assertEqual(
            [t[:2] + t[-1:] for t in self._line_tuples(jan)],
            [
                ("S", "rank_advancement", True),
                ("S", "retail", True),
                ("U", "unilevel", False),
            ],
        )
        jan.action_approve()
        jan.action_post()
        feb = self._computed(self.feb)
        self.assertFalse(feb.line_ids, "no carry forward to a terminated distributor")

    def test_fast_start_counts_invoices_before_enrolment(self):
        """The window is "invoiced before enrolment + N days", with no lower bound."""
        plan = self._plan(
            name="Fast start",
            retail_mode="none",
            fast_start_rate=20.0,
            fast_start_days=30,
            payout_cap_pct=0.0,
            min_payout=0.0,
            rank_bonus_ids=False,
            matching_generation_ids=False,
            level_ids=False,
        )
        r = self._distributor("R", self.u, enrolled=date(2026, 1, 15))
        self._invoice(r.partner_id, 100, date(2026, 1, 12))  # before the enrolment date
        self._invoice(r.partner_id, 50, date(2026, 1, 20))
        run = self._run(self.jan, plan)
        run.action_compute()
        # 20 % of 100 + 50 to the sponsor U (active: PV 100)
        self.assertEqual(
            self._line_tuples(run),
            [("U", "fast_start", "R", 1, 150.0, 20.0, 30.0, False)],
        )

    def test_negative_bv_nets_and_carries_forward(self):
        """A refund beyond the month's purchases: negative PV/GV, negative unilevel lines,
        the earner's negative total carried forward and recovered from later earnings."""
        plan = self._levels_plan("Levels", [10.0])
        mar = self.env["ds.period"].create(
            {
                "name": "2026-03",
                "date_from": date(2026, 3, 1),
                "date_to": date(2026, 3, 31),
                "company_id": self.company.id,
            }
        )
        s_jan = self.env["account.move"].search(
            [
                ("partner_id", "=", self.s.partner_id.id),
                ("move_type", "=", "out_invoice"),
            ]
        )
        self.jan.action_close()
        # February: S refunds 200 of January (no posted run paid it: an ordinary deduction
        # of February) and buys nothing; U buys 100
        self._refund(s_jan, 200, date(2026, 2, 5))
        self._invoice(self.u.partner_id, 100, date(2026, 2, 10))
        feb = self._run(self.feb, plan)
        feb.action_compute()
        vol_s = self.env["ds.volume"].search(
            [("distributor_id", "=", self.s.id), ("period_id", "=", self.feb.id)]
        )
        vol_u = self.env["ds.volume"].search(
            [("distributor_id", "=", self.u.id), ("period_id", "=", self.feb.id)]
        )
        self.assertEqual((vol_s.pv, vol_s.bv, vol_s.gv), (-200, -200, -200))
        self.assertFalse(vol_s.is_active)
        self.assertEqual(vol_u.gv, -100, "100 own - 200 of the leg")
        # U (Bronze, 1 level): 10 % of -200 = -20.00, total <= 0: carried forward
        self.assertEqual(
            self._line_tuples(feb),
            [("U", "unilevel", "S", 1, -200.0, 10.0, -20.0, True)],
        )
        self.feb.action_close()
        feb.action_approve()
        feb.action_post()
        self.assertFalse(feb.move_ids)
        # March: S buys 300 -> U earns 30.00, less the -20.00 carried: 10.00 paid
        self._invoice(self.u.partner_id, 100, date(2026, 3, 10))
        self._invoice(self.s.partner_id, 300, date(2026, 3, 10))
        run = self._run(mar, plan)
        run.action_compute()
        self.assertEqual(
            self._line_tuples(run),
            [
                ("U", "carry_forward", "", 0, -20.0, 100.0, -20.0, False),
                ("U", "unilevel", "S", 1, 300.0, 10.0, 30.0, False),
            ],
        )
        self.assertAlmostEqual(run.total_amount, 10.0)

    def test_clawback_reaches_unilevel_not_rank_advancement(self):
        """January paid S a Silver advancement and U 10 % of S's 250 BV; S's 200-BV invoice
        is refunded in February: U gives back 25.00 x 200 / 250 = 20.00; S's rank
        advancement and retail (on customer Z's BV) are not reached."""
        s_jan = self.env["account.move"].search(
            [
                ("partner_id", "=", self.s.partner_id.id),
                ("move_type", "=", "out_invoice"),
            ]
        )
        self.jan.action_close()
        jan = self._computed(self.jan)
        self.assertEqual(
            self._line_tuples(jan),
            [
                ("S", "rank_advancement", "S", 0, 10.0, 100.0, 10.0, False),
                ("S", "retail", "S", 0, 50.0, 10.0, 5.0, False),
                ("U", "unilevel", "S", 1, 250.0, 10.0, 25.0, False),
            ],
        )
        jan.action_approve()
        jan.action_post()
        self._refund(s_jan, 200, date(2026, 2, 5))
        self._invoice(self.u.partner_id, 300, date(2026, 2, 10))  # U: Gold, +25.00
        feb = self._computed(self.feb)
        self.assertEqual(
            self._line_tuples(feb),
            [
                ("U", "adjustment", "S", 1, -200.0, 10.0, -20.0, False),
                ("U", "rank_advancement", "U", 0, 25.0, 100.0, 25.0, False),
            ],
        )


@tagged("post_install", "-at_install")
class TestRankRulesHttp(BonusCommon, HttpCase):
    """The suspended rule through the doors a manager uses: the buttons over JSON-RPC."""

    def _rpc(self, path, params):
        response = self.url_open(
            path,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}),
            headers={"Content-Type": "application/json"},
        )
        body = response.json()
        self.assertNotIn("error", body, body.get("error"))
        return body["result"]

    def _button(self, model, method, ids):
        return self._rpc(
            "/web/dataset/call_button",
            {"model": model, "method": method, "args": [ids], "kwargs": {}},
        )

    def test_suspend_close_compute_by_buttons(self):
        self.env.ref("base.user_admin").write(
            {
                "company_ids": [Command.link(self.company.id)],
                "company_id": self.company.id,
                "groups_id": [
                    Command.link(
                        self.env.ref("crm_direct_selling.group_ds_manager").id
                    ),
                    Command.link(self.env.ref("account.group_account_manager").id),
                ],
            }
        )
        u = self._distributor("U")
        s = self._distributor("S", u)
        self._invoice(u.partner_id, 100, date(2026, 1, 10))  # U: Bronze
        self._invoice(s.partner_id, 200, date(2026, 1, 10))  # S: Silver
        plan = self._plan(
            name="Buttons",
            retail_mode="none",
            fast_start_rate=0.0,
            payout_cap_pct=0.0,
            min_payout=0.0,
            matching_generation_ids=False,
            level_ids=[Command.create({"level": 1, "rate": 10.0})],
        )
        self.authenticate("admin", "admin")
        self._button("ds.distributor", "action_suspend", [s.id])
        self._button("ds.period", "action_close", [self.jan.id])
        self.assertFalse(s.highest_rank_id, "the close does not consume S's Silver")
        run_id = self._rpc(
            "/web/dataset/call_kw/ds.bonus.run/create",
            {
                "model": "ds.bonus.run",
                "method": "create",
                "args": [
                    {
                        "period_id": self.jan.id,
                        "plan_id": plan.id,
                        "date": "2026-01-31",
                    }
                ],
                "kwargs": {},
            },
        )
        self._button("ds.bonus.run", "action_compute", [run_id])
        run = self.env["ds.bonus.run"].browse(run_id)
        # S (suspended) earns no Silver advancement; U earns 10 % of S's 200
        self.assertEqual(
            self._line_tuples(run),
            [("U", "unilevel", "S", 1, 200.0, 10.0, 20.0, False)],
        )
        self._button("ds.distributor", "action_reactivate", [s.id])
        self._invoice(s.partner_id, 200, date(2026, 2, 10))
        self._button("ds.period", "action_close", [self.feb.id])
        self.assertEqual(s.highest_rank_id, self.silver)
