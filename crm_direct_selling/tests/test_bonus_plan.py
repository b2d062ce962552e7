from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .bonus_common import BonusCommon

# Hand-computed lines of the worked plan for January (see readme/USAGE.md, "Worked plan"):
# (earner, type, source, level, base, rate %, amount after the 15 % cap, carried forward)
# Raw total 346.50 > cap 15 % x 1800 BV = 270.00 -> factor 0.779221; amounts floored to the
# cent and the 17 remaining cents go to the largest remainders (ties: earner, type, source).
JANUARY_LINES = [
    ("A", "matching", "B", 1, 25.00, 10.0, 1.95, False),
    ("A", "matching", "C", 1, 42.50, 10.0, 3.31, False),
    ("A", "matching", "F", 2, 15.00, 5.0, 0.58, False),
    ("A", "rank_advancement", "A", 0, 25.00, 100.0, 19.48, False),
    ("A", "unilevel", "B", 1, 200.00, 10.0, 15.58, False),
    ("A", "unilevel", "C", 1, 300.00, 10.0, 23.38, False),
    ("A", "unilevel", "D", 2, 100.00, 5.0, 3.90, False),
    ("A", "unilevel", "E", 2, 50.00, 5.0, 1.95, False),
    ("A", "unilevel", "F", 2, 200.00, 5.0, 7.79, False),
    ("A", "unilevel", "G", 2, 100.00, 5.0, 3.90, False),
    ("A", "unilevel", "I", 3, 100.00, 5.0, 3.90, False),
    ("A", "unilevel", "J", 3, 100.00, 5.0, 3.90, False),
    ("A", "unilevel", "K", 3, 100.00, 5.0, 3.90, False),
    ("A", "unilevel", "O", 3, 50.00, 5.0, 1.95, False),
    ("B", "rank_advancement", "B", 0, 10.00, 100.0, 7.79, False),
    ("B", "unilevel", "D", 1, 100.00, 10.0, 7.79, False),
    ("B", "unilevel", "E", 1, 50.00, 10.0, 3.90, False),
    ("B", "unilevel", "I", 2, 100.00, 5.0, 3.90, False),
    ("B", "unilevel", "K", 2, 100.00, 5.0, 3.90, False),
    ("C", "matching", "F", 1, 15.00, 10.0, 1.17, False),
    ("C", "rank_advancement", "C", 0, 25.00, 100.0, 19.48, False),
    ("C", "unilevel", "F", 1, 200.00, 10.0, 15.58, False),
    ("C", "unilevel", "G", 1, 100.00, 10.0, 7.79, False),
    ("C", "unilevel", "J", 2, 100.00, 5.0, 3.90, False),
    ("C", "unilevel", "L", 3, 100.00, 5.0, 3.90, False),
    ("C", "unilevel", "O", 2, 50.00, 5.0, 1.95, False),
    ("D", "retail", "D", 0, 100.00, 10.0, 7.79, False),
    ("D", "unilevel", "I", 1, 100.00, 10.0, 7.79, False),
    ("D", "unilevel", "K", 1, 100.00, 10.0, 7.79, False),
    ("F", "rank_advancement", "F", 0, 10.00, 100.0, 7.79, False),
    ("F", "unilevel", "J", 1, 100.00, 10.0, 7.79, False),
    ("F", "unilevel", "L", 2, 100.00, 5.0, 3.90, False),
    ("G", "unilevel", "O", 1, 50.00, 10.0, 3.89, True),
    ("J", "fast_start", "L", 1, 100.00, 20.0, 15.58, False),
    ("J", "unilevel", "L", 1, 100.00, 10.0, 7.79, False),
    ("K", "fast_start", "M", 1, 100.00, 20.0, 15.58, False),
    ("K", "unilevel", "M", 1, 100.00, 10.0, 7.79, False),
]


