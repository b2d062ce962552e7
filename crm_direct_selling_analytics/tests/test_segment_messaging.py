import re

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DsAnalyticsCommon


def _plain(html):
    """Visible text of a mail body, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html or "").split())


@tagged("post_install", "-at_install")
class TestSegmentMessaging(DsAnalyticsCommon):
    """Company-to-segment mailings: really sent through the mass-mailing queue, checked on the
    mailing.trace and mail.mail rows: personalisation per recipient, target group only (never
    the control group nor the global holdout), opt-outs, UTM attribution, A/B variants."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"ds_holdout_pct": 25.0, "ds_holdout_seed": "segmsg"})
        # own ranks above the data ranks, so "next rank" is known: Consultant -> Manager (100 PV)
        cls.rank_c = cls.env["ds.rank"].create(
            {"name": "Msg Consultant", "sequence": 9000}
        )
        cls.rank_m = cls.env["ds.rank"].create(
            {"name": "Msg Manager", "sequence": 9010, "min_pv": 100.0}
        )
        today = fields.Date.context_today(cls.env["ds.period"])
        cls.period = cls.env["ds.period"].create(
            {
                "name": "Messaging period",
                "date_from": today.replace(day=1),
                "date_to": today.replace(day=1) + relativedelta(months=1, days=-1),
            }
        )
        cls.sponsor_a = cls._distributor("UplineAna", rank_id=cls.rank_m.id)
        cls.sponsor_b = cls._distributor("UplineBo", rank_id=cls.rank_m.id)
        cls.distributors = cls.env["ds.distributor"].create(
            [
                {
                    "name": f"Dist{i:02d}",
                    "email": f"dist{i:02d}@example.com",
                    "sponsor_id": (cls.sponsor_a if i % 2 else cls.sponsor_b).id,
                    "rank_id": cls.rank_c.id,
                }
                for i in range(40)
            ]
        )
        # own PV i + 1 in the open period -> 99 - i PV to Manager; 10 i + 5 loyalty points
        cls.env["ds.volume"].create(
            [
                {
                    "distributor_id": d.id,
                    "period_id": cls.period.id,
                    "company_id": cls.company.id,
                    "pv": i + 1.0,
                }
                for i, d in enumerate(cls.distributors)
            ]
        )
        program = cls.env["loyalty.program"].create(
            {"name": "Messaging points", "program_type": "loyalty"}
        )
        cls.env["loyalty.card"].create(
            [
                {
                    "program_id": program.id,
                    "partner_id": d.partner_id.id,
                    "points": 10.0 * i + 5.0,
                }
                for i, d in enumerate(cls.distributors)
            ]
        )
        cls.expected = {
            d.partner_id.id: {
                "name": d.name,
                "sponsor": (cls.sponsor_a if i % 2 else cls.sponsor_b).name,
                "pv": 99.0 - i,
                "points": 10.0 * i + 5.0,
            }
            for i, d in enumerate(cls.distributors)
        }
        cls.partners = cls.distributors.partner_id
        cls.segment = cls._segment_of(cls.partners, "Messaging audience")
        cls.campaign = cls.env["ds.campaign"].create(
            {
                "name": "Autumn push",
                "segment_id": cls.segment.id,
                "seed": "segmsg",
                "control_pct": 25.0,
                "stratify": False,
                "date_start": today,
                "date_end": today + relativedelta(days=30),
            }
        )
        cls.campaign.action_assign()
        members = cls.campaign.member_ids
        cls.target = members.filtered(lambda m: m.group == "target").partner_id.sorted(
            "id"
        )
        cls.control = members.filtered(lambda m: m.group == "control").partner_id
        cls.holdout = cls.partners - members.partner_id
        # three target members opted out, each in a different way
        cls.opt_lifecycle, cls.opt_blacklist, cls.opt_list = cls.target[:3]
        cls.opt_lifecycle.ds_lifecycle_opt_out = True
        cls.env["mail.blacklist"]._add(cls.opt_blacklist.email)
        newsletter = cls.env["mailing.list"].create({"name": "Newsletter"})
        cls.env["mailing.contact"].create(
            {
                "name": cls.opt_list.name,
                "email": cls.opt_list.email,
                "subscription_ids": [
                    Command.create({"list_id": newsletter.id, "opt_out": True})
                ],
            }
        )
        cls.opted_out = cls.opt_lifecycle | cls.opt_blacklist | cls.opt_list
        cls.reachable = cls.target - cls.opted_out

    # ------------------------------------------------------------------ helpers
    def _traces(self, mailings):
        return self.env["mailing.trace"].search(
            [("mass_mailing_id", "in", mailings.ids)]
        )

    def _mails(self, mailings):
        return self.env["mail.mail"].sudo().search([("mailing_id", "in", mailings.ids)])

    def _assert_never_outside_target(self, mailings):
        traces = self._traces(mailings)
        traced = self.env["res.partner"].browse(traces.mapped("res_id"))
        self.assertTrue(traced, "the mailing reached somebody")
        self.assertFalse(traced - self.target, "only target members get a trace")
        self.assertFalse(traced & self.control, "no control member gets a trace")
        self.assertFalse(traced & self.holdout, "no holdout member gets a trace")
        mails = self._mails(mailings)
        self.assertFalse(
            set(mails.mapped("res_id")) & set((self.control | self.holdout).ids),
            "no mail.mail about a control or holdout member",
        )
        addressed = set(mails.mapped("email_to")) | set(
            mails.recipient_ids.mapped("email")
        )
        self.assertFalse(
            addressed & set((self.control | self.holdout).mapped("email")),
            "no mail addressed to a control or holdout member",
        )
        return traces, mails

    def _assert_personalised(self, mail):
        exp = self.expected[mail.res_id]
        text = _plain(mail.body_html)
        self.assertIn(f"Hello {exp['name']},", text)
        self.assertIn("Your rank: Msg Consultant.", text)
        self.assertIn(f"Your sponsor: {exp['sponsor']}.", text)
        self.assertIn(f"Only {exp['pv']:.2f} PV to go to reach Msg Manager.", text)
        self.assertIn(f"Your points balance: {exp['points']:.2f} points.", text)

    # ------------------------------------------------------------------ tests
    def test_fixture_has_every_group(self):
        self.assertTrue(self.control, "control group not empty")
        self.assertTrue(self.holdout, "global holdout not empty")
        self.assertEqual(self.campaign.holdout_count, len(self.holdout))
        self.assertGreater(len(self.reachable), 5)

    def test_personalised_mailing_target_only(self):
        action = self.campaign.action_create_mailing()
        mailing = self.env["mailing.mailing"].browse(action["res_id"])
        utm = self.campaign.utm_campaign_id
        self.assertTrue(utm, "a UTM campaign is created for the campaign")
        self.assertEqual(mailing.campaign_id, utm)
        self.assertEqual(mailing.ds_campaign_id, self.campaign)
        self.assertEqual(mailing.mailing_model_real, "res.partner")
        self.assertIn(mailing, self.campaign.mailing_ids)
        self.assertIn('t-out="object.name', mailing.body_html)
        # the recipient count already leaves out control and holdout
        self.assertEqual(mailing.ds_excluded_count, len(self.control | self.holdout))
        self.assertEqual(set(mailing._get_recipients()), set(self.target.ids))
        # keep the sent mail.mail rows (small batches are sent at once, then deleted by default)
        mailing.keep_archives = True

        # launching the campaign queues its draft mailings; the queue cron sends them
        self.campaign.action_launch()
        self.assertEqual(mailing.state, "in_queue")
        self.env["mailing.mailing"]._process_mass_mailing_queue()
        self.env["mailing.mailing"]._process_mass_mailing_queue()
        self.assertEqual(mailing.state, "done")

        traces, mails = self._assert_never_outside_target(mailing)
        self.assertEqual(
            set(traces.mapped("res_id")),
            set(self.target.ids),
            "every target member has exactly one trace",
        )
        self.assertEqual(len(traces), len(self.target))
        self.assertEqual(traces.campaign_id, utm, "traces carry the UTM campaign")

        # opted-out members: a cancelled trace, no mail that can leave
        by_partner = {t.res_id: t for t in traces}
        self.assertEqual(by_partner[self.opt_lifecycle.id].trace_status, "cancel")
        self.assertEqual(by_partner[self.opt_lifecycle.id].failure_type, "mail_optout")
        self.assertEqual(by_partner[self.opt_list.id].trace_status, "cancel")
        self.assertEqual(by_partner[self.opt_list.id].failure_type, "mail_optout")
        self.assertEqual(by_partner[self.opt_blacklist.id].trace_status, "cancel")
        self.assertEqual(by_partner[self.opt_blacklist.id].failure_type, "mail_bl")
        live = mails.filtered(lambda m: m.state != "cancel")
        self.assertFalse(
            set(live.mapped("res_id")) & set(self.opted_out.ids),
            "no outgoing mail for an opted-out contact",
        )
        for partner in self.reachable:
            self.assertNotEqual(by_partner[partner.id].trace_status, "cancel")

        # every reachable target member got their own personalised mail
        self.assertEqual(set(live.mapped("res_id")), set(self.reachable.ids))
        self.assertEqual(len(live), len(self.reachable))
        for mail in live:
            self.assertIn(mail.state, ("outgoing", "sent"))
            self.assertEqual(
                mail.email_to or mail.recipient_ids.email,
                self.env["res.partner"].browse(mail.res_id).email,
            )
            self._assert_personalised(mail)
        # the subject is personalised too
        first = live.sorted("res_id")[0]
        self.assertEqual(
            first.subject,
            f"News for you, {self.expected[first.res_id]['name']}",
        )
        # running the queue again reaches nobody new
        self.assertEqual(mailing._get_remaining_recipients(), [])

    def test_ab_variants_target_only(self):
        action_a = self.campaign.action_create_mailing(ab_testing_pc=30)
        mailing_a = self.env["mailing.mailing"].browse(action_a["res_id"])
        body_b = (
            '<div><p>Variant B for <t t-out="object.name"/>: '
            '<t t-out="object.ds_pv_to_next_rank"/> PV left.</p></div>'
        )
        action_b = self.campaign.action_create_mailing(
            ab_testing_pc=30, subject="Variant B", body_html=body_b
        )
        mailing_b = self.env["mailing.mailing"].browse(action_b["res_id"])
        both = mailing_a | mailing_b
        both.keep_archives = True
        self.assertEqual(both.campaign_id, self.campaign.utm_campaign_id)
        self.assertTrue(all(both.mapped("ab_testing_enabled")))
        self.assertEqual(self.campaign.utm_campaign_id.ab_testing_mailings_count, 2)

        n_target = len(self.target)
        expected_size = max(int(n_target / 100.0 * 30), 1)
        self.assertEqual(mailing_a.total, expected_size)
        mailing_a.action_send_mail()
        mailing_b.action_send_mail()

        traces_a, _mails_a = self._assert_never_outside_target(mailing_a)
        traces_b, mails_b = self._assert_never_outside_target(mailing_b)
        self.assertEqual(len(traces_a), expected_size)
        self.assertEqual(len(traces_b), expected_size)
        self.assertFalse(
            set(traces_a.mapped("res_id")) & set(traces_b.mapped("res_id")),
            "the two variants reach different target members",
        )
        for mail in mails_b.filtered(lambda m: m.state != "cancel"):
            self.assertIn(
                f"Variant B for {self.expected[mail.res_id]['name']}:",
                _plain(mail.body_html),
            )

        # the winner goes to the rest of the target group, still never to control / holdout
        action = mailing_b.action_select_as_winner()
        final = self.env["mailing.mailing"].browse(action["res_id"])
        self.assertEqual(final.ds_campaign_id, self.campaign)
        self.assertEqual(final.state, "in_queue")
        self.env["mailing.mailing"]._process_mass_mailing_queue()
        traces_final, _mails_final = self._assert_never_outside_target(final)
        self.assertEqual(
            set(traces_final.mapped("res_id")),
            set(self.target.ids)
            - set(traces_a.mapped("res_id"))
            - set(traces_b.mapped("res_id")),
        )
        all_traces = self._traces(both | final)
        self.assertEqual(set(all_traces.mapped("res_id")), set(self.target.ids))
        self.assertEqual(all_traces.campaign_id, self.campaign.utm_campaign_id)

    def test_default_content_from_template(self):
        template = self.env.ref(
            "crm_direct_selling_analytics.ds_segment_mailing_template"
        )
        template.write(
            {
                "subject": "Hi {{ object.name }}",
                "body_html": '<p>Edited <t t-out="object.name"/></p>',
            }
        )
        action = self.campaign.action_create_mailing()
        mailing = self.env["mailing.mailing"].browse(action["res_id"])
        self.assertEqual(mailing.subject, "Hi {{ object.name }}")
        self.assertIn("Edited", mailing.body_html)
        # an existing UTM campaign is reused, not replaced
        utm = self.campaign.utm_campaign_id
        again = self.env["mailing.mailing"].browse(
            self.campaign.action_create_mailing()["res_id"]
        )
        self.assertEqual(again.campaign_id, utm)

    def test_refused_cases(self):
        with self.assertRaises(UserError):
            self.campaign.action_create_mailing(ab_testing_pc=100)
        self.campaign.action_cancel()
        with self.assertRaises(UserError):
            self.campaign.action_create_mailing()

    def test_segment_mailing_spares_holdout_and_running_controls(self):
        """A plain segment mailing (no campaign) never reaches the global holdout,
        nor the control group of a campaign that is running on its audience."""
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Segment news",
                "body_html": "<p>News</p>",
                "mailing_model_id": self.env["ir.model"]._get("res.partner").id,
                "ds_segment_id": self.segment.id,
            }
        )
        # before launch the campaign's control group is not protected yet
        before = set(mailing._get_recipients())
        self.assertEqual(before, set((self.partners - self.holdout).ids))
        self.campaign.action_launch()
        after = set(mailing._get_recipients())
        self.assertEqual(after, set(self.target.ids))
        self.assertFalse(after & set(self.holdout.ids))
        self.assertFalse(after & set(self.control.ids))
