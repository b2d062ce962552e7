"""Next best product (issue 16): association rules from real posted invoices, pressed
through the web client's list header button; the campaign mail field names each
partner's own recommendation."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_direct_selling.tests.rpc import call_button

from .common import DsAnalyticsCommon


@tagged("post_install", "-at_install")
class TestRecommendation(DsAnalyticsCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="ds_reco_manager",
            password="ds_reco_manager",
            groups="crm_direct_selling.group_ds_manager,base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        Product = cls.env["product.product"]
        cls.shake, cls.bar, cls.tea, cls.mug, cls.rare, cls.odd = (
            Product.create({"name": name, "type": "consu", "list_price": 10.0})
            for name in ("Shake", "Bar", "Tea", "Mug", "Rare", "Odd")
        )
        today = fields.Date.context_today(Product)
        baskets = (
            [(cls.shake, cls.bar)] * 60  # shake buyers mostly take the bar too
            + [(cls.shake,)] * 20
            + [(cls.tea, cls.mug)] * 10
            + [(cls.tea,)] * 15
            + [(cls.mug,)] * 30
            + [(cls.rare, cls.odd)] * 3  # too few buyers to be a rule
            + [(cls.rare,)] * 2
        )
        cls.partners = cls.env["res.partner"].create(
            [{"name": f"Basket {i}"} for i in range(len(baskets))]
        )
        invoices = cls.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": today - timedelta(days=30),
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": p.id, "quantity": 1, "price_unit": 10.0}
                        )
                        for p in basket
                    ],
                }
                for partner, basket in zip(cls.partners, baskets, strict=True)
            ]
        )
        invoices.action_post()
        cls.baskets = dict(zip(cls.partners, baskets, strict=True))

    def test_recommendations_from_co_purchases(self):
        body = call_button(
            self,
            self.manager.login,
            "ds.partner.recommendation",
            "action_compute_all",
            [],
        )
        self.assertNotIn("error", body, body.get("error"))
        Reco = self.env["ds.partner.recommendation"]
        shake_only = [p for p, b in self.baskets.items() if b == (self.shake,)]
        for partner in shake_only:
            top = Reco.search([("partner_id", "=", partner.id), ("rank", "=", 1)])
            self.assertEqual(top.product_id, self.bar)
            self.assertEqual(top.because_product_id, self.shake)
            self.assertAlmostEqual(top.score, 60 / 80)
            n = len(self.baskets)
            self.assertAlmostEqual(top.lift, 60 * n / (80 * 60))
            self.assertEqual(partner.ds_next_product_id, self.bar, "for campaign mails")
        tea_only = [p for p, b in self.baskets.items() if b == (self.tea,)]
        self.assertEqual(
            Reco.search([("partner_id", "=", tea_only[0].id)]).product_id, self.mug
        )
        # mug buyers: tea's lift is 10 * 140 / (40 * 25) = 1.4, confidence 10 / 40
        mug_only = [p for p, b in self.baskets.items() if b == (self.mug,)]
        self.assertEqual(
            Reco.search([("partner_id", "=", mug_only[0].id)]).product_id, self.tea
        )
        # nothing they already bought, no rule from fewer than 5 buyers
        both = [p for p, b in self.baskets.items() if b == (self.shake, self.bar)]
        self.assertFalse(Reco.search([("partner_id", "in", [p.id for p in both])]))
        rare_only = [p for p, b in self.baskets.items() if b == (self.rare,)]
        self.assertFalse(Reco.search([("partner_id", "in", [p.id for p in rare_only])]))
        self.assertFalse(Reco.search([("product_id", "=", self.odd.id)]))
        # no rule where buying one makes the other less likely (lift <= 1): shake and tea
        # buyers never cross
        self.assertFalse(
            Reco.search(
                [
                    ("partner_id", "in", [p.id for p in tea_only]),
                    ("product_id", "in", (self.shake | self.bar).ids),
                ]
            )
        )

    def test_recompute_in_the_background(self):
        self.company.ds_decision_async_threshold = 0
        body = call_button(
            self,
            self.manager.login,
            "ds.partner.recommendation",
            "action_compute_all",
            [],
        )
        self.assertNotIn("error", body, body.get("error"))
        self.assertEqual(body["result"]["tag"], "display_notification")
        self.company.invalidate_recordset()
        self.assertEqual(self.company.ds_reco_job_state, "queued")
        Reco = self.env["ds.partner.recommendation"]
        self.assertFalse(Reco.search_count([]), "the button did not compute")
        self.env["ds.partner.recommendation"]._cron_compute_queued()
        self.assertEqual(self.company.ds_reco_job_state, "done")
        shake_only = next(p for p, b in self.baskets.items() if b == (self.shake,))
        self.assertEqual(shake_only.ds_next_product_id, self.bar)

    def test_campaign_mails_each_member_their_own_recommendation(self):
        """A campaign with "Recommend each member's next product": its mailing, created
        through the web client's button, names each recipient's own next best product:
        Bar for a shake buyer, Mug for a tea buyer, nothing for a member without one."""
        self.env["ds.partner.recommendation"]._compute_company(self.company)
        self.manager.groups_id |= self.env.ref("mass_mailing.group_mass_mailing_user")
        wanted = {(self.shake,), (self.tea,), (self.shake, self.bar)}
        members = self.env["res.partner"].browse(
            [p.id for p, b in self.baskets.items() if b in wanted]
        )
        for partner in members:
            partner.email = f"{partner.name.replace(' ', '').lower()}@example.com"
        today = fields.Date.context_today(self.env["ds.campaign"])
        campaign = self.env["ds.campaign"].create(
            {
                "name": "Picked for you",
                "segment_id": self._segment_of(members, "Reco audience").id,
                "seed": "reco",
                "control_pct": 30.0,
                "stratify": False,
                "recommend_product": True,
                "date_start": today,
                "date_end": today + timedelta(days=30),
            }
        )
        campaign.action_assign()
        target = campaign.member_ids.filtered(lambda m: m.group == "target").partner_id
        shake_buyer = next(p for p in target if self.baskets[p] == (self.shake,))
        tea_buyer = next(p for p in target if self.baskets[p] == (self.tea,))
        both = next(p for p in target if self.baskets[p] == (self.shake, self.bar))
        body = call_button(
            self,
            self.manager.login,
            "ds.campaign",
            "action_create_mailing",
            campaign.ids,
        )
        self.assertNotIn("error", body, body.get("error"))
        mailing = self.env["mailing.mailing"].browse(body["result"]["res_id"])
        self.assertIn("ds_next_product_id", mailing.body_html)
        mailing.write({"keep_archives": True, "email_from": "shop@example.com"})
        campaign.action_launch()
        self.env["mailing.mailing"]._process_mass_mailing_queue()
        self.env["mailing.mailing"]._process_mass_mailing_queue()
        self.assertEqual(mailing.state, "done")
        mails = self.env["mail.mail"].sudo().search([("mailing_id", "=", mailing.id)])
        by_partner = {mail.res_id: mail.body_html for mail in mails}
        self.assertEqual(set(by_partner), set(target.ids), "the target group only")
        self.assertIn("Picked for you:", by_partner[shake_buyer.id])
        self.assertIn("Bar", by_partner[shake_buyer.id])
        self.assertNotIn("Mug", by_partner[shake_buyer.id])
        self.assertIn("Mug", by_partner[tea_buyer.id])
        self.assertNotIn("Bar", by_partner[tea_buyer.id])
        self.assertNotIn("Picked for you", by_partner[both.id], "no recommendation")
