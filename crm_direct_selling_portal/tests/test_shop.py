import json
import re
from datetime import date

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DsPortalCommon


class DsShopCommon(DsPortalCommon):
    """The portal network plus a shop: a published service product of 100.00 with
    10 PV / 8 BV, a rank pricelist of 20 % off on Silver (Lana's rank), the demo payment
    provider in test mode."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.website = env["website"].get_current_website()
        cls.website.company_id = cls.company
        cls.product = env["product.product"].create(
            {
                "name": "DS Shop Vitamin",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
                "is_published": True,
                "sale_ok": True,
                "ds_pv": 10.0,
                "ds_bv": 8.0,
            }
        )
        cls.public_pricelist = cls.website.pricelist_id
        cls.rank_pricelist = env["product.pricelist"].create(
            {
                "name": "DSP Silver prices",
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "3_global",
                            "compute_price": "percentage",
                            "percent_price": 20.0,
                        }
                    )
                ],
            }
        )
        cls.bronze_pricelist = env["product.pricelist"].create(
            {
                "name": "DSP Bronze prices",
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "3_global",
                            "compute_price": "percentage",
                            "percent_price": 10.0,
                        }
                    )
                ],
            }
        )
        cls.rank_silver.pricelist_id = cls.rank_pricelist
        cls.rank_bronze.pricelist_id = cls.bronze_pricelist
        journal = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.demo_provider = (
            env["payment.provider"].sudo().search([("code", "=", "demo")], limit=1)
        )
        cls.demo_provider.write(
            {
                "state": "test",
                "is_published": True,
                "company_id": cls.company.id,
                "website_id": cls.website.id,
                "journal_id": journal.id,
            }
        )
        cls.demo_provider.payment_method_ids.active = True
        address = {
            "street": "1 Rue Neuve",
            "city": "Brussels",
            "zip": "1000",
            "country_id": env.ref("base.be").id,
            "phone": "+32 470 00 00 01",
        }
        (cls.lana | cls.sam).partner_id.write(address)
        cls.consumer_partner.write(address)

    def _csrf(self, url):
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def _shop_orders(self, partner):
        return self.env["sale.order"].search(
            [("partner_id", "=", partner.id), ("website_id", "=", self.website.id)]
        )

    def _add_to_cart(self):
        """Adds the product to the current session's cart through the shop's JSON route."""
        response = self.make_jsonrpc_request(
            "/shop/cart/update_json",
            {"product_id": self.product.id, "add_qty": 1},
        )
        self.assertTrue(response.get("cart_quantity"), response)
        return response


@tagged("post_install", "-at_install")
class TestDsShopTours(DsShopCommon):
    def test_distributor_buys_at_rank_price_and_sees_pv(self):
        """Lana (Silver, rank pricelist 20 % off) buys for herself: 80.00 and 10 PV are
        shown; the order is confirmed by the demo payment and credited to her, and so is
        its invoice."""
        self.lana.partner_id.property_product_pricelist = self.rank_pricelist
        self.start_tour("/shop", "ds_shop_distributor_tour", login=self.user_lana.login)
        order = self._shop_orders(self.lana.partner_id)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.pricelist_id, self.rank_pricelist)
        self.assertEqual(order.amount_untaxed, 80.0)
        self.assertEqual(order.ds_pv_total, 10.0)
        self.assertEqual(order.ds_distributor_id, self.lana)
        self.assertFalse(order.ds_referrer_id)
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.ds_distributor_id, self.lana)
        self.assertEqual(invoice.ds_pv_total, 10.0)
        self.assertEqual(invoice.amount_untaxed, 80.0)

    def test_visitor_buys_through_link_and_is_attributed(self):
        """An anonymous visitor opens Lana's link, buys as a guest (address at checkout)
        and pays: they become Lana's protected customer, the order and its invoice are
        credited to Lana, and the plan's retail step pays her on that invoice."""
        self.start_tour("/ds/ref/DSP-LANA", "ds_shop_visitor_tour")
        vera = self.env["res.partner"].search(
            [("email", "=", "vera.visitor@example.com")]
        )
        self.assertEqual(len(vera), 1)
        self.assertEqual(vera.ds_referrer_id, self.lana)
        self.assertTrue(vera.ds_referrer_locked)
        public_partner = self.website.user_id.partner_id
        self.assertFalse(public_partner.ds_referrer_id)
        order = self._shop_orders(vera)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.amount_untaxed, 100.0)
        self.assertEqual(order.ds_referrer_id, self.lana)
        self.assertEqual(order.ds_distributor_id, self.lana)
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.ds_distributor_id, self.lana)
        self.assertEqual(invoice.ds_period_id, self.period)
        # the retail profit: 10 % of the referred customer's BV (8.00) = 0.80
        plan = self.env["ds.plan"].create(
            {"name": "DSP shop plan", "retail_mode": "bv_rate", "retail_rate": 10.0}
        )
        run = self.env["ds.bonus.run"].create(
            {"period_id": self.period.id, "plan_id": plan.id}
        )
        run.with_context(ds_bonus_inline=True).action_compute()
        retail = run.line_ids.filtered(lambda line: line.bonus_type == "retail")
        self.assertEqual(retail.distributor_id, self.lana)
        self.assertEqual(retail.base, 8.0)
        self.assertEqual(retail.amount, 0.8)


