from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import DsAnalyticsCommon


@tagged("post_install", "-at_install")
class TestCampaignChannels(DsAnalyticsCommon):
    """Mailings and coupons reach the target group only; checked on mail, trace and card records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.env["res.partner"]
        for i in range(40):
            cls.customers |= cls._customer(f"Chan{i:02d}")
        cls.segment = cls._segment_of(cls.customers, "Channel audience")
        cls.campaign = cls.env["ds.campaign"].create(
            {
                "name": "Coupons and mail",
                "segment_id": cls.segment.id,
                "seed": "chan",
                "control_pct": 50.0,
                "date_start": "2026-07-01",
                "date_end": "2026-07-31",
            }
        )
        cls.campaign.action_assign()
        cls.target = cls.campaign.member_ids.filtered(
            lambda m: m.group == "target"
        ).partner_id
        cls.control = cls.campaign.member_ids.filtered(
            lambda m: m.group == "control"
        ).partner_id

    def test_groups_not_empty(self):
        self.assertTrue(self.target and self.control)
        self.assertEqual(len(self.target) + len(self.control), 40)

    def test_mailing_never_reaches_control(self):
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Spring offer",
                "body_html": "<p>Hello</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "in", self.customers.ids)]),
                "ds_campaign_id": self.campaign.id,
                "keep_archives": True,
                "email_from": "shop@example.com",
            }
        )
        self.assertEqual(mailing.ds_excluded_count, len(self.control))
        self.campaign.action_launch()
        self.assertEqual(mailing.state, "in_queue")
        self.env["mailing.mailing"]._process_mass_mailing_queue()
        self.assertEqual(mailing.state, "done")
        traces = self.env["mailing.trace"].search(
            [("mass_mailing_id", "=", mailing.id)]
        )
        traced = self.env["res.partner"].browse(traces.mapped("res_id"))
        self.assertEqual(
            traced, self.target, "every target member and only them got a trace"
        )
        self.assertFalse(traced & self.control)
        mails = self.env["mail.mail"].sudo().search([("mailing_id", "=", mailing.id)])
        self.assertTrue(mails)
        mailed_emails = set(mails.mapped("email_to")) | set(
            mails.recipient_ids.mapped("email")
        )
        self.assertFalse(
            mailed_emails & set(self.control.mapped("email")),
            "no mail addressed to control",
        )
        self.assertEqual(mailing.ds_excluded_count, len(self.control))
        # sending again (e.g. the queue running twice) reaches nobody new
        self.assertEqual(mailing._get_remaining_recipients(), [])

    def test_segment_as_mailing_audience(self):
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Segment mail",
                "body_html": "<p>Hi</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "ds_segment_id": self.segment.id,
            }
        )
        self.assertEqual(set(mailing._get_recipients()), set(self.customers.ids))

    def test_coupons_only_for_target(self):
        program = self.env["loyalty.program"].create(
            {
                "name": "Welcome back coupon",
                "program_type": "coupons",
                "ds_campaign_id": self.campaign.id,
            }
        )
        self.campaign.action_launch()
        cards = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        self.assertEqual(cards.partner_id, self.target)
        self.assertEqual(len(cards), len(self.target))
        self.assertEqual(self.campaign.coupon_count, len(self.target))
        # issuing again creates no duplicates
        self.campaign.action_issue_coupons()
        self.assertEqual(
            self.env["loyalty.card"].search_count([("program_id", "=", program.id)]),
            len(self.target),
        )
        # a coupon for a control member is refused, whoever creates it
        with self.assertRaises(ValidationError):
            self.env["loyalty.card"].create(
                {"program_id": program.id, "partner_id": self.control[0].id}
            )
        # the standard generate wizard silently keeps the target members only
        wizard = (
            self.env["loyalty.generate.wizard"]
            .with_context(active_id=program.id)
            .create(
                {
                    "program_id": program.id,
                    "mode": "selected",
                    "customer_ids": [(6, 0, self.customers.ids)],
                    "points_granted": 1,
                }
            )
        )
        self.assertEqual(wizard.coupon_qty, len(self.target))
        wizard.generate_coupons()
        cards = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        self.assertFalse(cards.partner_id & self.control)