@tagged("post_install", "-at_install")
class TestBonusPlan(BonusCommon):
    """The worked plan: 15 distributors, 3 ranks, compression, retail, fast start,
    rank advancement, matching, a 15 % payout cap and a 10.00 minimum payout.

    Network (January BV; * = inactive, PV < 100):
        A 300 Gold
        +- B 200 Silver
        |  +- D 0 own + 100 retail (customer X) Bronze
        |  |  +- H* 0
        |  |  |  +- K 100 Bronze
        |  |  |     +- M 100 Bronze, enrolled 2026-01-10 (fast start to K)
        |  |  +- I 100 Bronze
        |  +- E* 50
        +- C 300 Gold
        |  +- F 200 Silver
        |  |  +- J 100 Bronze
        |  |     +- L 100 Bronze, enrolled 2026-01-15 (fast start to J)
        |  +- G 100 Bronze
        |     +- O* 50
        +- N* 0
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = {}
        tree = [
            ("A", None),
            ("B", "A"),
            ("C", "A"),
            ("D", "B"),
            ("E", "B"),
            ("F", "C"),
            ("G", "C"),
            ("H", "D"),
            ("I", "D"),
            ("J", "F"),
            ("K", "H"),
            ("L", "J"),
            ("M", "K"),
            ("N", "A"),
            ("O", "G"),
        ]
        enrolled = {"L": date(2026, 1, 15), "M": date(2026, 1, 10)}
        for name, sponsor in tree:
            d[name] = cls._distributor(
                name, d.get(sponsor), enrolled.get(name, date(2025, 6, 1))
            )
        cls.d = d
        cls.customer_x = cls.env["res.partner"].create(
            {"name": "Customer X", "ds_referrer_id": d["D"].id}
        )
        jan_bv = {
            "A": 300,
            "B": 200,
            "C": 300,
            "E": 50,
            "F": 200,
            "G": 100,
            "I": 100,
            "J": 100,
            "K": 100,
            "L": 100,
            "O": 50,
        }
        for name, bv in jan_bv.items():
            cls._invoice(d[name].partner_id, bv, date(2026, 1, 20))
        cls._invoice(d["M"].partner_id, 100, date(2026, 1, 12))
        cls._invoice(cls.customer_x, 100, date(2026, 1, 20))
        cls.plan = cls._plan()

    def _close_and_compute_january(self):
        self.jan.action_close()
        run = self._run(self.jan, self.plan)
        run.action_compute()
        return run

    def test_01_volumes_precondition(self):
        """The volume step gives the ranks and activity the worked plan relies on."""
        self.jan.action_close()
        vols = {
            v.distributor_id.name: v
            for v in self.env["ds.volume"].search([("period_id", "=", self.jan.id)])
        }
        expected_rank = {
            "A": self.gold,
            "B": self.silver,
            "C": self.gold,
            "F": self.silver,
        }
        for name in "ABCDEFGHIJKLMNO":
            v = vols[name]
            self.assertEqual(
                v.paid_rank_id,
                expected_rank.get(
                    name, self.bronze if v.pv >= 100 else self.env["ds.rank"]
                ),
                name,
            )
            self.assertEqual(v.is_active, name not in "EHNO", name)
        self.assertEqual(sum(v.bv for v in vols.values()), 1800.0)
        self.assertEqual(vols["D"].bv, 100.0)

    def test_02_worked_plan_lines(self):
        run = self._close_and_compute_january()
        self.assertEqual(run.state, "computed")
        self.assertEqual(self._line_tuples(run), sorted(JANUARY_LINES))
        self.assertAlmostEqual(run.period_bv, 1800.0)
        self.assertAlmostEqual(run.raw_amount, 346.50)
        self.assertAlmostEqual(run.cap_amount, 270.00)
        self.assertAlmostEqual(run.cap_factor, 270.0 / 346.5, places=8)
        # capped lines sum exactly to the cap
        self.assertAlmostEqual(sum(run.line_ids.mapped("amount")), 270.00, places=6)
        self.assertAlmostEqual(run.amount_carried_out, 3.89)
        self.assertAlmostEqual(run.total_amount, 266.11)
        self.assertAlmostEqual(
            run.amount_unilevel, sum(x[6] for x in JANUARY_LINES if x[1] == "unilevel")
        )
        self.assertAlmostEqual(run.amount_retail, 7.79)
        self.assertAlmostEqual(run.amount_fast_start, 31.16)
        self.assertAlmostEqual(run.amount_rank_advancement, 54.54)
        self.assertAlmostEqual(run.amount_matching, 7.01)
        self.assertAlmostEqual(run.payout_ratio, 266.11 / 1800 * 100, places=2)
        self.assertEqual(run.earner_count, 8)
        self.assertEqual(run.paid_earner_count, 7)
        self.assertIn("Computed by", run.message_ids[0].body)

    def test_03_post_bills(self):
        self._check_post_bills(fast=False)

    def test_03b_post_bills_sql_fast_path(self):
        """Bills cloned in SQL from a first ORM bill are the same as ORM bills and live
        on in Odoo: paid, reversed."""
        run = self._check_post_bills(fast=True)
        bills = run.move_ids
        template = bills.sorted("id")[0]
        names = bills.mapped("name")
        self.assertEqual(len(set(names)), 7)
        self.assertEqual(
            sorted(bills.mapped("sequence_number")),
            list(range(template.sequence_number, template.sequence_number + 7)),
        )
        self.assertTrue(all(n.startswith(template.sequence_prefix) for n in names))
        for bill in bills:
            total = bill.amount_total
            self.assertEqual(bill.state, "posted")
            self.assertEqual(bill.payment_state, "not_paid")
            self.assertEqual(
                bill.commercial_partner_id, bill.partner_id.commercial_partner_id
            )
            self.assertAlmostEqual(bill.amount_residual, total)
            self.assertAlmostEqual(bill.amount_total_signed, -total)
            self.assertAlmostEqual(bill.amount_residual_signed, -total)
            self.assertAlmostEqual(bill.amount_untaxed, total)
            self.assertAlmostEqual(sum(bill.line_ids.mapped("balance")), 0.0)
            payable = bill.line_ids.filtered(
                lambda ln: ln.display_type == "payment_term"
            )
            self.assertEqual(
                payable.account_id,
                bill.partner_id.with_company(self.company).property_account_payable_id,
            )
            self.assertAlmostEqual(payable.amount_residual, -total)
            self.assertEqual(bill.invoice_date_due, template.invoice_date_due)
        # the Odoo machinery works on them: pay one, reverse the others
        other = bills.filtered(lambda m: m != template)[0]
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=other.ids
        ).create({})._create_payments()
        self.assertIn(other.payment_state, ("paid", "in_payment"))
        with self.assertRaisesRegex(UserError, other.name):
            run.action_cancel()

    def test_03d_sql_bills_followed_by_their_earner(self):
        """Posting subscribes the vendor to an ORM bill; the bills cloned in SQL get the same
        followers (their own earner), so a distributor with a portal login reads their bill
        (account.move portal rule on message_partner_ids) like an ORM one."""
        run = self._check_post_bills(fast=True)
        bills = run.move_ids.sorted("id")
        template = bills[0]
        self.assertIn(template.partner_id, template.message_partner_ids)
        portal = self.env.ref("base.group_portal")
        for bill in bills:
            self.assertIn(bill.partner_id, bill.message_partner_ids, bill.name)
            self.assertEqual(
                bill.message_partner_ids - bill.partner_id,
                template.message_partner_ids - template.partner_id,
                bill.name,
            )
            self.assertEqual(
                bill.message_follower_ids.filtered(
                    lambda f, b=bill: f.partner_id == b.partner_id
                ).subtype_ids,
                template.message_follower_ids.filtered(
                    lambda f: f.partner_id == template.partner_id
                ).subtype_ids,
            )
        cloned = bills[1]
        user = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": "ds_clone_earner",
                    "partner_id": cloned.partner_id.id,
                    "groups_id": [Command.set(portal.ids)],
                }
            )
        )
        self.env.invalidate_all()
        as_earner = cloned.with_user(user)
        as_earner.check_access("read")
        self.assertEqual(as_earner.payment_state, "not_paid")
        with self.assertRaises(AccessError):
            bills.filtered(lambda m: m.partner_id != cloned.partner_id)[:1].with_user(
                user
            ).check_access("read")

    def test_03c_post_bills_sql_payment_terms(self):
        """In the SQL fast path every bill gets its earner's supplier payment term and due
        date; a term paid in installments goes through the ORM (one payable line each)."""
        Term = self.env["account.payment.term"]
        days30 = Term.create(
            {
                "name": "DS 30 days",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100, "nb_days": 30}
                    )
                ],
            }
        )
        split = Term.create(
            {
                "name": "DS 30/70",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 30, "nb_days": 0}
                    ),
                    Command.create(
                        {"value": "percent", "value_amount": 70, "nb_days": 30}
                    ),
                ],
            }
        )
        terms = {"B": days30, "C": days30, "D": split}
        for name, term in terms.items():
            self.d[name].partner_id.with_company(
                self.company
            ).property_supplier_payment_term_id = term
        run = self._check_post_bills(fast=True)
        for bill in run.move_ids:
            term = terms.get(bill.partner_id.name, Term)
            self.assertEqual(bill.invoice_payment_term_id, term, bill.partner_id.name)
            payable = bill.line_ids.filtered(
                lambda ln: ln.display_type == "payment_term"
            )
            self.assertAlmostEqual(sum(payable.mapped("balance")), -bill.amount_total)
            if term == split:
                self.assertEqual(len(payable), 2)
                self.assertEqual(
                    sorted(payable.mapped("date_maturity")),
                    [bill.invoice_date, bill.invoice_date + timedelta(days=30)],
                )
            else:
                if term:
                    due = bill.invoice_date + timedelta(days=30)
                else:  # what Odoo gives a bill without a term (its first bill)
                    due = (
                        run.move_ids.filtered(lambda m: not m.invoice_payment_term_id)
                        .sorted("id")[0]
                        .invoice_date_due
                    )
                self.assertEqual(bill.invoice_date_due, due, bill.partner_id.name)
                self.assertEqual(payable.date_maturity, due)

    def _check_post_bills(self, fast):
        self.plan.fast_post_threshold = 1 if fast else 0
        run = self._close_and_compute_january()
        run.action_approve()
        self.assertEqual(run.state, "approved")
        run.action_post()
        self.assertEqual(run.state, "posted")
        bills = run.move_ids
        self.assertEqual(len(bills), 7)
        self.assertTrue(
            all(m.move_type == "in_invoice" and m.state == "posted" for m in bills)
        )
        self.assertEqual(bills.journal_id, self.purchase_journal)
        self.assertEqual(bills.currency_id, self.company.currency_id)
        # sum of lines = sum of bills, to the cent
        self.assertAlmostEqual(sum(bills.mapped("amount_total")), 266.11, places=2)
        paid_lines = run.line_ids.filtered(lambda ln: not ln.carried_forward)
        self.assertAlmostEqual(
            sum(paid_lines.mapped("amount")),
            sum(bills.mapped("amount_total")),
            places=2,
        )
        expected = {}
        for earner, btype, _s, _l, _b, _r, amount, carried in JANUARY_LINES:
            if not carried:
                expected.setdefault(earner, {}).setdefault(btype, 0.0)
                expected[earner][btype] += amount
        for bill in bills:
            earner = bill.partner_id.name
            self.assertIn(earner, expected)
            lines = bill.invoice_line_ids
            self.assertEqual(len(lines), len(expected[earner]), earner)
            self.assertEqual(lines.account_id, self.expense_account)
            self.assertFalse(lines.tax_ids)
            self.assertAlmostEqual(
                bill.amount_total, round(sum(expected[earner].values()), 2), places=2
            )
            for line in paid_lines.filtered(
                lambda ln, e=earner: ln.distributor_id.name == e
            ):
                self.assertEqual(line.move_id, bill)
        a_bill = bills.filtered(lambda m: m.partner_id == self.d["A"].partner_id)
        self.assertAlmostEqual(a_bill.amount_total, 95.47)
        self.assertFalse(run.line_ids.filtered("carried_forward").move_id)
        self.assertIn("Posted by", run.message_ids[0].body)
        return run

    def test_03d_pay_skipped_ranks(self):
        """With the plan's option, a distributor jumping over ranks is also paid the
        advancement bonuses of the ranks skipped on the way, above their highest rank before
        the period (A had reached Silver before: Gold only)."""
        self.d["A"].highest_rank_id = self.silver
        self.plan.rank_pay_skipped = True
        run = self._close_and_compute_january()

        def advancements(r):
            return sorted(
                (ln.distributor_id.name, ln.base)
                for ln in r.line_ids
                if ln.bonus_type == "rank_advancement"
            )

        self.assertEqual(
            advancements(run),
            [("A", 25.0), ("B", 10.0), ("C", 10.0), ("C", 25.0), ("F", 10.0)],
        )
        self.plan.rank_pay_skipped = False
        sim = self._run(self.jan, self.plan, simulation=True)
        sim.action_compute()
        self.assertEqual(
            advancements(sim), [("A", 25.0), ("B", 10.0), ("C", 25.0), ("F", 10.0)]
        )

    def test_04_carry_forward_next_run(self):
        run = self._close_and_compute_january()
        run.action_approve()
        run.action_post()
        # February: G and O buy 100 each; G (Bronze, 1 level) earns 10 % of O's BV,
        # plus the 3.89 carried from January; C and A are inactive and compressed away.
        self._invoice(self.d["G"].partner_id, 100, date(2026, 2, 10))
        self._invoice(self.d["O"].partner_id, 100, date(2026, 2, 10))
        feb = self._run(self.feb, self.plan)
        feb.action_compute()  # open period: runs the volume step first
        self.assertEqual(self.feb.volume_count > 0, True)
        self.assertEqual(
            self._line_tuples(feb),
            sorted(
                [
                    ("G", "carry_forward", "", 0, 3.89, 100.0, 3.89, False),
                    ("G", "unilevel", "O", 1, 100.00, 10.0, 10.00, False),
                ]
            ),
        )
        self.assertAlmostEqual(feb.cap_factor, 1.0)
        self.assertAlmostEqual(feb.total_amount, 13.89)
        self.assertAlmostEqual(feb.amount_carry_forward, 3.89)

    def test_05_recompute_identical(self):
        run = self._close_and_compute_january()
        first = self._line_tuples(run)
        first_ids = run.line_ids.ids
        run.action_compute()
        self.assertEqual(self._line_tuples(run), first)
        self.assertFalse(
            set(first_ids) & set(run.line_ids.ids), "lines are replaced, not patched"
        )
        self.assertEqual(run.state, "computed")

    def test_06_simulation_and_compare(self):
        run = self._close_and_compute_january()
        rich = self.plan.copy({"name": "Rich Plan", "payout_cap_pct": 0.0})
        sim = self._run(self.jan, rich, simulation=True)
        sim.action_compute()
        self.assertAlmostEqual(sim.cap_factor, 1.0)
        self.assertAlmostEqual(sim.raw_amount, 346.50)
        self.assertGreater(sim.payout_ratio, run.payout_ratio)
        with self.assertRaisesRegex(UserError, "simulation"):
            sim.action_approve()
        wizard = self.env["ds.bonus.run.compare"].create(
            {"run_ids": [(6, 0, (run | sim).ids)]}
        )
        html = str(wizard.comparison_html)
        self.assertIn(run.name, html)
        self.assertIn(sim.name, html)
        self.assertIn("Top earner 1", html)
        # A is the top earner of both runs
        self.assertEqual(run._top_earners(1)[0][0], self.d["A"])
        self.assertEqual(sim._top_earners(1)[0][0], self.d["A"])

    def test_07_statement_and_xlsx(self):
        import io

        import openpyxl

        run = self._close_and_compute_january()
        wb = openpyxl.load_workbook(
            io.BytesIO(run._export_xlsx_bytes()), read_only=True
        )
        rows = list(wb["Lines"].iter_rows(values_only=True))
        self.assertEqual(len(rows), 1 + len(JANUARY_LINES))
        self.assertAlmostEqual(sum(r[8] for r in rows[1:]), 270.0, places=6)
        action = run.action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        html, _fmt = self.env["ir.actions.report"]._render_qweb_html(
            "crm_direct_selling.action_report_ds_bonus_statement",
            run.ids,
            data={"distributor_ids": [self.d["A"].id]},
        )
        html = html.decode()
        self.assertIn("Bonus Statement", html)
        self.assertIn(self.d["A"].code, html)
        self.assertIn("95.47", html)
        self.assertNotIn(self.d["B"].code + " ", html)
