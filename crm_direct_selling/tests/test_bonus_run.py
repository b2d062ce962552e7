from datetime import date

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.crm_direct_selling.models.ds_bonus_run import LOCK_NAMESPACE

from .bonus_common import BonusCommon


@tagged("post_install", "-at_install")
class TestBonusRun(BonusCommon):
    """Run life cycle: clawbacks, concurrency, cancel / reverse, rounding, access rights,
    consolidated entry and background computation. Small network:
    P (root) <- Q <- R, S (Q's frontline)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = cls._distributor("P")
        cls.q = cls._distributor("Q", cls.p)
        cls.r = cls._distributor("R", cls.q)
        cls.s = cls._distributor("S", cls.q)
        cls.simple = cls._levels_plan("Simple", [10.0, 5.0])
        cls.inv_p = cls._invoice(
            cls.p.partner_id, 300, date(2026, 1, 10)
        )  # Gold: 3 levels
        cls.inv_q = cls._invoice(cls.q.partner_id, 200, date(2026, 1, 10))
        cls.inv_r = cls._invoice(cls.r.partner_id, 100, date(2026, 1, 10))
        cls.inv_s = cls._invoice(cls.s.partner_id, 100, date(2026, 1, 10))

    def _posted_january(self, plan=None):
        self.jan.action_close()
        run = self._run(self.jan, plan or self.simple)
        run.action_compute()
        run.action_approve()
        run.action_post()
        return run

    # January with the simple plan: P gets 10 % of Q (20) and 5 % of R and S (5 + 5);
    # Q (Silver, 2 levels) gets 10 % of R and S (10 + 10).
    JANUARY = sorted(
        [
            ("P", "unilevel", "Q", 1, 200.0, 10.0, 20.0, False),
            ("P", "unilevel", "R", 2, 100.0, 5.0, 5.0, False),
            ("P", "unilevel", "S", 2, 100.0, 5.0, 5.0, False),
            ("Q", "unilevel", "R", 1, 100.0, 10.0, 10.0, False),
            ("Q", "unilevel", "S", 1, 100.0, 10.0, 10.0, False),
        ]
    )

    def test_clawback_next_run(self):
        jan_run = self._posted_january()
        self.assertEqual(self._line_tuples(jan_run), self.JANUARY)
        # February: R's January invoice (100 BV) is refunded; Q refunds half of theirs.
        self._refund(self.inv_r, 100, date(2026, 2, 5))
        self._refund(self.inv_q, 100, date(2026, 2, 5))
        self._invoice(self.p.partner_id, 300, date(2026, 2, 10))
        self._invoice(self.q.partner_id, 200, date(2026, 2, 10))
        feb = self._run(self.feb, self.simple)
        feb.action_compute()
        vol_r = self.env["ds.volume"].search(
            [("period_id", "=", self.feb.id), ("distributor_id", "=", self.r.id)]
        )
        self.assertEqual(
            vol_r.bv, -100.0, "the refund counts in the period it is posted"
        )
        self.assertEqual(
            self._line_tuples(feb),
            sorted(
                [
                    # Q's new 200 BV, the refunded 100 is excluded from the base (clawed back below)
                    ("P", "unilevel", "Q", 1, 200.0, 10.0, 20.0, False),
                    # clawbacks: same earners, same rates, pro-rated by the refunded BV
                    ("P", "adjustment", "Q", 1, -100.0, 10.0, -10.0, False),
                    ("P", "adjustment", "R", 2, -100.0, 5.0, -5.0, False),
                    ("Q", "adjustment", "R", 1, -100.0, 10.0, -10.0, True),
                ]
            ),
        )
        adj = feb.line_ids.filtered(
            lambda ln: (
                ln.bonus_type == "adjustment" and ln.source_distributor_id == self.r
            )
        )
        self.assertEqual(adj.origin_line_id.run_id, jan_run)
        self.assertAlmostEqual(feb.amount_adjustment, -25.0)
        self.assertAlmostEqual(feb.total_amount, 5.0)
        self.assertAlmostEqual(feb.amount_carried_out, -10.0)
        # the past is never edited
        self.assertEqual(self._line_tuples(jan_run), self.JANUARY)
        self.assertEqual(jan_run.state, "posted")

    def test_clawback_of_matching(self):
        """The matching paid on the unilevel earnings a refund takes back is clawed back too."""
        plan = self._levels_plan("Matching", [10.0, 5.0])
        plan.write(
            {
                "matching_rank_id": self.silver.id,
                "matching_generation_ids": [
                    Command.create({"generation": 1, "rate": 10.0})
                ],
            }
        )
        jan_run = self._posted_january(plan)
        # Q (Silver) is a leader with 20 of unilevel; P (Gold), the next leader up, gets 10 %
        self.assertIn(
            ("P", "matching", "Q", 1, 20.0, 10.0, 2.0, False),
            self._line_tuples(jan_run),
        )
        self._refund(self.inv_r, 100, date(2026, 2, 5))
        feb = self._run(self.feb, plan)
        feb.action_compute()
        adjustments = [t for t in self._line_tuples(feb) if t[1] == "adjustment"]
        self.assertEqual(
            adjustments,
            sorted(
                [
                    ("P", "adjustment", "R", 2, -100.0, 5.0, -5.0, True),
                    ("Q", "adjustment", "R", 1, -100.0, 10.0, -10.0, True),
                    # Q lost 10 of unilevel: P's matching on it goes back by 10 %
                    ("P", "adjustment", "Q", 1, -10.0, 10.0, -1.0, True),
                ]
            ),
            "no new earnings in February: the negative totals are carried forward",
        )
        matching_adj = feb.line_ids.filtered(
            lambda ln: (
                ln.bonus_type == "adjustment" and ln.source_distributor_id == self.q
            )
        )
        self.assertEqual(matching_adj.origin_line_id.bonus_type, "matching")
        self.assertEqual(matching_adj.origin_line_id.run_id, jan_run)

    def test_one_live_run_per_period_and_plan(self):
        run = self._run(self.jan, self.simple)
        with self.assertRaisesRegex(UserError, "already a live bonus run"):
            self._run(self.jan, self.simple)
        sim1 = self._run(self.jan, self.simple, simulation=True)
        sim2 = self._run(self.jan, self.simple, simulation=True)
        self.assertTrue(sim1 and sim2)
        # the partial unique index backs the check at database level
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.UniqueViolation),
        ):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    SQL(
                        """INSERT INTO ds_bonus_run (period_id, plan_id, company_id, state, simulation, date)
                       VALUES (%s, %s, %s, 'draft', FALSE, '2026-01-31')""",
                        self.jan.id,
                        self.simple.id,
                        self.company.id,
                    )
                )
        run.action_cancel()
        self.assertEqual(run.state, "cancelled")
        self.assertTrue(
            self._run(self.jan, self.simple), "a cancelled run frees the slot"
        )

    def test_concurrent_start(self):
        """Another transaction is starting the same run: a clear message, no second run."""
        key = self.env["ds.bonus.run"]._lock_key(self.jan.id, self.simple.id)
        other = db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, key))
            with self.assertRaisesRegex(
                UserError, "being started or computed by another user"
            ):
                self._run(self.jan, self.simple)
            self.assertFalse(
                self.env["ds.bonus.run"].search([("period_id", "=", self.jan.id)])
            )
            # a simulation is not blocked
            self.assertTrue(self._run(self.jan, self.simple, simulation=True))
        finally:
            other.rollback()
            other.close()
        # the other transaction ended: starting works
        self.assertTrue(self._run(self.jan, self.simple))

    def test_cancel_reverses_bills(self):
        self.simple.fast_post_threshold = (
            1  # P's bill through the ORM, Q's cloned in SQL
        )
        run = self._posted_january()
        bills = run.move_ids
        self.assertEqual(len(bills), 2)
        self.assertEqual(sorted(bills.mapped("amount_total")), [20.0, 30.0])
        run.action_cancel()
        self.assertEqual(run.state, "cancelled")
        self.assertEqual(set(bills.mapped("payment_state")), {"reversed"})
        reversals = run.move_ids - bills
        self.assertEqual(len(reversals), 2)
        self.assertEqual(set(reversals.mapped("move_type")), {"in_refund"})
        self.assertEqual(reversals.reversed_entry_id, bills)
        self.assertIn("reversed", run.message_ids[0].body)

    def test_cancel_refused_when_paid(self):
        run = self._posted_january()
        bill = run.move_ids.filtered(lambda m: m.partner_id == self.p.partner_id)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids
        ).create({})._create_payments()
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        with self.assertRaisesRegex(UserError, bill.name):
            run.action_cancel()
        self.assertEqual(run.state, "posted")

    def test_entry_mode(self):
        self._check_entry_mode(fast_post_threshold=0)

    def test_entry_mode_sql_split(self):
        """Above the threshold the single payable line is split per distributor in SQL."""
        self._check_entry_mode(fast_post_threshold=1)

    def _check_entry_mode(self, fast_post_threshold):
        plan = self.simple.copy(
            {
                "name": "Entry",
                "payout_mode": "entry",
                "fast_post_threshold": fast_post_threshold,
            }
        )
        run = self._posted_january(plan)
        self.assertEqual(len(run.move_ids), 1)
        move = run.move_ids
        self.assertEqual(move.move_type, "entry")
        self.assertEqual(move.state, "posted")
        payable = move.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "liability_payable"
        )
        self.assertEqual(payable.partner_id, self.p.partner_id | self.q.partner_id)
        self.assertAlmostEqual(-sum(payable.mapped("balance")), run.total_amount)
        self.assertAlmostEqual(run.total_amount, 50.0)
        expense = move.line_ids.filtered(
            lambda ln: ln.account_id == self.expense_account
        )
        self.assertAlmostEqual(sum(expense.mapped("balance")), 50.0)
        self.assertEqual(run.line_ids.move_id, move)
        self.assertAlmostEqual(sum(move.line_ids.mapped("balance")), 0.0)
        self.assertEqual(sorted(payable.mapped("balance")), [-30.0, -20.0])
        self.assertEqual(sorted(payable.mapped("amount_residual")), [-30.0, -20.0])
        self.assertAlmostEqual(move.amount_total, 50.0)
        run.action_cancel()
        self.assertEqual(
            move.payment_state if move.is_invoice() else move.reversal_move_ids.state,
            "posted",
        )

    def test_rounding(self):
        plan = self.simple.copy(
            {
                "name": "Thirds",
                "level_ids": [Command.create({"level": 1, "rate": 3.3333})],
            }
        )
        self.jan.action_close()
        run = self._run(self.jan, plan)
        run.action_compute()
        # Q earns 3.3333 % of R and S: 3.3333 -> 3.33 each; P 3.3333 % of Q's 200: 6.6666 -> 6.67
        self.assertEqual(
            self._line_tuples(run),
            sorted(
                [
                    ("P", "unilevel", "Q", 1, 200.0, 3.3333, 6.67, False),
                    ("Q", "unilevel", "R", 1, 100.0, 3.3333, 3.33, False),
                    ("Q", "unilevel", "S", 1, 100.0, 3.3333, 3.33, False),
                ]
            ),
        )
        # a cap of 2.34 % of 700 BV = 16.38 on the 10 % / 5 % levels (raw 50.00): factor
        # 0.3276 -> 6.552, 1.638 (x2), 3.276 (x2); floors sum to 16.35, the 3 remaining cents
        # go to the largest remainders (.8, .8, then .6 with the tie broken by source R < S)
        capped = self.simple.copy(
            {
                "name": "Capped",
                "payout_cap_pct": 2.34,
                "level_ids": [
                    Command.create({"level": 1, "rate": 10.0}),
                    Command.create({"level": 2, "rate": 5.0}),
                ],
            }
        )
        run2 = self._run(self.jan, capped)
        run2.action_compute()
        self.assertAlmostEqual(run2.cap_amount, 16.38)
        self.assertAlmostEqual(sum(run2.line_ids.mapped("amount")), 16.38, places=9)
        self.assertEqual(
            self._line_tuples(run2),
            sorted(
                [
                    ("P", "unilevel", "Q", 1, 200.0, 10.0, 6.55, False),
                    ("P", "unilevel", "R", 2, 100.0, 5.0, 1.64, False),
                    ("P", "unilevel", "S", 2, 100.0, 5.0, 1.64, False),
                    ("Q", "unilevel", "R", 1, 100.0, 10.0, 3.28, False),
                    ("Q", "unilevel", "S", 1, 100.0, 10.0, 3.27, False),
                ]
            ),
        )
        run2.action_approve()
        run2.action_post()
        self.assertAlmostEqual(
            sum(run2.move_ids.mapped("amount_total")), 16.38, places=9
        )
        self.assertEqual(sorted(run2.move_ids.mapped("amount_total")), [6.55, 9.83])

    def test_access_rights(self):
        user = self.env["res.users"].create(
            {
                "name": "DS User",
                "login": "ds_bonus_user",
                "email": "u@example.com",
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("crm_direct_selling.group_ds_user").id,
                            self.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
            }
        )
        self.jan.action_close()
        run = self._run(self.jan, self.simple)
        run.with_user(user).action_compute()  # users may compute and review
        self.assertEqual(run.state, "computed")
        self.assertTrue(run.with_user(user).line_ids)
        with self.assertRaises(AccessError):
            run.with_user(user).action_approve()
        run.action_approve()
        with self.assertRaises(AccessError):
            run.with_user(user).action_post()
        with self.assertRaises(AccessError):
            run.with_user(user).action_cancel()
        with self.assertRaises(AccessError):
            self.env["ds.plan"].with_user(user).create(
                {"name": "Nope", "company_id": self.company.id}
            )
        with self.assertRaises(AccessError):
            run.line_ids[:1].with_user(user).write({"amount": 1000.0})
        self.assertEqual(run.state, "approved")

    def test_background_job(self):
        plan = self.simple.copy({"name": "Big", "async_threshold": 2})
        self.jan.action_close()
        run = self._run(self.jan, plan)
        action = run.action_compute()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(run.job_state, "queued")
        self.assertEqual(run.state, "draft")
        with self.assertRaisesRegex(UserError, "background"):
            run.action_compute()
        # the cron writes its progress in the test transaction (a job writes it from a
        # separate cursor into a side table, never on the run row)
        self.env["ds.bonus.run"].with_context(
            ds_bonus_progress_same_cursor=True
        )._cron_compute_runs()
        self.assertEqual(run.job_state, "done")
        self.env.cr.execute(
            "SELECT progress FROM ds_bonus_run_progress WHERE run_id = %s", [run.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 100.0)
        self.assertEqual(run.progress, 100.0)
        self.assertEqual(run.state, "computed")
        self.assertEqual(self._line_tuples(run), self.JANUARY)

    def test_background_job_computes_as_the_user_who_queued_it(self):
        """The cron (OdooBot) computes a queued run as the user who pressed Compute, in
        their language: "Computed by" names them, never OdooBot, and the chatter reads
        in their language."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["crm_direct_selling"], ["zh_CN"]
        )
        user = self.env["res.users"].create(
            {
                "name": "Queue Quinn",
                "login": "quinn.bg",
                "lang": "zh_CN",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "groups_id": [
                    (6, 0, [self.env.ref("crm_direct_selling.group_ds_user").id])
                ],
            }
        )
        plan = self.simple.copy({"name": "Big", "async_threshold": 2})
        self.jan.action_close()
        run = self._run(self.jan, plan)
        run.with_user(user).with_context(lang="zh_CN").action_compute()
        self.assertEqual(run.job_user_id, user)
        # the cron runs as OdooBot
        self.env["ds.bonus.run"].with_user(self.env.ref("base.user_root")).with_context(
            ds_bonus_progress_same_cursor=True
        )._cron_compute_runs()
        self.assertEqual(run.state, "computed")
        self.assertEqual(run.computed_uid, user)
        last = run.message_ids[0]
        self.assertEqual(last.author_id, user.partner_id)
        translated = (
            self.env["ds.bonus.run"]
            .with_context(lang="zh_CN")
            .env._("Computed by %s.", user.name)
        )
        self.assertNotIn("Computed by", translated, "the zh_CN catalogue has the term")
        self.assertIn(translated, str(last.body))
