from datetime import date

import psycopg2

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .bonus_common import BonusCommon


@tagged("post_install", "-at_install")
class TestDerivedTables(BonusCommon):
    """ds.volume and ds.bonus.line have tables without foreign keys (derived_table.py): their
    ondelete rules are applied by the ORM. Network: P <- Q <- R."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = cls._distributor("P")
        cls.q = cls._distributor("Q", cls.p)
        cls.r = cls._distributor("R", cls.q)
        cls.plan = cls._levels_plan("Levels only", [10.0])
        for partner, bv in ((cls.p, 300), (cls.q, 200), (cls.r, 100)):
            cls._invoice(partner.partner_id, bv, date(2026, 1, 10))

    def _count(self, table, where):
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT COUNT(*) FROM %s WHERE %s", SQL.identifier(table), where)
        )
        return self.env.cr.fetchone()[0]

    def test_no_foreign_keys_but_unique_volume(self):
        for table in ("ds_volume", "ds_bonus_line"):
            self.env.cr.execute(
                SQL(
                    "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                    table,
                )
            )
            self.assertEqual(self.env.cr.fetchone()[0], 0, table)
        self.jan.action_compute_volumes()
        self.assertEqual(
            self._count("ds_volume", SQL("period_id = %s", self.jan.id)), 3
        )
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                SQL(
                    """INSERT INTO ds_volume (distributor_id, period_id, company_id)
                       VALUES (%s, %s, %s)""",
                    self.r.id,
                    self.jan.id,
                    self.company.id,
                )
            )

    def test_period_unlink_deletes_its_volumes(self):
        self.feb.action_compute_volumes()
        self.jan.action_compute_volumes()
        feb_id = self.feb.id
        self.assertEqual(self._count("ds_volume", SQL("period_id = %s", feb_id)), 3)
        self.feb.unlink()
        self.assertEqual(self._count("ds_volume", SQL("period_id = %s", feb_id)), 0)
        self.assertEqual(
            self._count("ds_volume", SQL("period_id = %s", self.jan.id)), 3
        )

    def test_rank_unlink_clears_volume_ranks(self):
        self.jan.action_compute_volumes()
        vol_p = self.env["ds.volume"].search(
            [("distributor_id", "=", self.p.id), ("period_id", "=", self.jan.id)]
        )
        self.assertEqual(vol_p.paid_rank_id, self.gold)
        gold_id = self.gold.id
        self.p.write({"rank_id": False, "highest_rank_id": False})
        self.gold.unlink()
        self.assertEqual(
            self._count(
                "ds_volume",
                SQL("paid_rank_id = %(r)s OR next_rank_id = %(r)s", r=gold_id),
            ),
            0,
        )
        self.assertFalse(vol_p.paid_rank_id)

    def test_distributor_unlink(self):
        self.jan.action_compute_volumes()
        run = self._run(self.jan, self.plan)
        run.action_compute()
        self.assertTrue(run.line_ids.filtered(lambda ln: ln.distributor_id == self.q))
        # R is the source of Q's line: refused like an ondelete='restrict' foreign key
        with self.assertRaisesRegex(UserError, "earned or generated bonuses"):
            self.r.unlink()
        run.unlink()
        self.assertEqual(self._count("ds_bonus_line", SQL("run_id = %s", run.id)), 0)
        r_id = self.r.id
        self.r.unlink()
        self.assertEqual(self._count("ds_volume", SQL("distributor_id = %s", r_id)), 0)

    def test_run_lines_follow_their_bills(self):
        self.jan.action_close()
        run = self._run(self.jan, self.plan)
        run.action_compute()
        run.action_approve()
        run.action_post()
        lines = run.line_ids
        self.assertTrue(lines.move_id)
        bill = lines.move_id[0]
        bill_lines = lines.filtered(lambda ln: ln.move_id == bill)
        bill.button_draft()
        bill.with_context(force_delete=True).unlink()
        self.assertEqual(self._count("ds_bonus_line", SQL("move_id = %s", bill.id)), 0)
        self.assertFalse(bill_lines.move_id)
