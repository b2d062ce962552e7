from datetime import date

from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.crm_direct_selling import engine

from .bonus_common import BonusCommon

FLAT = "test_flat"


def step_flat(ctx):
    """A test-only bonus type: 1.00 to every distributor active in the period."""
    ctx.cr.execute(
        SQL(
            """INSERT INTO ds_bt_line (earner_id, bonus_type, source_id, level, base, rate, raw)
               SELECT distributor_id, %s, distributor_id, 0, 1, 100, 1
               FROM ds_bt_vol WHERE active""",
            FLAT,
        )
    )


@tagged("post_install", "-at_install")
class TestBonusEngine(BonusCommon):
    """The engine as named rules (engine/registry.py): a bonus type added by another addon
    (one registered step plus a ``selection_add`` on the line's type) is paid by the normal
    computation, capped, matched, held below the minimum payout and billed like the others.
    Network: P (Gold, 300) <- Q (Silver, 200) <- R, S (100 each), all active."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = cls._distributor("P")
        cls.q = cls._distributor("Q", cls.p)
        cls.r = cls._distributor("R", cls.q)
        cls.s = cls._distributor("S", cls.q)
        cls.simple = cls._levels_plan("Simple", [10.0, 5.0])
        for dist, bv in ((cls.p, 300), (cls.q, 200), (cls.r, 100), (cls.s, 100)):
            cls._invoice(dist.partner_id, bv, date(2026, 1, 10))

    def _add_type(self, **flags):
        """What an addon adding the type does: its step registered with the decorator and
        its value added to the selection of ds.bonus.line.bonus_type (selection_add)."""
        engine.register(FLAT, flags.pop("sequence", 45), **flags)(step_flat)
        self.addCleanup(engine.unregister, FLAT)
        field = self.env["ds.bonus.line"]._fields["bonus_type"]
        self.patch(field, "selection", [*field.selection, (FLAT, "Test Flat")])
        self.env.cr.execute(
            SQL(
                """INSERT INTO ir_model_fields_selection (field_id, value, name, sequence)
                   SELECT id, %s, '{"en_US": "Test Flat"}'::jsonb, 99
                   FROM ir_model_fields
                   WHERE model = 'ds.bonus.line' AND name = 'bonus_type'""",
                FLAT,
            )
        )
        self.env.registry.clear_cache()
        self.addCleanup(self.env.registry.clear_cache)

    def _amounts(self, run, btype):
        return {
            ln.distributor_id.name: ln.amount
            for ln in run.line_ids
            if ln.bonus_type == btype
        }

    def test_added_type_paid_held_and_billed(self):
        self._add_type()
        self.simple.min_payout = 5.0
        self.jan.action_close()
        run = self._run(self.jan, self.simple)
        run.action_compute()
        self.assertEqual(
            self._amounts(run, FLAT), {"P": 1.0, "Q": 1.0, "R": 1.0, "S": 1.0}
        )
        # P 30 + 1, Q 20 + 1 paid; R and S (1.00 each) below the minimum payout: carried
        carried = {ln.distributor_id.name for ln in run.line_ids if ln.carried_forward}
        self.assertEqual(carried, {"R", "S"})
        self.assertAlmostEqual(run.total_amount, 52.0)
        self.assertAlmostEqual(run.amount_carried_out, 2.0)
        self.assertAlmostEqual(run.amount_unilevel, 50.0)
        self.assertAlmostEqual(run.raw_amount, 54.0)
        run.action_approve()
        run.action_post()
        bill_q = run.move_ids.filtered(lambda m: m.partner_id == self.q.partner_id)
        self.assertEqual(
            sorted(
                (ln.name, ln.price_unit)
                for ln in bill_q.invoice_line_ids
                if ln.display_type == "product"
            ),
            [(f"Test Flat - {run.name}", 1.0), (f"Unilevel - {run.name}", 20.0)],
        )
        self.assertAlmostEqual(sum(run.move_ids.mapped("amount_total")), 52.0)

    def test_added_type_under_the_payout_cap(self):
        # period BV 700, cap 5 % = 35.00; capped raw: unilevel 50 + flat 4
        plan = self._levels_plan("Capped", [10.0, 5.0])
        plan.payout_cap_pct = 5.0
        self._add_type()
        run = self._run(self.jan, plan)
        run.action_compute()
        self.assertAlmostEqual(run.raw_amount, 54.0)
        self.assertAlmostEqual(run.cap_factor, 35.0 / 54.0, places=6)
        self.assertAlmostEqual(sum(run.line_ids.mapped("amount")), 35.0)
        flat = self._amounts(run, FLAT)
        self.assertEqual(len(flat), 4)
        self.assertTrue(all(0.64 <= a <= 0.65 for a in flat.values()), flat)

        # registered as not capped, its lines are paid whole next to the capped ones
        engine.unregister(FLAT)
        engine.register(FLAT, 45, capped=False)(step_flat)
        run.action_reset_draft()
        run.action_compute()
        self.assertAlmostEqual(run.raw_amount, 50.0)
        self.assertEqual(
            self._amounts(run, FLAT), {"P": 1.0, "Q": 1.0, "R": 1.0, "S": 1.0}
        )
        self.assertAlmostEqual(sum(run.line_ids.mapped("amount")), 39.0)

    def test_added_type_matched(self):
        """A type registered as matched is a base of leadership matching, like unilevel."""
        plan = self._levels_plan("Matching", [10.0, 5.0])
        plan.write(
            {
                "matching_rank_id": self.silver.id,
                "matching_generation_ids": [
                    Command.create({"generation": 1, "rate": 10.0})
                ],
            }
        )
        self._add_type(sequence=35, matched=True)
        run = self._run(self.jan, plan)
        run.action_compute()
        # Q (Silver) earns 20 of unilevel + 1 flat: P, the next leader up, gets 10 % of 21
        self.assertIn(
            ("P", "matching", "Q", 1, 21.0, 10.0, 2.1, False), self._line_tuples(run)
        )
        engine.unregister(FLAT)
        engine.register(FLAT, 55, matched=True)(step_flat)
        run.action_reset_draft()
        with self.assertRaises(ValueError):  # matched after matching: refused
            run.action_compute()

    def test_step_of_an_addon_not_installed_here_does_not_run(self):
        """An addon's Python stays imported in a server process for every database it
        serves: its step runs only where the addon is installed."""

        def step_elsewhere(ctx):
            step_flat(ctx)

        step_elsewhere.__module__ = "odoo.addons.ds_addon_not_installed_here.engine"
        self._add_type()
        engine.unregister(FLAT)
        engine.register(FLAT, 45)(step_elsewhere)
        run = self._run(self.jan, self.simple)
        run.action_compute()
        self.assertFalse(self._amounts(run, FLAT))
        self.assertAlmostEqual(run.raw_amount, 50.0)
        # the same step from an installed addon's module runs
        engine.unregister(FLAT)
        step_elsewhere.__module__ = (
            "odoo.addons.crm_direct_selling.tests.test_bonus_engine"
        )
        engine.register(FLAT, 45)(step_elsewhere)
        run.action_reset_draft()
        run.action_compute()
        self.assertEqual(len(self._amounts(run, FLAT)), 4)
