from datetime import date

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestLifecycle(TransactionCase):
    """Lifecycle automations: each fires once on its day, reruns are
    idempotent, opted-out / blacklisted contacts are skipped, and the mails
    carry their personalisation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.Rule = cls.env["ds.lifecycle.rule"]
        cls.Log = cls.env["ds.lifecycle.log"]
        # only the rules of this test run: switch the shipped defaults off, keep their templates
        cls.Rule.search([]).active = False
        cls.birthday_rule = cls.env.ref("crm_direct_selling.ds_lifecycle_rule_birthday")
        cls.birthday_rule.active = True
        cls.env["ds.rank"].search(
            []
        ).active = False  # only the ranks below count as "next rank"
        cls.rank_bronze = cls.env["ds.rank"].create(
            {"name": "LC Bronze", "sequence": 1010, "min_pv": 100.0}
        )
        cls.rank_silver = cls.env["ds.rank"].create(
            {"name": "LC Silver", "sequence": 1020, "min_pv": 200.0, "min_gv": 1000.0}
        )
        cls.rank_gold = cls.env["ds.rank"].create(
            {"name": "LC Gold", "sequence": 1030, "min_pv": 300.0}
        )
        cls.leader = cls.env["ds.distributor"].create(
            {
                "name": "Leader Lena",
                "email": "lena@example.com",
                "enrollment_date": date(2020, 5, 1),
                "rank_id": cls.rank_silver.id,
                "company_id": cls.company.id,
            }
        )

    def _run(self, day, **kwargs):
        return self.Rule._cron_lifecycle(today=day, **kwargs)

    def _logs(self, rule, partners=None):
        domain = [("rule_id", "=", rule.id)]
        if partners is not None:
            domain.append(("partner_id", "in", partners.ids))
        return self.Log.search(domain)

    def _mails(self, partner):
        return self.env["mail.mail"].search(
            [("recipient_ids", "in", partner.ids), ("model", "=", "res.partner")]
        )

    def _customer(self, name, birthday=None, **vals):
        return self.env["res.partner"].create(
            {
                "name": name,
                "email": f"{name.lower().replace(' ', '.')}@example.com",
                "ds_birthday": birthday,
                **vals,
            }
        )

    # ------------------------------------------------------------------
    def test_birthday_fires_once_on_its_day(self):
        customer = self._customer(
            "Carla Customer", date(1990, 3, 15), ds_referrer_id=self.leader.id
        )
        self._run(date(2027, 3, 14))
        self.assertEqual(customer.ds_next_birthday, date(2027, 3, 15))
        self.assertFalse(self._logs(self.birthday_rule, customer), "Not the day before")
        self._run(date(2027, 3, 15))
        log = self._logs(self.birthday_rule, customer)
        self.assertEqual(len(log), 1)
        self.assertEqual(log.occasion_key, "2027-03-15")
        mail = self._mails(customer)
        self.assertEqual(len(mail), 1)
        self.assertEqual(log.mail_id, mail)
        self.assertEqual(mail.state, "outgoing", "Queued, not sent synchronously")
        self.assertIn("Carla Customer", mail.subject)
        self.assertIn("Carla Customer", str(mail.body_html))
        self.assertIn("Leader Lena", str(mail.body_html), "The referrer is named")
        # reruns the same day and the next day never send twice
        self._run(date(2027, 3, 15))
        self._run(date(2027, 3, 16))
        self.assertEqual(len(self._logs(self.birthday_rule, customer)), 1)
        self.assertEqual(len(self._mails(customer)), 1)
        self._run(date(2027, 3, 17))
        self.assertEqual(customer.ds_next_birthday, date(2028, 3, 15))
        # next year: once again
        self._run(date(2028, 3, 15))
        self.assertEqual(
            self._logs(self.birthday_rule, customer).mapped("occasion_key"),
            ["2028-03-15", "2027-03-15"],
        )

    def test_birthday_29_february(self):
        leapling = self._customer("Leap Lea", date(2000, 2, 29))
        self._run(date(2027, 2, 27))
        self.assertEqual(
            leapling.ds_next_birthday,
            date(2027, 2, 28),
            "28 February in a non-leap year",
        )
        self.assertFalse(self._logs(self.birthday_rule, leapling))
        self._run(date(2027, 2, 28))
        self.assertEqual(
            self._logs(self.birthday_rule, leapling).occasion_key, "2027-02-28"
        )
        self._run(date(2027, 3, 1))
        self._run(date(2027, 3, 2))
        self.assertEqual(len(self._logs(self.birthday_rule, leapling)), 1)
        self.assertEqual(
            leapling.ds_next_birthday, date(2028, 2, 29), "29 February in a leap year"
        )
        self._run(date(2028, 2, 28))
        self.assertEqual(
            len(self._logs(self.birthday_rule, leapling)),
            1,
            "Not on the 28th of a leap year",
        )
        self._run(date(2028, 2, 29))
        self.assertEqual(
            self._logs(self.birthday_rule, leapling).mapped("occasion_key"),
            ["2028-02-29", "2027-02-28"],
        )

    def test_birthday_change_rolls_next_date(self):
        customer = self._customer("Moving Mo", date(1985, 6, 1))
        self._run(date(2027, 1, 10))
        self.assertEqual(customer.ds_next_birthday, date(2027, 6, 1))
        customer.ds_birthday = date(1985, 1, 20)
        self._run(date(2027, 1, 11))
        self.assertEqual(customer.ds_next_birthday, date(2027, 1, 20))
        customer.ds_birthday = False
        self._run(date(2027, 1, 12))
        self.assertFalse(customer.ds_next_birthday)

    def test_missed_day_is_caught_up_once(self):
        customer = self._customer("Late Luc", date(1979, 8, 8))
        self._run(date(2027, 8, 7))
        # the cron did not run on the 8th
        self._run(date(2027, 8, 9))
        self.assertEqual(
            self._logs(self.birthday_rule, customer).occasion_key, "2027-08-08"
        )
        self._run(date(2027, 8, 10))
        self.assertEqual(len(self._logs(self.birthday_rule, customer)), 1)

    def test_opt_out_blacklist_and_audience(self):
        belgium = self.env.ref("base.be")
        wanted = self._customer("Willing Will", date(1970, 4, 4), country_id=belgium.id)
        opted_out = self._customer(
            "Quiet Quinn",
            date(1970, 4, 4),
            country_id=belgium.id,
            ds_lifecycle_opt_out=True,
        )
        blacklisted = self._customer(
            "Blocked Bea", date(1970, 4, 4), country_id=belgium.id
        )
        self.env["mail.blacklist"].create({"email": blacklisted.email})
        outside = self._customer(
            "Outside Otto", date(1970, 4, 4), country_id=self.env.ref("base.fr").id
        )
        no_email = self._customer(
            "Nomail Nina", date(1970, 4, 4), country_id=belgium.id, email=False
        )
        self.birthday_rule.domain = str([("country_id", "=", belgium.id)])
        self._run(date(2027, 4, 4))
        everyone = wanted | opted_out | blacklisted | outside | no_email
        self.assertEqual(self._logs(self.birthday_rule, everyone).partner_id, wanted)
        for partner in opted_out | blacklisted | outside:
            self.assertFalse(self._mails(partner), partner.name)

    def test_bad_audience_filter(self):
        with self.assertRaises(ValidationError):
            self.birthday_rule.domain = "[('no_such_field', '=', 1)]"

    def test_batches(self):
        customers = self.env["res.partner"].create(
            [
                {
                    "name": f"Batch {i}",
                    "email": f"batch{i}@example.com",
                    "ds_birthday": date(1991, 9, 9),
                }
                for i in range(7)
            ]
        )
        done = self._run(date(2027, 9, 9), batch_size=2)
        self.assertEqual(done, 7)
        self.assertEqual(
            self._logs(self.birthday_rule, customers).partner_id, customers
        )
        self.assertEqual(
            self._run(date(2027, 9, 9), batch_size=2), 0, "Nothing due on a rerun"
        )
        self.assertEqual(len(self._logs(self.birthday_rule, customers)), 7)

    def test_purchase_anniversary(self):
        rule = self.env.ref("crm_direct_selling.ds_lifecycle_rule_purchase_anniversary")
        rule.active = True
        customer = self._customer("Loyal Lou", ds_referrer_id=self.leader.id)
        customer.ds_first_purchase_date = date(2026, 5, 10)
        self._run(date(2026, 5, 10))
        self.assertFalse(self._logs(rule, customer), "Not on the purchase day itself")
        self.assertEqual(customer.ds_next_purchase_anniversary, date(2027, 5, 10))
        self._run(date(2027, 5, 9))
        self.assertFalse(self._logs(rule, customer))
        self._run(date(2027, 5, 10))
        self._run(date(2027, 5, 10))
        self.assertEqual(self._logs(rule, customer).occasion_key, "2027-05-10")
        body = str(self._mails(customer).body_html)
        self.assertIn("Loyal Lou", body)
        self.assertIn("Leader Lena", body)

    def test_first_purchase_from_posted_invoice(self):
        journal = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company.id)], limit=1
        )
        if not journal:
            self.skipTest("No sales journal (no chart of accounts) in this database")
        customer = self._customer("Invoice Ivy")
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": customer.id,
                "invoice_date": date(2026, 2, 3),
                "journal_id": journal.id,
                "invoice_line_ids": [
                    (0, 0, {"name": "Cream", "quantity": 1, "price_unit": 10.0})
                ],
            }
        )
        move.action_post()
        self._run(date(2026, 6, 1))
        self.assertEqual(customer.ds_first_purchase_date, date(2026, 2, 3))
        self.assertEqual(customer.ds_next_purchase_anniversary, date(2027, 2, 3))

    def test_enrollment_anniversary_and_welcome_series(self):
        rules = {
            name: self.env.ref(f"crm_direct_selling.ds_lifecycle_rule_{name}")
            for name in (
                "enrollment_anniversary",
                "welcome_0",
                "welcome_7",
                "welcome_30",
            )
        }
        rules_set = self.Rule.browse([rule.id for rule in rules.values()])
        rules_set.active = True
        recruit = self.env["ds.distributor"].create(
            {
                "name": "Recruit Rita",
                "email": "rita@example.com",
                "sponsor_id": self.leader.id,
                "enrollment_date": date(2028, 1, 31),
                "company_id": self.company.id,
            }
        )
        partner = recruit.partner_id
        expected = {
            date(2028, 1, 31): "welcome_0",
            date(2028, 2, 7): "welcome_7",
            date(2028, 3, 1): "welcome_30",  # 2028 is a leap year: 31 January + 30 days
            date(2029, 1, 31): "enrollment_anniversary",
        }
        for day in (
            date(2028, 1, 30),
            date(2028, 1, 31),
            date(2028, 2, 1),
            date(2028, 2, 6),
            date(2028, 2, 7),
            date(2028, 2, 29),
            date(2028, 3, 1),
            date(2028, 3, 2),
            date(2029, 1, 30),
            date(2029, 1, 31),
            date(2029, 2, 1),
            date(2029, 2, 2),
        ):
            self._run(day)
            for due_day, name in expected.items():
                count = len(self._logs(rules[name], partner))
                self.assertEqual(count, 1 if day >= due_day else 0, f"{name} on {day}")
        body = str(self._logs(rules["welcome_0"], partner).mail_id.body_html or "")
        mail = self._mails(partner).filtered(
            lambda m: "Welcome to the team" in (m.subject or "")
        )
        self.assertEqual(len(mail), 1)
        body = str(mail.body_html)
        self.assertIn(recruit.code, body)
        self.assertIn("Leader Lena", body, "The sponsor is named")
        self.assertIn("LC Bronze", body, "The next rank is named")
        self.assertEqual(recruit.ds_next_enrollment_anniversary, date(2030, 1, 31))

    def test_enrollment_on_29_february(self):
        rule = self.env.ref(
            "crm_direct_selling.ds_lifecycle_rule_enrollment_anniversary"
        )
        rule.active = True
        recruit = self.env["ds.distributor"].create(
            {
                "name": "Leap Leo",
                "email": "leo@example.com",
                "enrollment_date": date(2024, 2, 29),
                "company_id": self.company.id,
            }
        )
        self._run(date(2027, 2, 27))
        self.assertEqual(recruit.ds_next_enrollment_anniversary, date(2027, 2, 28))
        self._run(date(2027, 2, 28))
        self._run(date(2027, 3, 1))
        self.assertEqual(
            self._logs(rule, recruit.partner_id).occasion_key, "2027-02-28"
        )

    def _period(self, name, date_from, date_to, state="open"):
        period = self.env["ds.period"].create(
            {
                "name": name,
                "date_from": date_from,
                "date_to": date_to,
                "company_id": self.company.id,
            }
        )
        if state == "closed":
            period.write({"state": "closed"})
        return period

    def _volume(self, distributor, period, **vals):
        return self.env["ds.volume"].create(
            {
                "distributor_id": distributor.id,
                "period_id": period.id,
                "company_id": self.company.id,
                **vals,
            }
        )

    def test_rank_advancement(self):
        rule = self.env.ref("crm_direct_selling.ds_lifecycle_rule_rank_advancement")
        rule.active = True
        climber = self.env["ds.distributor"].create(
            {
                "name": "Climber Cleo",
                "email": "cleo@example.com",
                "sponsor_id": self.leader.id,
                "enrollment_date": date(2025, 1, 1),
                "rank_id": self.rank_gold.id,
                "company_id": self.company.id,
            }
        )
        steady = self.env["ds.distributor"].create(
            {
                "name": "Steady Sam",
                "email": "sam@example.com",
                "sponsor_id": self.leader.id,
                "enrollment_date": date(2025, 1, 1),
                "rank_id": self.rank_bronze.id,
                "company_id": self.company.id,
            }
        )
        period = self._period("LC 2031-01", date(2031, 1, 1), date(2031, 1, 31))
        self._volume(
            climber,
            period,
            pv=300,
            paid_rank_id=self.rank_gold.id,
            new_rank=True,
            is_active=True,
        )
        self._volume(
            steady,
            period,
            pv=100,
            paid_rank_id=self.rank_bronze.id,
            new_rank=False,
            is_active=True,
        )
        self._run(date(2031, 2, 2))
        self.assertFalse(self._logs(rule), "The period is still open")
        period.write({"state": "closed"})
        self._run(date(2031, 2, 2))
        self._run(date(2031, 2, 3))
        log = self._logs(rule)
        self.assertEqual(log.partner_id, climber.partner_id)
        self.assertEqual(log.occasion_key, f"rank-{self.rank_gold.id}")
        mail = self._mails(climber.partner_id)
        self.assertIn("LC Gold", mail.subject)
        self.assertIn("Leader Lena", str(mail.body_html))

    def _at_risk_setup(self, sleepers_under_leader=3, sleepers_elsewhere=2):
        """Closed periods LC 2032-01/02; ``sleepers_under_leader`` inactive frontline of
        Leader Lena, ``sleepers_elsewhere`` inactive frontline of a sponsor without a
        user, one busy and one new distributor."""
        rule = self.env.ref("crm_direct_selling.ds_lifecycle_rule_at_risk")
        rule.active = True
        orphan_sponsor = self.env["ds.distributor"].create(
            {
                "name": "Userless Ulla",
                "sponsor_id": self.leader.id,
                "enrollment_date": date(2032, 2, 20),  # too new to be at risk herself
                "company_id": self.company.id,
            }
        )

        def make(name, sponsor, enrolled=date(2025, 1, 1)):
            return self.env["ds.distributor"].create(
                {
                    "name": name,
                    "email": f"{name.split()[0].lower()}@example.com",
                    "sponsor_id": sponsor.id,
                    "enrollment_date": enrolled,
                    "company_id": self.company.id,
                }
            )

        sleepers = self.env["ds.distributor"].browse()
        for i in range(sleepers_under_leader):
            sleepers |= make(f"Sleepy{i} Sid", self.leader)
        others = self.env["ds.distributor"].browse()
        for i in range(sleepers_elsewhere):
            others |= make(f"Dozy{i} Dan", orphan_sponsor)
        busy = make("Busy Bo", self.leader)
        newbie = make("New Ned", self.leader, date(2032, 2, 10))
        p1 = self._period("LC 2032-01", date(2032, 1, 1), date(2032, 1, 31))
        p2 = self._period("LC 2032-02", date(2032, 2, 1), date(2032, 2, 29))
        self._volume(busy, p2, pv=150, is_active=True)
        (p1 | p2).write({"state": "closed"})
        return rule, sleepers, others, busy, newbie

    def _internal_user(self, name, login, partner=None):
        vals = {
            "name": name,
            "login": login,
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id])],
        }
        if partner:
            vals["partner_id"] = partner.id
        return self.env["res.users"].create(vals)

    def test_at_risk_grouped_per_responsible(self):
        """One to-do per responsible listing the inactive distributors (not one each),
        on the sponsor's internal user, else the responsible in Settings; batches of one
        occasion add to the same to-do."""
        rule, sleepers, others, busy, newbie = self._at_risk_setup()
        leader_user = self._internal_user(
            "Leader Lena", "lena.lc", self.leader.partner_id
        )
        responsible = self._internal_user("Rita Responsible", "rita.lc")
        self.company.ds_responsible_user_id = responsible
        rule.responsible_user_id = False
        self._run(date(2032, 3, 2), batch_size=2)
        self._run(date(2032, 3, 3), batch_size=2)
        logs = self._logs(rule)
        self.assertEqual(
            logs.partner_id,
            (sleepers | others).partner_id,
            "Only the distributors inactive for 2 closed periods",
        )
        self.assertNotIn(busy.partner_id, logs.partner_id)
        self.assertNotIn(newbie.partner_id, logs.partner_id)
        activities = logs.activity_id
        self.assertEqual(len(activities), 2, "one to-do per responsible")
        self.assertEqual(set(activities.mapped("res_model")), {"ds.lifecycle.rule"})
        by_user = {activity.user_id: activity for activity in activities}
        self.assertEqual(set(by_user), {leader_user, responsible})
        lena_todo = by_user[leader_user]
        self.assertIn("3 distributors", lena_todo.summary)
        for sleeper in sleepers:
            self.assertIn(sleeper.name, str(lena_todo.note))
        self.assertEqual(self._logs(rule, sleepers.partner_id).activity_id, lena_todo)
        rita_todo = by_user[responsible]
        self.assertIn("2 distributors", rita_todo.summary)
        self.assertIn("Userless Ulla", str(rita_todo.note), "the sponsor is named")
        odoobot = self.env.ref("base.user_root")
        self.assertFalse(
            self.env["mail.activity"].search(
                [("user_id", "=", odoobot.id), ("res_model", "=", "ds.lifecycle.rule")]
            )
        )

    def test_at_risk_never_to_odoobot(self):
        """Without a sponsor user and without a responsible, nobody gets a to-do and the
        occasions stay due until a responsible is set (the cron runs as OdooBot)."""
        rule, _sleepers, others, _busy, _newbie = self._at_risk_setup(
            sleepers_under_leader=0
        )
        self.company.ds_responsible_user_id = False
        rule.responsible_user_id = False
        self.assertTrue(self.env.user._is_superuser())
        self._run(date(2032, 3, 2))
        self.assertFalse(self._logs(rule), "nobody to tell: nothing logged, still due")
        self.assertFalse(
            self.env["mail.activity"].search([("res_model", "=", "ds.lifecycle.rule")])
        )
        # the rule's own responsible wins over Settings
        rule_user = self._internal_user("Rudi Rule", "rudi.lc")
        rule.responsible_user_id = rule_user
        self.company.ds_responsible_user_id = self._internal_user(
            "Sam Settings", "sam.lc"
        )
        self._run(date(2032, 3, 3))
        logs = self._logs(rule)
        self.assertEqual(logs.partner_id, others.partner_id)
        self.assertEqual(logs.activity_id.user_id, rule_user)

    def test_at_risk_in_the_responsible_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        rule, sleepers, _others, _busy, _newbie = self._at_risk_setup(
            sleepers_under_leader=1, sleepers_elsewhere=0
        )
        leader_user = self._internal_user(
            "Leader Lena", "lena.lc", self.leader.partner_id
        )
        leader_user.lang = "zh_CN"
        self._run(date(2032, 3, 2))
        activity = self._logs(rule).activity_id
        self.assertEqual(activity.user_id, leader_user)
        self.assertIn(sleepers.name, str(activity.note))

    def test_period_close_reminder(self):
        rule = self.env.ref(
            "crm_direct_selling.ds_lifecycle_rule_period_close_reminder"
        )
        rule.active = True
        period = self._period("LC 2033-04", date(2033, 4, 1), date(2033, 4, 30))
        close, far, done_ = self.env["ds.distributor"].create(
            [
                {
                    "name": name,
                    "email": f"{name.split()[0].lower()}@example.com",
                    "sponsor_id": self.leader.id,
                    "enrollment_date": date(2030, 1, 1),
                    "company_id": self.company.id,
                }
                for name in ("Close Cody", "Far Fay", "Done Dan")
            ]
        )
        self._volume(close, period, pv=85, gv=85)
        self._volume(far, period, pv=50, gv=50)
        self._volume(done_, period, pv=120, gv=120)
        self._run(date(2033, 4, 20))
        self.assertFalse(self._logs(rule), "Too early")
        self._run(date(2033, 4, 26))
        self._run(date(2033, 4, 27))
        log = self._logs(rule)
        self.assertEqual(log.partner_id, close.partner_id)
        self.assertEqual(log.occasion_key, f"period-{period.id}")
        mail = self._mails(close.partner_id)
        self.assertIn("15 PV", mail.subject, "PV to next rank (100 - 85)")
        self.assertIn("LC Bronze", mail.subject)

    def test_rule_without_template_refused(self):
        with self.assertRaises(ValidationError):
            self.Rule.create({"name": "No template", "trigger": "birthday"})

    def test_loyalty_points_personalisation(self):
        if "loyalty.program" not in self.env:
            self.skipTest("Loyalty app not installed")
        program = self.env["loyalty.program"].create(
            {
                "name": "LC Points",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
            }
        )
        customer = self._customer("Points Pia", date(1980, 10, 10))
        self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": customer.id, "points": 42}
        )
        self.assertEqual(customer.ds_loyalty_points, 42)
        self._run(date(2027, 10, 10))
        self.assertIn("42", str(self._mails(customer).body_html))

    def test_batch_rendering_matches_mail_template(self):
        """The per-batch body rendering gives the same HTML as mail.template."""
        template = self.env.ref(
            "crm_direct_selling.mail_template_ds_enrollment_anniversary"
        )
        recruits = self.env["ds.distributor"].create(
            [
                {
                    "name": f"Render {i}",
                    "email": f"render{i}@example.com",
                    "sponsor_id": self.leader.id,
                    "enrollment_date": date(2024, 3, i + 1),
                    "company_id": self.company.id,
                }
                for i in range(3)
            ]
        )
        partners = recruits.partner_id | self.leader.partner_id
        expected = template._render_field("body_html", partners.ids, compute_lang=True)
        bodies = self.Rule._ds_render_bodies(template, partners.ids)
        self.assertEqual(set(bodies), set(partners.ids))
        for partner in partners:
            self.assertEqual(
                str(bodies[partner.id]).strip(),
                str(expected[partner.id]).strip(),
                partner.name,
            )
            self.assertIn(partner.name, str(bodies[partner.id]))

    def test_failing_rule_does_not_block_others(self):
        broken_template = self.env["mail.template"].create(
            {
                "name": "LC broken",
                "model_id": self.env.ref("base.model_res_partner").id,
                "subject": "Broken",
                "partner_to": "{{ object.id }}",
                "body_html": '<p><t t-out="object.name.no_such_attribute"/></p>',
            }
        )
        broken = self.Rule.create(
            {
                "name": "LC broken birthday",
                "trigger": "birthday",
                "template_id": broken_template.id,
            }
        )
        customer = self._customer("Robust Rob", date(1975, 11, 11))
        with self.assertLogs(
            "odoo.addons.crm_direct_selling.models.ds_lifecycle_rule", level="ERROR"
        ):
            done = self._run(date(2027, 11, 11))
        self.assertEqual(done, 1, "The healthy rule still sends")
        self.assertEqual(len(self._logs(self.birthday_rule, customer)), 1)
        self.assertFalse(
            self._logs(broken, customer), "Nothing logged for the failed batch"
        )
        broken_template.body_html = "<p>Fixed <t t-out='object.name'/></p>"
        self._run(date(2027, 11, 11))
        self.assertEqual(
            len(self._logs(broken, customer)), 1, "Retried on the next run"
        )

    def test_cron_records_run(self):
        """The shipped crons call the right methods and report progress."""
        today = fields.Date.context_today(self.Rule)
        customer = self._customer(
            "Cron Cara",
            today.replace(year=1990)
            if (today.month, today.day) != (2, 29)
            else date(1992, 2, 29),
        )
        cron = self.env.ref("crm_direct_selling.ir_cron_ds_lifecycle")
        cron.method_direct_trigger()
        self.assertEqual(len(self._logs(self.birthday_rule, customer)), 1)
        progress = self.env["ir.cron.progress"].search(
            [("cron_id", "=", cron.id)], order="id desc", limit=1
        )
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        escalation = self.env.ref("crm_direct_selling.ir_cron_ds_lead_escalation")
        self.assertTrue(escalation.method_direct_trigger())
