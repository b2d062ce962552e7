"""Autoship in the portal (issue 15): the subscriber's pages and actions over HTTP, JSON-RPC as
a portal user with foreign ids, the leader's team forecast and lapsed autoships, and the tour
of a subscriber who sets up, skips and cancels an autoship."""

import re

from dateutil.relativedelta import relativedelta

from odoo.tests import tagged

from odoo.addons.crm_direct_selling.tests.rpc import call_kw

from .autoship_common import DsAutoshipCommon


@tagged("post_install", "-at_install")
class TestAutoshipPortal(DsAutoshipCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.next_month = cls._month(cls.today)
        cls.as_fay = cls._autoship(
            cls.fay.partner_id,
            cls.token_fay,
            [(cls.shake, 2)],
            next_date=cls.next_month,
        )
        cls.as_sam = cls._autoship(
            cls.sam.partner_id, cls.token_sam, [(cls.bar, 1)], next_date=cls.next_month
        )

    def _csrf(self, url="/my/autoships/new"):
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200, url)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def _post(self, url, data, csrf_from):
        return self.url_open(
            url, data=dict(data, csrf_token=self._csrf()), allow_redirects=True
        )

    # ------------------------------------------------------------------ pages
    def test_list_and_detail_show_own_autoships_only(self):
        self.authenticate("dsp_fay", "dsp_fay")
        page = self.url_open("/my/autoships").text
        self.assertIn(self.as_fay.name, page)
        self.assertNotIn(self.as_sam.name, page)
        self.assertIn(
            "AS Protein Shake", self.url_open(f"/my/autoships/{self.as_fay.id}").text
        )
        for url in (f"/my/autoships/{self.as_sam.id}", "/my/autoships/999999"):
            self.assertEqual(self.url_open(url).status_code, 404, url)

    def test_actions_on_own_and_refused_on_foreign_ids(self):
        self.authenticate("dsp_fay", "dsp_fay")
        own = f"/my/autoships/{self.as_fay.id}"
        response = self._post(own + "/skip", {}, own)
        self.assertEqual(response.status_code, 200)
        self.assertIn("The next order is skipped", response.text)
        self.assertEqual(self.as_fay.next_date, self._month(self.today, 2))
        for action in ("skip", "pause", "cancel", "update"):
            response = self._post(
                f"/my/autoships/{self.as_sam.id}/{action}", {"qty_1": 5}, own
            )
            self.assertEqual(response.status_code, 404, action)
        self.assertEqual(self.as_sam.state, "active")
        self.assertEqual(self.as_sam.next_date, self.next_month)
        self.assertEqual(self.as_sam.line_ids.quantity, 1)
        self.assertEqual(self._post(own + "/explode", {}, own).status_code, 404)
        # pause, resume, then cancel in one click with a confirmation mail
        self._post(own + "/pause", {}, own)
        self.assertEqual(self.as_fay.state, "paused")
        self._post(own + "/resume", {}, own)
        self.assertEqual(self.as_fay.state, "active")
        response = self._post(own + "/cancel", {}, own)
        self.assertIn("A confirmation was sent to you by mail", response.text)
        self.assertEqual(self.as_fay.state, "cancelled")
        mail = self.env["mail.mail"].search(
            [("model", "=", "ds.autoship"), ("res_id", "=", self.as_fay.id)]
        )
        self.assertEqual(mail.recipient_ids, self.fay.partner_id)
        # a cancelled autoship refuses changes with a clear message
        response = self._post(own + "/skip", {}, own)
        self.assertIn("cannot be skipped", response.text)

    def test_update_products_quantities_and_date(self):
        self.authenticate("dsp_fay", "dsp_fay")
        own = f"/my/autoships/{self.as_fay.id}"
        line = self.as_fay.line_ids
        new_date = self.today + relativedelta(days=10)
        response = self._post(
            own + "/update",
            {
                f"qty_{line.id}": 3,
                "add_product_id": self.bar.id,
                "add_quantity": 4,
                "next_date": new_date.isoformat(),
                "token_id": self.token_fay.id,
            },
            own,
        )
        self.assertIn("Your changes are saved", response.text)
        self.assertEqual(
            sorted((ln.product_id.name, ln.quantity) for ln in self.as_fay.line_ids),
            [("AS Energy Bar", 4.0), ("AS Protein Shake", 3.0)],
        )
        self.assertEqual(self.as_fay.next_date, new_date)
        # bad input: each a clear message, nothing changed
        bad = [
            ({f"qty_{line.id}": -1}, "must be a whole number"),
            ({f"qty_{line.id}": 1.5}, "must be a whole number"),
            ({"next_date": self.today.isoformat()}, "must be after today"),
            ({"add_product_id": "abc"}, "Choose a product"),
            (
                {"token_id": self.token_sam.id},
                "Choose one of your saved payment methods",
            ),
            ({f"qty_{self.as_sam.line_ids.id}": 2}, None),  # a foreign line: 404
        ]
        self.bar.active = False
        bad.append(
            ({"add_product_id": self.bar.id}, "cannot be ordered on an autoship")
        )
        for data, expected in bad:
            response = self._post(own + "/update", data, own)
            if expected is None:
                self.assertEqual(response.status_code, 404)
            else:
                self.assertIn(expected, response.text, data)
        self.assertEqual(self.as_fay.next_date, new_date)
        self.assertEqual(self.as_fay.payment_token_id, self.token_fay)
        self.assertEqual(self.as_sam.line_ids.quantity, 1)
        # removing every product is refused: cancel instead
        lines = {f"qty_{ln.id}": 0 for ln in self.as_fay.line_ids}
        response = self._post(own + "/update", lines, own)
        self.assertIn("needs at least one product", response.text)
        self.assertEqual(len(self.as_fay.line_ids), 2)

    def test_create_from_the_portal_and_refusals(self):
        self.authenticate("dsp_cleo", "dsp_cleo")
        first = (self.today + relativedelta(days=5)).isoformat()
        data = {
            f"qty_{self.shake.id}": 1,
            f"qty_{self.bar.id}": 6,
            "interval_number": 2,
            "interval_unit": "week",
            "next_date": first,
            "token_id": self.token_cleo.id,
        }
        for override, expected in (
            (
                {"token_id": self.token_fay.id},
                "Choose one of your saved payment methods",
            ),
            (
                {f"qty_{self.shake.id}": 0, f"qty_{self.bar.id}": 0},
                "at least one product",
            ),
            ({"next_date": "2001-01-01"}, "must be after today"),
            ({"interval_number": 40}, "every 1 to 12"),
        ):
            response = self._post(
                "/my/autoships/new", dict(data, **override), "/my/autoships/new"
            )
            self.assertIn(expected, response.text, override)
        self.assertFalse(
            self.env["ds.autoship"].search(
                [("partner_id", "=", self.consumer_partner.id)]
            )
        )
        response = self._post("/my/autoships/new", data, "/my/autoships/new")
        self.assertIn("Your autoship is set up", response.text)
        autoship = self.env["ds.autoship"].search(
            [("partner_id", "=", self.consumer_partner.id)]
        )
        self.assertEqual(len(autoship), 1)
        self.assertEqual(
            (
                autoship.interval_number,
                autoship.interval_unit,
                autoship.next_date.isoformat(),
            ),
            (2, "week", first),
        )
        self.assertEqual(autoship.payment_token_id, self.token_cleo)
        self.assertEqual(autoship.pv_total, 35.0)  # 20 + 6 x 2.5

    # ------------------------------------------------------------------ JSON-RPC
    def test_json_rpc_as_portal_user_with_foreign_ids(self):
        rows = call_kw(
            self, "dsp_fay", "ds.autoship", "search_read", [[]], {"fields": ["name"]}
        )["result"]
        self.assertEqual([r["id"] for r in rows], self.as_fay.ids)
        for method, args, kwargs in (
            ("read", [self.as_sam.ids, ["name"]], {}),
            ("action_cancel", [self.as_sam.ids], {}),
            ("action_skip_next", [self.as_sam.ids], {}),
            ("ds_portal_update", [self.as_sam.ids], {"next_date": "2099-01-01"}),
            ("write", [self.as_fay.ids, {"failure_count": 0, "state": "active"}], {}),
            ("unlink", [self.as_fay.ids], {}),
            ("action_process_now", [self.as_fay.ids], {}),
        ):
            error = call_kw(self, "dsp_fay", "ds.autoship", method, args, kwargs).get(
                "error"
            )
            self.assertTrue(error, method)
            self.assertEqual(
                error["data"]["name"], "odoo.exceptions.AccessError", (method, error)
            )
        error = call_kw(
            self,
            "dsp_fay",
            "ds.autoship",
            "ds_portal_create",
            [{str(self.bar.id): 1}],
            {"next_date": "2099-01-01", "token_id": self.token_sam.id},
        )["error"]
        self.assertEqual(error["data"]["name"], "odoo.exceptions.UserError")
        self.assertEqual(self.as_sam.state, "active")
        self.assertEqual(self.as_sam.next_date, self.next_month)
        # the own autoship through the same door works
        result = call_kw(
            self, "dsp_fay", "ds.autoship", "action_skip_next", [self.as_fay.ids]
        )
        self.assertTrue(result.get("result"), result)
        self.assertEqual(self.as_fay.next_date, self._month(self.today, 2))

    # ------------------------------------------------------------------ leader
    def test_leader_sees_team_forecast_and_lapsed_own_subtree_only(self):
        window_from, window_to = self.env["ds.distributor"]._ds_next_period_window(
            self.lana
        )
        inside = window_from + relativedelta(days=1)
        self.as_fay.next_date = inside  # 2 shakes: 40 PV
        self.as_sam.next_date = inside  # another branch: never shown to Lana
        weekly = (
            self._autoship(  # Lana's retail customer, every week from the window start
                self.consumer_partner,
                self.token_cleo,
                [(self.bar, 2)],
                next_date=window_from,
                interval_unit="week",
            )
        )
        weeks = len(range(0, (window_to - window_from).days + 1, 7))
        lapsed_dan = self._autoship(
            self.dan.partner_id,
            self._token(self.dan.partner_id, "done"),
            [(self.bar, 1)],
        )
        lapsed_dan.action_cancel()
        lapsed_bob = self._autoship(
            self.bob.partner_id,
            self._token(self.bob.partner_id, "done"),
            [(self.bar, 1)],
        )
        lapsed_bob.action_pause()
        data = self.lana._ds_autoship_team_data()
        self.assertEqual(data["forecast_orders"], 1 + weeks)
        self.assertAlmostEqual(data["forecast_pv"], 40.0 + weeks * 5.0, places=2)
        self.assertEqual(data["lapsed"], lapsed_dan)
        self.authenticate("dsp_lana", "dsp_lana")
        page = self.url_open("/my/autoships").text
        self.assertIn("My Team&#39;s Autoships", page.replace("'", "&#39;"))
        self.assertIn(lapsed_dan.name, page)
        self.assertNotIn(lapsed_bob.name, page)
        forecast = re.search(r'class="o_ds_forecast_pv"[^>]*>([^<]+)<', page).group(1)
        self.assertEqual(float(forecast.replace(",", "")), 40.0 + weeks * 5.0)
        self.assertTrue(weekly)
        # Sam's team sees Bob's lapse, not Dan's
        self.assertEqual(self.sam._ds_autoship_team_data()["lapsed"], lapsed_bob)

    # ------------------------------------------------------------------ tour
    def test_subscriber_tour_sets_up_skips_and_cancels(self):
        self.start_tour("/my", "ds_autoship_tour", login="dsp_cleo")
        autoship = self.env["ds.autoship"].search(
            [("partner_id", "=", self.consumer_partner.id)]
        )
        self.assertEqual(len(autoship), 1)
        self.assertEqual(autoship.line_ids.product_id, self.bar)
        self.assertEqual(autoship.line_ids.quantity, 3)
        self.assertEqual(autoship.run_ids.mapped("state"), ["skipped"])
        self.assertEqual(autoship.state, "cancelled")
        self.assertTrue(
            self.env["mail.mail"].search(
                [("model", "=", "ds.autoship"), ("res_id", "=", autoship.id)]
            )
        )
