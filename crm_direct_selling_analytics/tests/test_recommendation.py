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