@tagged("post_install", "-at_install")
class TestDsShopRoutes(DsShopCommon):
    # ------------------------------------------------------------ rank prices
    def test_pricelist_switch_at_period_close(self):
        """Closing a period (the button as a Direct Selling manager presses it) gives
        every active distributor the pricelist of their paid-as rank in one batch, keeps
        other companies' pricelists, leaves distributors whose rank has no pricelist,
        suspended distributors and retail customers alone, and sums it up in the
        period's chatter."""
        env = self.env
        other_company = env["res.company"].create({"name": "DSP Other Co"})
        other_pricelist = env["product.pricelist"].create(
            {"name": "DSP Other Co prices", "company_id": other_company.id}
        )
        custom_pricelist = env["product.pricelist"].create({"name": "DSP Custom"})
        # Lana has a pricelist in another company: kept
        self.lana.partner_id.with_company(
            other_company
        ).property_product_pricelist = other_pricelist
        # Dee's rank (none) has no pricelist: she keeps her own
        self.dee.partner_id.property_product_pricelist = custom_pricelist
        # Finn is suspended: unchanged whatever his rank
        self.finn.partner_id.property_product_pricelist = custom_pricelist
        self.finn.sudo().write({"state": "suspended"})
        # a child contact of Lana's follows her
        lana_contact = env["res.partner"].create(
            {"name": "Lana's shipping", "parent_id": self.lana.partner_id.id}
        )
        period = env["ds.period"].create(
            {
                "name": "DSP shop close",
                "date_from": "2024-01-01",
                "date_to": "2024-01-31",
            }
        )
        bought = {self.lana: 12.0, self.sam: 12.0, self.fay: 6.0, self.finn: 12.0}
        for distributor, qty in bought.items():
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": distributor.partner_id.id,
                    "invoice_date": date(2024, 1, 15),
                    "date": date(2024, 1, 15),
                    "invoice_line_ids": [
                        Command.create({"product_id": self.product.id, "quantity": qty})
                    ],
                }
            )
            invoice.action_post()
            self.assertEqual(invoice.ds_period_id, period)
        env["res.users"].create(
            {
                "name": "DSP Manager",
                "login": "dsp_manager",
                "password": "dsp_manager",
                "groups_id": [
                    Command.set(
                        [
                            env.ref("base.group_user").id,
                            env.ref("crm_direct_selling.group_ds_manager").id,
                        ]
                    )
                ],
            }
        )
        self.authenticate("dsp_manager", "dsp_manager")
        response = self.url_open(
            "/web/dataset/call_button",
            data=json.dumps(
                {
                    "params": {
                        "model": "ds.period",
                        "method": "action_close",
                        "args": [period.ids],
                        "kwargs": {},
                    }
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertNotIn("error", response.json(), response.text)
        self.env.invalidate_all()
        self.assertEqual(period.state, "closed")
        # Lana: 120 PV, GV 120 + Fay's 60 + Finn's 120 = 300: Silver; Fay 60 PV and
        # Sam 120 PV (GV 120): Bronze
        vol = {
            v.distributor_id: v.paid_rank_id
            for v in env["ds.volume"].search([("period_id", "=", period.id)])
        }
        self.assertEqual(vol[self.lana], self.rank_silver)
        self.assertEqual(vol[self.fay], self.rank_bronze)
        self.assertEqual(vol[self.sam], self.rank_bronze)
        self.assertFalse(vol[self.dee].pricelist_id)
        self.assertEqual(self.lana.rank_id, self.rank_silver)
        for partner in (self.lana.partner_id, lana_contact):
            self.assertEqual(partner.property_product_pricelist, self.rank_pricelist)
        for partner in (self.fay.partner_id, self.sam.partner_id):
            self.assertEqual(partner.property_product_pricelist, self.bronze_pricelist)
        self.assertEqual(
            self.lana.partner_id.with_company(other_company).property_product_pricelist,
            other_pricelist,
        )
        self.assertEqual(
            self.dee.partner_id.property_product_pricelist, custom_pricelist
        )
        self.assertEqual(
            self.finn.partner_id.property_product_pricelist, custom_pricelist
        )
        self.assertNotIn(
            self.consumer_partner.property_product_pricelist,
            self.bronze_pricelist | self.rank_pricelist,
        )
        message = period.message_ids.filtered(
            lambda m: "Rank pricelists applied" in (m.body or "")
        )
        self.assertEqual(len(message), 1)
        # Lana; Fay and Sam (Uma, Dan, Bob bought nothing: no rank)
        self.assertIn("1 distributor(s) → DSP Silver prices", message.body)
        self.assertIn("2 distributor(s) → DSP Bronze prices", message.body)

    def test_rank_pricelist_not_selectable_by_others(self):
        """A rank pricelist is nobody's but its distributors' on the website: a retail
        customer asking for it keeps the public price."""
        self.lana.partner_id.property_product_pricelist = self.rank_pricelist
        self.login(self.user_consumer)
        self.assertNotIn(
            self.rank_pricelist,
            self.website.with_user(self.user_consumer).get_pricelist_available(),
        )
        self.url_open(f"/shop/change_pricelist/{self.rank_pricelist.id}")
        self._add_to_cart()
        order = self._shop_orders(self.consumer_partner)
        self.assertNotEqual(order.pricelist_id, self.rank_pricelist)
        self.assertEqual(order.amount_untaxed, 100.0)
        # the distributor herself gets it
        self.assertIn(
            self.rank_pricelist,
            self.website.with_user(self.user_lana).get_pricelist_available(),
        )

    # ------------------------------------------------------------ attribution
    def test_attribution_survives_signup(self):
        """A visitor opens Lana's link, fills a cart, then signs up: the new account is
        Lana's protected customer, and so is the cart."""
        self.env["ir.config_parameter"].sudo().set_param(
            "auth_signup.invitation_scope", "b2c"
        )
        response = self.url_open("/ds/ref/DSP-LANA")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ds_shop_banner", response.text)
        self.assertIn("Leader Lana", response.text)
        self._add_to_cart()
        csrf = self._csrf("/web/signup")
        self.url_open(
            "/web/signup",
            data={
                "login": "shopper@example.com",
                "name": "Shopper Sia",
                "password": "shopper-pw-123",
                "confirm_password": "shopper-pw-123",
                "csrf_token": csrf,
            },
        )
        user = self.env["res.users"].search([("login", "=", "shopper@example.com")])
        self.assertTrue(user)
        self.assertEqual(user.partner_id.ds_referrer_id, self.lana)
        self.assertTrue(user.partner_id.ds_referrer_locked)
        self.assertFalse(self.website.user_id.partner_id.ds_referrer_id)
        # the guest cart follows the new account, credited to Lana
        self.assertEqual(self.url_open("/shop/cart").status_code, 200)
        cart = self.env["sale.order"].search(
            [("website_id", "=", self.website.id), ("order_line", "!=", False)],
            order="id desc",
            limit=1,
        )
        self.assertEqual(cart.partner_id, user.partner_id)
        self.assertEqual(cart.ds_referrer_id, self.lana)
        self.assertEqual(cart.ds_distributor_id, self.lana)

    def test_customer_protection_second_link_does_not_move(self):
        """Cleo is Lana's protected customer: Sam's link does not move her (her cart
        and her orders stay Lana's); the back office moves her, logged."""
        self.consumer_partner.ds_referrer_locked = True
        self.login(self.user_consumer)
        response = self.url_open("/ds/ref/DSP-SAM")
        self.assertEqual(response.status_code, 200)
        # the shop names her own distributor, not the link's
        self.assertIn("Leader Lana", response.text)
        self.assertNotIn("Sibling Sam", response.text)
        self._add_to_cart()
        order = self._shop_orders(self.consumer_partner)
        self.assertEqual(order.ds_referrer_id, self.lana)
        self.assertEqual(order.ds_distributor_id, self.lana)
        order.action_confirm()
        self.assertEqual(self.consumer_partner.ds_referrer_id, self.lana)
        # the website's sudo paths cannot move a protected customer
        with self.assertRaises(UserError):
            self.consumer_partner.with_user(self.user_consumer).sudo().write(
                {"ds_referrer_id": self.sam.id}
            )
        # the back office does, over JSON-RPC as a Direct Selling user, and it is logged
        self.env["res.users"].create(
            {
                "name": "DSP Back Office",
                "login": "dsp_bo",
                "password": "dsp_bo",
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref("crm_direct_selling.group_ds_user").id,
                        ]
                    )
                ],
            }
        )
        self.authenticate("dsp_bo", "dsp_bo")
        self.make_jsonrpc_request(
            "/web/dataset/call_kw/res.partner/write",
            {
                "model": "res.partner",
                "method": "write",
                "args": [self.consumer_partner.ids, {"ds_referrer_id": self.sam.id}],
                "kwargs": {},
            },
        )
        self.env.invalidate_all()
        self.assertEqual(self.consumer_partner.ds_referrer_id, self.sam)
        note = self.consumer_partner.message_ids.filtered(
            lambda m: "Protected customer moved" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertIn("Leader Lana", note.body)
        self.assertIn("Sibling Sam", note.body)
        self.assertIn("DSP Back Office", note.body)

    def test_inactive_distributor_link_opens_unattributed(self):
        """A terminated (or suspended) distributor's link opens the shop without
        attribution and with a notice; a visitor who then signs up is nobody's
        customer. An unknown code is a 404."""
        self.assertEqual(self.url_open("/ds/ref/NO-SUCH-CODE").status_code, 404)
        self.env["ir.config_parameter"].sudo().set_param(
            "auth_signup.invitation_scope", "b2c"
        )
        self.bob.sudo().write({"state": "terminated"})
        response = self.url_open("/ds/ref/DSP-BOB")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ds_shop_inactive_link", response.text)
        self.assertNotIn("o_ds_shop_banner", response.text)
        self.assertNotIn("ds_ref=DSP-BOB", response.headers.get("Set-Cookie", ""))
        csrf = self._csrf("/web/signup")
        self.url_open(
            "/web/signup",
            data={
                "login": "orphan@example.com",
                "name": "Orphan Olli",
                "password": "orphan-pw-123",
                "confirm_password": "orphan-pw-123",
                "csrf_token": csrf,
            },
        )
        user = self.env["res.users"].search([("login", "=", "orphan@example.com")])
        self.assertTrue(user)
        self.assertFalse(user.partner_id.ds_referrer_id)

    # ------------------------------------------------------------ team orders
    def _confirmed_order(self, partner, **vals):
        order = self.env["sale.order"].create(
            dict(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 2}
                        )
                    ],
                },
                **vals,
            )
        )
        order.action_confirm()
        return order

    def test_team_orders_own_subtree_only(self):
        """A leader sees the confirmed orders credited to her downline (members' own
        orders and their customers'), not her own, not another branch's; a member of
        another branch is a 404; a customer who is no distributor is refused."""
        fay_order = self._confirmed_order(self.fay.partner_id)
        dee_order = self._confirmed_order(self.dee.partner_id)
        fay_customer = self.env["res.partner"].create(
            {"name": "Fay's Client", "ds_referrer_id": self.fay.id}
        )
        customer_order = self._confirmed_order(fay_customer)
        lana_order = self._confirmed_order(self.lana.partner_id)
        bob_order = self._confirmed_order(self.bob.partner_id)
        self.assertEqual(fay_order.ds_distributor_id, self.fay)
        self.assertEqual(customer_order.ds_distributor_id, self.fay)
        self.login(self.user_lana)
        response = self.url_open("/my/network/orders")
        self.assertEqual(response.status_code, 200)
        for order in (fay_order, dee_order, customer_order):
            self.assertIn(order.name, response.text)
        for order in (lana_order, bob_order):
            self.assertNotIn(order.name, response.text)
        self.assertNotIn("Fay&#39;s Client", response.text)
        response = self.url_open(f"/my/network/orders?member={self.dee.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(dee_order.name, response.text)
        self.assertNotIn(fay_order.name, response.text)
        for foreign in (self.bob, self.sam, self.uma, self.lana):
            response = self.url_open(f"/my/network/orders?member={foreign.id}")
            self.assertEqual(response.status_code, 404, foreign.name)
            self.assertNotIn(bob_order.name, response.text)
        self.assertEqual(
            self.url_open("/my/network/orders?member=999999999").status_code, 404
        )
        self.assertEqual(self.url_open("/my/network/orders?member=x").status_code, 404)
        # Sam sees Bob's order, not Lana's team's
        self.login(self.user_sam)
        response = self.url_open("/my/network/orders")
        self.assertIn(bob_order.name, response.text)
        self.assertNotIn(fay_order.name, response.text)
        # a retail customer has no team
        self.login(self.user_consumer)
        self.assertEqual(self.url_open("/my/network/orders").status_code, 403)
        # nor does a visitor
        self.logout()
        response = self.url_open("/my/network/orders", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))

    def test_portal_order_pages_show_points(self):
        """The distributor's portal order list and order page show the PV."""
        order = self._confirmed_order(self.lana.partner_id)
        self.login(self.user_lana)
        response = self.url_open("/my/orders")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ds_pv_col", response.text)
        self.assertIn("20.00", response.text)
        response = self.url_open(f"/my/orders/{order.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("ds_order_points", response.text)
        # a foreign order stays refused
        bob_order = self._confirmed_order(self.bob.partner_id)
        response = self.url_open(f"/my/orders/{bob_order.id}", allow_redirects=False)
        self.assertNotEqual(response.status_code, 200)
