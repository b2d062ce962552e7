"""Autoship from the shop (issue 15): "Make this an autoship" on the cart page and "Repeat this
order" on the confirmation page, over HTTP as the buyer, another portal user and a visitor, with
order ids of others in the request; and the Chromium tour of a distributor who fills a cart and
makes it an autoship."""

import re

from dateutil.relativedelta import relativedelta

import odoo
from odoo import Command
from odoo.tests import tagged

from .autoship_common import DsAutoshipCommon


@tagged("post_install", "-at_install")
class TestShopAutoship(DsAutoshipCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.website = env["website"].get_current_website()
        cls.website.company_id = cls.company
        (cls.shake | cls.bar).write({"is_published": True, "website_id": False})
        # another distributor's cart and confirmed order: never used by Fay's requests
        cls.lana_cart = env["sale.order"].create(
            {
                "partner_id": cls.lana.partner_id.id,
                "website_id": cls.website.id,
                "order_line": [
                    Command.create({"product_id": cls.bar.id, "product_uom_qty": 7})
                ],
            }
        )
        cls.first = cls.today + relativedelta(days=9)

    # ------------------------------------------------------------------ helpers
    def _autoships(self, partner):
        return self.env["ds.autoship"].search([("partner_id", "=", partner.id)])

    def _add_to_cart(self, product, qty):
        result = self.make_jsonrpc_request(
            "/shop/cart/update_json", {"product_id": product.id, "add_qty": qty}
        )
        self.assertTrue(result.get("line_id"), result)
        return result

    def _csrf(self, page):
        return re.search(r'csrf_token: "([^"]+)"', page).group(1)

    def _post(self, url, data, page_url="/shop/cart", **kwargs):
        page = self.url_open(page_url)
        self.assertEqual(page.status_code, 200, page_url)
        return self.url_open(
            url, data=dict(data, csrf_token=self._csrf(page.text)), **kwargs
        )

    def _form(self, **override):
        data = {
            "interval_number": 2,
            "interval_unit": "week",
            "next_date": self.first.isoformat(),
            "token_id": self.token_fay.id,
        }
        data.update(override)
        return data

    def _error(self, text):
        match = re.search(r'o_ds_order_autoship_error"[^>]*>([^<]*)<', text)
        return match and match.group(1)

    def _session_set(self, **values):
        store = odoo.http.root.session_store
        session = store.get(self.session.sid)
        session.update(values)
        store.save(session)

    # ------------------------------------------------------------------ cart
    def test_cart_becomes_autoship_ignoring_foreign_order_ids(self):
        """Fay's cart (2 shakes, 3 bars) becomes her autoship; the order ids of Lana's
        cart put in the request are ignored, Lana's cart is untouched."""
        self.authenticate("dsp_fay", "dsp_fay")
        self._add_to_cart(self.shake, 2)
        self._add_to_cart(self.bar, 3)
        page = self.url_open("/shop/cart").text
        self.assertIn("o_ds_order_autoship_cart", page)
        self.assertIn(f'<option value="{self.token_fay.id}"', page)
        self.assertNotIn(f'<option value="{self.token_sam.id}"', page)
        foreign = self.lana_cart.id
        response = self._post(
            "/shop/cart/autoship",
            self._form(order_id=foreign, sale_order_id=foreign, id=foreign),
        )
        self.assertEqual(response.status_code, 200)
        autoship = self._autoships(self.fay.partner_id)
        self.assertEqual(len(autoship), 1)
        self.assertTrue(
            response.url.endswith(f"/my/autoships/{autoship.id}?message=created_cart"),
            response.url,
        )
        self.assertIn("products of your cart", response.text)
        self.assertEqual(
            {ln.product_id: ln.quantity for ln in autoship.line_ids},
            {self.shake: 2.0, self.bar: 3.0},
        )
        self.assertEqual(
            (autoship.interval_number, autoship.interval_unit, autoship.next_date),
            (2, "week", self.first),
        )
        self.assertEqual(autoship.payment_token_id, self.token_fay)
        self.assertEqual(autoship.state, "active")
        self.assertEqual(autoship.pv_total, 47.5)  # 2 x 20 + 3 x 2.5
        # the cart is kept, Lana's cart is untouched and repeated by nobody
        cart = self.env["sale.order"].search(
            [("partner_id", "=", self.fay.partner_id.id), ("website_id", "!=", False)]
        )
        self.assertEqual(cart.state, "draft")
        self.assertEqual(sorted(cart.order_line.mapped("product_uom_qty")), [2.0, 3.0])
        self.assertEqual(self.lana_cart.partner_id, self.lana.partner_id)
        self.assertEqual(self.lana_cart.order_line.product_uom_qty, 7.0)
        self.assertFalse(self._autoships(self.lana.partner_id))

    def test_cart_autoship_refusals(self):
        """Each refusal comes back on the cart page with its message; nothing is
        created: another's payment method, a past date, a bad frequency, an archived
        or unsaleable product (named), a quantity that is not whole."""
        self.authenticate("dsp_fay", "dsp_fay")
        self._add_to_cart(self.shake, 2)
        self._add_to_cart(self.bar, 1)
        cases = [
            (
                {"token_id": self.token_sam.id},
                "Choose one of your saved payment methods",
            ),
            ({"token_id": ""}, "Choose one of your saved payment methods"),
            ({"next_date": self.today.isoformat()}, "must be after today"),
            ({"interval_number": 40}, "every 1 to 12"),
            ({"interval_unit": "fortnight"}, "Choose a frequency"),
        ]
        for override, expected in cases:
            response = self._post("/shop/cart/autoship", self._form(**override))
            self.assertTrue(response.url.endswith("/shop/cart"), response.url)
            self.assertIn(expected, self._error(response.text) or "", override)
        # the values typed are kept in the form shown again
        self.assertIn(
            'value="40"',
            self._post("/shop/cart/autoship", self._form(interval_number=40)).text,
        )
        # a product archived or withdrawn from sale while the cart page was open (the
        # cart page itself drops archived products when it is shown again)
        csrf = self._csrf(self.url_open("/shop/cart").text)
        self.bar.active = False
        response = self.url_open(
            "/shop/cart/autoship", data=dict(self._form(), csrf_token=csrf)
        )
        error = self._error(response.text) or ""
        self.assertIn("cannot be repeated on an autoship", error)
        self.assertIn("AS Energy Bar", error)
        self.assertNotIn("AS Protein Shake", error)
        self.bar.active = True
        self._add_to_cart(self.bar, 1)
        csrf = self._csrf(self.url_open("/shop/cart").text)
        self.bar.sale_ok = False
        response = self.url_open(
            "/shop/cart/autoship", data=dict(self._form(), csrf_token=csrf)
        )
        error = self._error(response.text) or ""
        self.assertIn("cannot be repeated on an autoship", error)
        self.assertIn("AS Energy Bar", error)
        self.bar.sale_ok = True
        bar_line = self.env["sale.order.line"].search(
            [
                ("order_id.partner_id", "=", self.fay.partner_id.id),
                ("product_id", "=", self.bar.id),
            ]
        )
        bar_line.product_uom_qty = 1.5
        error = self._error(self._post("/shop/cart/autoship", self._form()).text) or ""
        self.assertIn("AS Energy Bar", error)
        self.assertIn("must be a whole number", error)
        self.assertFalse(self._autoships(self.fay.partner_id))
        # fixed: the same cart goes through
        bar_line.product_uom_qty = 1
        self._post("/shop/cart/autoship", self._form())
        self.assertEqual(
            self._autoships(self.fay.partner_id).line_ids.mapped("quantity"), [2.0, 1.0]
        )

    def test_other_user_without_token_and_visitor(self):
        """Sam's request repeats Sam's (empty) cart, never Fay's, whatever order id he
        sends; Lana, with no saved payment method, is told how to get one; a visitor
        sees a sign-in hint and the route sends them to log in."""
        self.authenticate("dsp_fay", "dsp_fay")
        self._add_to_cart(self.shake, 1)
        fay_cart = self.env["sale.order"].search(
            [("partner_id", "=", self.fay.partner_id.id), ("state", "=", "draft")]
        )
        self.assertEqual(len(fay_cart), 1)

        self.authenticate("dsp_sam", "dsp_sam")
        page = self.url_open("/shop/cart").text
        self.assertNotIn("o_ds_order_autoship_form", page)
        response = self._post(
            "/shop/cart/autoship",
            self._form(token_id=self.token_sam.id, order_id=fay_cart.id),
        )
        self.assertIn("Your cart is empty", self._error(response.text) or "")
        self.assertFalse(self._autoships(self.sam.partner_id))
        self.assertFalse(self._autoships(self.fay.partner_id))
        self.assertEqual(fay_cart.partner_id, self.fay.partner_id)

        self.authenticate("dsp_lana", "dsp_lana")
        self._add_to_cart(self.bar, 2)
        page = self.url_open("/shop/cart").text
        self.assertIn("o_ds_order_autoship_no_token", page)
        self.assertNotIn("o_ds_order_autoship_form", page)
        response = self._post("/shop/cart/autoship", self._form())  # Fay's token
        self.assertIn(
            "Choose one of your saved payment methods", self._error(response.text) or ""
        )
        self.assertFalse(self._autoships(self.lana.partner_id))

        self.authenticate(None, None)
        self._add_to_cart(self.bar, 1)
        page = self.url_open("/shop/cart").text
        self.assertIn("o_ds_order_autoship_signin", page)
        self.assertNotIn("o_ds_order_autoship_form", page)
        count = self.env["ds.autoship"].search_count([])
        response = self._post(
            "/shop/cart/autoship", self._form(), allow_redirects=False
        )
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.assertEqual(self.env["ds.autoship"].search_count([]), count)

    # ------------------------------------------------------------------ confirmation
    def test_repeat_order_from_confirmation_page(self):
        """After paying, Fay repeats her order from the confirmation page, paid with
        the payment method of that order; with another's order as the session's last
        order she gets no form and the route refuses."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.fay.partner_id.id,
                "website_id": self.website.id,
                "order_line": [
                    Command.create({"product_id": self.shake.id, "product_uom_qty": 3})
                ],
            }
        )
        order.action_confirm()
        token_fay_2 = self._token(self.fay.partner_id, "done", last4="1111")
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.pm_demo.id,
                    "partner_id": self.fay.partner_id.id,
                    "amount": order.amount_total,
                    "currency_id": order.currency_id.id,
                    "token_id": token_fay_2.id,
                    "sale_order_ids": [Command.set(order.ids)],
                    "state": "done",
                }
            )
        )
        self.assertTrue(tx)
        self.authenticate("dsp_fay", "dsp_fay")
        self._session_set(sale_last_order_id=order.id)
        page = self.url_open("/shop/confirmation").text
        self.assertIn("o_ds_order_autoship_order", page)
        self.assertIn("Repeat this order", page)
        self.assertRegex(page, rf'<option value="{token_fay_2.id}"\s+selected')
        response = self._post(
            "/shop/confirmation/autoship",
            self._form(
                interval_number=1, interval_unit="month", token_id=token_fay_2.id
            ),
            page_url="/shop/confirmation",
        )
        autoship = self._autoships(self.fay.partner_id)
        self.assertEqual(len(autoship), 1)
        self.assertIn("will be ordered again", response.text)
        self.assertEqual(autoship.line_ids.product_id, self.shake)
        self.assertEqual(autoship.line_ids.quantity, 3.0)
        self.assertEqual(autoship.payment_token_id, token_fay_2)

        # Lana's order as the last order of Fay's session: not hers, refused
        self.lana_cart.action_confirm()
        self._session_set(sale_last_order_id=self.lana_cart.id)
        page = self.url_open("/shop/confirmation").text
        self.assertNotIn("o_ds_order_autoship_form", page)
        response = self._post(
            "/shop/confirmation/autoship", self._form(), page_url="/shop/confirmation"
        )
        self.assertIn("no order of yours", self._error(response.text) or "")
        self.assertEqual(self._autoships(self.fay.partner_id), autoship)
        self.assertFalse(self._autoships(self.lana.partner_id))

    # ------------------------------------------------------------------ tour
    def test_distributor_tour_makes_cart_an_autoship(self):
        self.start_tour("/shop", "ds_cart_autoship_tour", login="dsp_fay")
        autoship = self._autoships(self.fay.partner_id)
        self.assertEqual(len(autoship), 1)
        self.assertEqual(autoship.line_ids.product_id, self.shake)
        self.assertEqual(autoship.line_ids.quantity, 2.0)
        self.assertEqual(
            (autoship.interval_number, autoship.interval_unit),
            (2, "month"),
        )
        self.assertEqual(autoship.next_date, self.today + relativedelta(days=10))
        self.assertEqual(autoship.payment_token_id, self.token_fay)

    def test_first_order_saves_payment_method_then_repeat_tour(self):
        """Lana has no saved payment method: she pays her cart online saving her
        payment details, then repeats the order from the confirmation page, paid with
        the payment method just saved."""
        env = self.env
        vitamin = env["product.product"].create(
            {
                "name": "AS Vitamin Service",
                "type": "service",
                "list_price": 30.0,
                "ds_pv": 12.0,
                "taxes_id": [Command.clear()],
                "is_published": True,
            }
        )
        journal = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1
        )
        self.provider.write(
            {
                "company_id": self.company.id,
                "website_id": self.website.id,
                "journal_id": journal.id,
                "allow_tokenization": True,
            }
        )
        self.provider.payment_method_ids.active = True
        self.lana.partner_id.write(
            {
                "street": "1 Rue Neuve",
                "city": "Brussels",
                "zip": "1000",
                "country_id": env.ref("base.be").id,
                "phone": "+32 470 00 00 01",
            }
        )
        self.assertFalse(
            env["payment.token"].search([("partner_id", "=", self.lana.partner_id.id)])
        )
        self.lana_cart.unlink()  # her shop would reopen it as her cart
        self.start_tour("/shop", "ds_confirmation_autoship_tour", login="dsp_lana")
        token = env["payment.token"].search(
            [("partner_id", "=", self.lana.partner_id.id)]
        )
        self.assertEqual(len(token), 1)
        autoship = self._autoships(self.lana.partner_id)
        self.assertEqual(len(autoship), 1)
        self.assertEqual(autoship.payment_token_id, token)
        self.assertEqual(autoship.line_ids.product_id, vitamin)
        self.assertEqual(autoship.line_ids.quantity, 1.0)
        self.assertEqual(
            (autoship.interval_number, autoship.interval_unit), (1, "month")
        )
        self.assertEqual(autoship.next_date, self.today + relativedelta(days=10))
