import re
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import DsPortalCommon


@tagged("post_install", "-at_install")
class TestDsPortalRoutes(DsPortalCommon):
    def _csrf(self, url):
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    # ------------------------------------------------------------------ network list
    def test_network_leader_sees_own_downline_only(self):
        self.login(self.user_lana)
        response = self.url_open("/my/network")
        self.assertEqual(response.status_code, 200)
        for member in self.own:
            self.assertIn(member.name, response.text)
        self.assertNotIn(f'href="/my/network/{self.lana.id}"', response.text)
        self.assertNoForeignName(response.text)
        self.assertIn('class="o_ds_network_total">4<', response.text)

    def test_network_filters(self):
        self.login(self.user_lana)

        def names(query):
            text = self.url_open("/my/network?" + query).text
            return {m.name for m in self.own if m.name in text}

        self.assertEqual(names("depth=1"), {"Frontline Fay", "Frontline Finn"})
        self.assertEqual(names("depth=3"), {"Deeper Dee"})
        self.assertEqual(names("new=1"), {"Frontline Fay", "Deeper Dee"})
        self.assertEqual(names("at_risk=1"), {"Frontline Finn"})
        self.assertEqual(names("active=1"), {"Frontline Fay"})
        self.assertEqual(
            names("active=0"), {"Deep Dan", "Deeper Dee", "Frontline Finn"}
        )
        self.assertEqual(
            names(f"rank_id={self.rank_bronze.id}"), {"Frontline Fay", "Deep Dan"}
        )
        self.assertEqual(names("search=deeper"), {"Deeper Dee"})
        self.assertEqual(names(f"search={self.finn.code}"), {"Frontline Finn"})
        # a search for a foreign name finds nothing and shows nothing
        text = self.url_open("/my/network?search=Sibling").text
        self.assertIn('class="o_ds_network_total">0<', text)
        self.assertNoForeignName(text)

    def test_network_paging_and_sorting(self):
        self.login(self.user_lana)
        text = self.url_open("/my/network?sortby=gv").text
        self.assertLess(text.index("Frontline Fay"), text.index("Deep Dan"))
        self.assertLess(text.index("Deep Dan"), text.index("Frontline Finn"))
        self.assertEqual(self.url_open("/my/network/page/2").status_code, 200)

    def test_query_is_set_based(self):
        """The downline page costs the same number of queries whatever its size."""
        leader = self.lana.sudo()
        rows = self.env.execute_query(leader._ds_downline_query(order="name", limit=50))
        self.assertEqual(len(rows), 4)
        self.assertEqual({r[1] for r in rows}, {1, 2, 3})

    def test_network_query_count_does_not_grow_with_downline(self):
        """Hot paths: the first network page and one tree level cost the same number
        of queries with 4 or 44 members (no per-member query)."""
        self.login(self.user_lana)
        urls = ("/my/network", f"/my/network/tree/children?node_id={self.lana.id}")

        def count(url):
            self.url_open(url)  # warm-up (session, device log, caches)
            before = self.cr.sql_log_count
            self.assertEqual(self.url_open(url).status_code, 200)
            return self.cr.sql_log_count - before

        small = [count(url) for url in urls]
        new = self.env["ds.distributor"].create(
            [
                {
                    "name": f"Extra {i}",
                    "code": f"DSP-X{i}",
                    "sponsor_id": (self.lana if i % 2 else self.fay).id,
                    "rank_id": self.rank_bronze.id,
                }
                for i in range(40)
            ]
        )
        self.env["ds.volume"].create(
            [
                {
                    "distributor_id": d.id,
                    "period_id": self.period.id,
                    "company_id": self.company.id,
                    "pv": 10.0,
                    "gv": 10.0,
                }
                for d in new
            ]
        )
        self.env.flush_all()
        big = [count(url) for url in urls]
        self.assertIn("Extra 1", self.url_open("/my/network").text)
        self.assertEqual(big, small)

    # ------------------------------------------------------------------ tree
    def test_tree_children_lazy(self):
        self.login(self.user_lana)
        self.assertEqual(self.url_open("/my/network/tree").status_code, 200)
        data = self.url_open(f"/my/network/tree/children?node_id={self.lana.id}").json()
        self.assertEqual(
            {c["name"] for c in data["children"]}, {"Frontline Fay", "Frontline Finn"}
        )
        fay = next(c for c in data["children"] if c["name"] == "Frontline Fay")
        self.assertEqual(fay["child_count"], 1)
        self.assertEqual(fay["pv"], 200.0)
        data = self.url_open(f"/my/network/tree/children?node_id={self.fay.id}").json()
        self.assertEqual([c["name"] for c in data["children"]], ["Deep Dan"])
        data = self.url_open(f"/my/network/tree/children?node_id={self.dan.id}").json()
        self.assertEqual([c["name"] for c in data["children"]], ["Deeper Dee"])

    def test_tree_foreign_nodes_404(self):
        self.login(self.user_lana)
        for node_id in self.foreign.ids + [999999999]:
            response = self.url_open(f"/my/network/tree/children?node_id={node_id}")
            self.assertEqual(response.status_code, 404, node_id)
            self.assertNoForeignName(response.text)
        response = self.url_open("/my/network/tree/children?node_id=abc")
        self.assertEqual(response.status_code, 404)

    # ------------------------------------------------------------------ member page
    def test_member_page(self):
        self.login(self.user_lana)
        response = self.url_open(f"/my/network/{self.fay.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Frontline Fay", response.text)
        self.assertIn("DSP Bronze", response.text)
        self.assertIn(self.fay.email, response.text)  # shares contact details
        self.assertIn("+3211111111", response.text)
        response = self.url_open(f"/my/network/{self.finn.id}")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(self.finn.email, response.text)  # does not share
        self.assertNotIn("+3222222222", response.text)
        self.assertIn("o_ds_member_private", response.text)
        # deep level works
        self.assertEqual(self.url_open(f"/my/network/{self.dee.id}").status_code, 200)

    def test_member_page_foreign_ids_404(self):
        self.login(self.user_lana)
        for other in self.foreign | self.lana:
            response = self.url_open(f"/my/network/{other.id}")
            self.assertEqual(response.status_code, 404, other.name)
            self.assertNoForeignName(response.text)
        # a frontline leader below sees nothing above them
        self.login(self.user_fay)
        for other in self.lana | self.finn | self.uma:
            response = self.url_open(f"/my/network/{other.id}")
            self.assertEqual(response.status_code, 404)
            self.assertNotIn(other.name, response.text)
        self.assertEqual(self.url_open(f"/my/network/{self.dee.id}").status_code, 200)

    # ------------------------------------------------------------------ volume
    def test_volume_rank_progress(self):
        self.login(self.user_lana)
        response = self.url_open("/my/volume")
        self.assertEqual(response.status_code, 200)
        text = response.text
        self.assertIn('class="fs-4 o_ds_pv">120.00<', text)
        self.assertIn('class="fs-4 o_ds_gv">700.00<', text)
        self.assertIn('class="fs-4 o_ds_paid_rank">DSP Silver<', text)
        self.assertIn('class="o_ds_next_rank">DSP Gold<', text)
        self.assertIn("missing 30.00", text)  # PV 150 - 120
        self.assertIn("missing 300.00", text)  # GV 1000 - 700
        self.assertIn("missing 1<", text)  # 2 legs - 1
        # one active frontline leg (Fay) this period
        self.assertIn('class="fs-4 o_ds_active_legs">1<', text)

    # ------------------------------------------------------------------ consumer / anonymous
    def test_consumer_sees_no_network_page(self):
        self.login(self.user_consumer)
        for url in (
            "/my/network",
            "/my/network/tree",
            f"/my/network/tree/children?node_id={self.lana.id}",
            f"/my/network/{self.fay.id}",
            "/my/volume",
            "/my/bonuses",
            "/my/messages",
            "/my/customers",
            "/my/leads",
        ):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 403, url)
            self.assertNotIn("Frontline Fay", response.text)
        home = self.url_open("/my")
        self.assertIn("/my/rewards", home.text)
        self.assertNotIn('href="/my/network"', home.text)

    def test_anonymous_redirected_to_login(self):
        response = self.url_open("/my/network", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_home_entries_and_counters(self):
        self.login(self.user_lana)
        home = self.url_open("/my")
        self.assertIn('href="/my/network"', home.text)
        self.assertNotIn('href="/my/rewards"', home.text)
        counters = self.make_jsonrpc_request(
            "/my/counters",
            {"counters": ["ds_network_count", "ds_customer_count", "ds_message_count"]},
        )
        self.assertEqual(counters["ds_network_count"], 4)
        self.assertEqual(counters["ds_customer_count"], 1)
        self.assertEqual(counters["ds_message_count"], 0)

    def test_home_distinct_icons_and_open_leads(self):
        """Each leader entry of the portal home has its own icon; the lead counter
        counts open leads only (a won one is not), never another leader's."""
        self.login(self.user_lana)
        home = self.url_open("/my").text
        cards = re.findall(
            r'o_portal_index_card[^"]*">\s*<a href="(/my/[\w/]+)".*?<img src="([^"]+)"',
            home,
            re.S,
        )
        ours = {url: icon for url, icon in cards if "crm_direct_selling_portal" in icon}
        self.assertEqual(
            set(ours),
            {
                "/my/network",
                "/my/dashboard",
                "/my/volume",
                "/my/bonuses",
                "/my/messages",
                "/my/customers",
                "/my/leads",
                "/my/autoships",
                "/my/training",
            },
        )
        self.assertEqual(len(set(ours.values())), len(ours), ours)
        for icon in set(ours.values()):
            self.assertEqual(self.url_open(icon).status_code, 200, icon)

        won = self.env["crm.stage"].create({"name": "DSP Won", "is_won": True})
        new = self.env["crm.stage"].create({"name": "DSP Open", "sequence": 1})
        self.env["crm.lead"].create(
            [
                {
                    "name": name,
                    "type": "opportunity",
                    "ds_distributor_id": distributor.id,
                    "stage_id": stage.id,
                    "team_id": False,
                }
                for name, distributor, stage in (
                    ("DSP open 1", self.lana, new),
                    ("DSP open 2", self.lana, new),
                    ("DSP won", self.lana, won),
                    ("DSP Sam's", self.sam, new),
                )
            ]
        )
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["ds_lead_count"]}
        )
        self.assertEqual(counters, {"ds_lead_count": 2})

    # ------------------------------------------------------------------ customers
    def test_customers(self):
        self.login(self.user_lana)
        response = self.url_open("/my/customers")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Consumer Cleo", response.text)
        self.assertNotIn("Customer of Sam", response.text)
        self.assertIn(f"/ds/ref/{self.lana.code}", response.text)
        self.assertEqual(
            self.url_open(f"/my/customers/{self.consumer_partner.id}").status_code, 200
        )
        response = self.url_open(f"/my/customers/{self.sam_customer.id}")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("Customer of Sam", response.text)

    def _customer_invoice(
        self, partner, lines, move_type="out_invoice", post=True, day=None
    ):
        day = day or self.period.date_from
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": day,
                "date": day,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "quantity": qty,
                            "price_unit": price,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for qty, price in lines
                ],
            }
        )
        if post:
            move.action_post()
        return move

    def _customer_row(self, text, partner):
        match = re.search(
            rf'<tr[^>]*o_ds_customer_row[^>]*data-customer-id="{partner.id}".*?</tr>',
            text,
            re.S,
        )
        self.assertTrue(match, f"no row for {partner.name}")
        return match.group(0)

    def _cell(self, row, css):
        match = re.search(rf'class="[^"]*{css}[^"]*"[^>]*>(.*?)</', row, re.S)
        self.assertTrue(match, css)
        return re.sub(r"<[^>]+>|\s|&nbsp;|\xa0", "", match.group(1))

    def test_customers_totals_from_invoices(self):
        """Orders and totals of a referred customer come from the posted invoices
        and refunds credited to the leader (what counts for PV), not from sale
        orders: a customer with invoices and no sale order shows them."""
        self.product = self.env["product.product"].create(
            {"name": "DSP Serum", "list_price": 617.25, "ds_pv": 10.0}
        )
        cleo = self.consumer_partner
        self._customer_invoice(cleo, [(2, 617.25)])  # 1,234.50 / PV 20
        self._customer_invoice(cleo, [(1, 100.0)])  # 100.00 / PV 10
        self._customer_invoice(cleo, [(1, 40.0)], move_type="out_refund")  # PV -10
        self._customer_invoice(cleo, [(1, 5000.0)], post=False)  # draft: not counted
        # a foreign leader's customer with a posted invoice
        self._customer_invoice(self.sam_customer, [(1, 777.77)])
        self.assertFalse(
            self.env["sale.order"].search_count([("partner_id", "=", cleo.id)])
        )
        # the independent figures, from the ORM
        moves = self.env["account.move"].search(
            [
                ("partner_id", "=", cleo.id),
                ("state", "=", "posted"),
                ("ds_distributor_id", "=", self.lana.id),
            ]
        )
        self.assertEqual(len(moves), 3)
        self.assertAlmostEqual(sum(moves.mapped("amount_total_signed")), 1294.50)
        self.assertAlmostEqual(sum(moves.mapped("ds_pv_total")), 20.0)

        self.login(self.user_lana)
        response = self.url_open("/my/customers")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Invoiced (net of refunds)", response.text)
        row = self._customer_row(response.text, cleo)
        self.assertEqual(self._cell(row, "o_ds_customer_invoices"), "2")
        self.assertIn("1refunded", self._cell(row, "o_ds_customer_refunds"))
        self.assertIn("1,294.50", self._cell(row, "o_ds_customer_amount"))
        self.assertEqual(self._cell(row, "o_ds_customer_pv"), "20.00")
        self.assertEqual(self._cell(row, "o_ds_customer_open"), "0")
        self.assertNotIn("Customer of Sam", response.text)
        self.assertNotIn("777.77", response.text)
        # the customer page lists the same documents
        page = self.url_open(f"/my/customers/{cleo.id}")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.text.count("o_ds_customer_move"), 3)
        self.assertIn("1,234.50", page.text)
        self.assertNotIn("5,000.00", page.text)

    def test_customers_due_to_reorder_and_likely_to_want(self):
        """The leader's follow-up per customer: due to reorder once as long has passed
        since the last purchase as the customer's usual gap; the product their
        purchases point to most (next best product), in the customer's own row only."""
        self.product = self.env["product.product"].create(
            {"name": "DSP Shake", "list_price": 30.0, "ds_pv": 3.0}
        )
        mask = self.env["product.product"].create(
            {"name": "DSP Mask", "list_price": 9.0}
        )
        today = fields.Date.context_today(self.env["res.partner"])
        cleo = self.consumer_partner
        for days in (100, 70, 40):  # every 30 days, last one 40 days ago: due
            self._customer_invoice(cleo, [(1, 30.0)], day=today - timedelta(days=days))
        recent = self.env["res.partner"].create(
            {"name": "Recent Rita", "ds_referrer_id": self.lana.id}
        )
        for days in (25, 15, 5):  # every 10 days, last one 5 days ago: not due
            self._customer_invoice(
                recent, [(1, 30.0)], day=today - timedelta(days=days)
            )
        self.env.flush_all()
        self.env.cr.execute(
            "INSERT INTO ds_partner_recommendation (partner_id, company_id, product_id, rank, "
            "score, lift) VALUES (%s, %s, %s, 1, 0.5, 2.0), (%s, %s, %s, 1, 0.5, 2.0)",
            [
                cleo.id,
                self.lana.company_id.id,
                mask.id,
                self.sam_customer.id,
                self.lana.company_id.id,
                self.product.id,
            ],
        )
        self.login(self.user_lana)
        text = self.url_open("/my/customers").text
        cleo_row = self._customer_row(text, cleo)
        self.assertIn("Due to reorder (usually every 30 days)", cleo_row)
        self.assertIn("Likely to want:", cleo_row)
        self.assertIn("DSP Mask", cleo_row)
        rita_row = self._customer_row(text, recent)
        self.assertNotIn("o_ds_customer_due", rita_row)
        self.assertNotIn("Likely to want", rita_row)
        self.assertNotIn("Customer of Sam", text)

    def _product_group(self, text, product):
        match = re.search(
            rf'<div[^>]*o_ds_product_group[^>]*data-product-id="{product.id}".*?'
            r"(?=<div[^>]*o_ds_product_group|$)",
            text,
            re.S,
        )
        self.assertTrue(match, f"no group for {product.name}")
        return match.group(0)

    def _listed(self, html, css, partner):
        return bool(re.search(rf'class="{css}" data-customer-id="{partner.id}"', html))

    def test_customers_due_to_reorder_each_product(self):
        """Per product, the leader's customers due to reorder it (by their own rhythm
        for that product) and those likely to want it; another leader's customers
        never, even when due for the same product."""
        shake = self.env["product.product"].create(
            {"name": "DSP Shake", "list_price": 30.0, "ds_pv": 3.0}
        )
        mask = self.env["product.product"].create(
            {"name": "DSP Mask", "list_price": 9.0}
        )
        today = fields.Date.context_today(self.env["res.partner"])
        cleo = self.consumer_partner
        rita = self.env["res.partner"].create(
            {"name": "Recent Rita", "ds_referrer_id": self.lana.id}
        )
        plan = [
            (cleo, shake, (100, 70, 40)),  # every 30 days, 40 since: due
            (cleo, mask, (25, 15, 5)),  # every 10 days, 5 since: not due
            (rita, shake, (25, 15, 5)),  # not due
            (rita, mask, (60,)),  # bought once: no rhythm, never due
            (self.sam_customer, shake, (100, 70, 40)),  # due, but Sam's
        ]
        for partner, product, days in plan:
            self.product = product
            for day in days:
                self._customer_invoice(
                    partner, [(1, product.list_price)], day=today - timedelta(days=day)
                )
        self.env.flush_all()
        company = self.lana.company_id.id
        self.env.cr.execute(
            "INSERT INTO ds_partner_recommendation (partner_id, company_id, product_id, rank, "
            "score, lift) VALUES (%s, %s, %s, 1, 0.5, 2.0), (%s, %s, %s, 1, 0.5, 2.0)",
            [rita.id, company, shake.id, self.sam_customer.id, company, mask.id],
        )
        self.login(self.user_lana)
        response = self.url_open("/my/customers/products")
        self.assertEqual(response.status_code, 200)
        text = response.text
        shake_html = self._product_group(text, shake)
        self.assertIn("Customers due to reorder DSP Shake", shake_html)
        self.assertTrue(self._listed(shake_html, "o_ds_due_customer", cleo))
        self.assertIn("last bought 40 days ago, usually every 30 days", shake_html)
        self.assertFalse(self._listed(shake_html, "o_ds_due_customer", rita))
        self.assertTrue(self._listed(shake_html, "o_ds_likely_customer", rita))
        # nobody of Lana's is due for the mask (Cleo's rhythm says not yet, Rita bought it
        # once: no rhythm) nor likely to want it: no mask group
        self.assertNotIn(f'data-product-id="{mask.id}"', text)
        self.assertNotIn("Customer of Sam", text)
        self.assertNotIn(f'data-customer-id="{self.sam_customer.id}"', text)
        # Sam sees his own customer due for the shake, and none of Lana's
        self.login(self.user_sam)
        text = self.url_open("/my/customers/products").text
        shake_html = self._product_group(text, shake)
        self.assertTrue(
            self._listed(shake_html, "o_ds_due_customer", self.sam_customer)
        )
        self.assertTrue(
            self._listed(
                self._product_group(text, mask),
                "o_ds_likely_customer",
                self.sam_customer,
            )
        )
        self.assertNotIn("Consumer Cleo", text)
        self.assertNotIn("Recent Rita", text)
        # a consumer (not a leader) gets no such page
        self.login(self.user_consumer)
        self.assertEqual(self.url_open("/my/customers/products").status_code, 403)

    # ------------------------------------------------------------------ numbers
    def test_numbers_with_thousands_separators(self):
        """PV / GV figures are formatted per the user's language (en_US: 12,345.50)."""
        volumes = self.env["ds.volume"].search(
            [
                ("distributor_id", "in", (self.lana | self.fay).ids),
                ("period_id", "=", self.period.id),
            ]
        )
        volumes.write({"gv": 12345.5, "pv": 2345.25})
        self.assertEqual(self.user_lana.lang, "en_US")
        self.login(self.user_lana)
        volume_page = self.url_open("/my/volume").text
        gv = re.search(r'class="fs-4 o_ds_gv"[^>]*>([^<]*)<', volume_page).group(1)
        self.assertEqual(gv.strip(), "12,345.50")
        pv = re.search(r'class="fs-4 o_ds_pv"[^>]*>([^<]*)<', volume_page).group(1)
        self.assertEqual(pv.strip(), "2,345.25")
        self.assertNotIn("12345.50", volume_page)
        network = self.url_open("/my/network").text
        self.assertIn(">12,345.50<", network)
        self.assertNotIn("12345.50", network)
        member = self.url_open(f"/my/network/{self.fay.id}").text
        self.assertIn(">12,345.50<", member)
        self.assertIn(">2,345.25<", member)

    # ------------------------------------------------------------------ leads
    def test_leads_and_stage_update(self):
        stages = self.env["crm.stage"].search([("team_id", "=", False)], limit=2)
        if len(stages) < 2:
            stages = self.env["crm.stage"].create(
                [{"name": "DSP New", "sequence": 1}, {"name": "DSP Won", "sequence": 2}]
            )
        lead = self.env["crm.lead"].create(
            {
                "name": "Lead for Lana",
                "type": "opportunity",
                "ds_distributor_id": self.lana.id,
                "stage_id": stages[0].id,
                "team_id": False,
            }
        )
        other = self.env["crm.lead"].create(
            {
                "name": "Lead for Sam",
                "type": "opportunity",
                "ds_distributor_id": self.sam.id,
                "stage_id": stages[0].id,
                "team_id": False,
            }
        )
        self.login(self.user_lana)
        response = self.url_open("/my/leads")
        self.assertIn("Lead for Lana", response.text)
        self.assertNotIn("Lead for Sam", response.text)
        csrf = self._csrf("/my/leads")
        response = self.url_open(
            f"/my/leads/{lead.id}/stage",
            data={"stage_id": stages[1].id, "csrf_token": csrf},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(lead.stage_id, stages[1])
        response = self.url_open(
            f"/my/leads/{other.id}/stage",
            data={"stage_id": stages[1].id, "csrf_token": csrf},
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(other.stage_id, stages[0])
        self.assertNotIn("Lead for Sam", response.text)

    def test_leads_accept_and_decline(self):
        """Routed leads of either type show; the distributor accepts or declines
        their own, and never somebody else's."""
        lead, declined, foreign = self.env["crm.lead"].create(
            [
                {"name": "Web lead for Lana", "type": "lead"},
                {"name": "Lead Lana declines", "type": "opportunity"},
                {"name": "Lead routed to Sam", "type": "opportunity"},
            ]
        )
        (lead | declined).write({"ds_distributor_id": self.lana.id})
        foreign.write({"ds_distributor_id": self.sam.id})
        self.login(self.user_lana)
        response = self.url_open("/my/leads")
        self.assertIn("Web lead for Lana", response.text)
        self.assertNotIn("Lead routed to Sam", response.text)
        csrf = self._csrf("/my/leads")
        response = self.url_open(
            f"/my/leads/{lead.id}/accept", data={"csrf_token": csrf}
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(lead.ds_accepted)
        self.assertEqual(lead.ds_distributor_id, self.lana)
        response = self.url_open(
            f"/my/leads/{declined.id}/decline", data={"csrf_token": csrf}
        )
        self.assertEqual(response.status_code, 200)
        self.assertNotEqual(declined.ds_distributor_id, self.lana)
        for decision in ("accept", "decline"):
            response = self.url_open(
                f"/my/leads/{foreign.id}/{decision}", data={"csrf_token": csrf}
            )
            self.assertEqual(response.status_code, 404)
            self.assertNotIn("Lead routed to Sam", response.text)
        self.assertFalse(foreign.ds_accepted)
        self.assertEqual(foreign.ds_distributor_id, self.sam)

    # ------------------------------------------------------------------ messages
    def test_message_new_recruits_reaches_only_them(self):
        # a blacklisted new recruit in the downline is skipped too
        today_recruit = self.env["ds.distributor"].create(
            {
                "name": "Blacklisted Ben",
                "email": "ben@example.com",
                "code": "DSP-BEN",
                "sponsor_id": self.finn.id,
            }
        )
        self.env["mail.blacklist"].create({"email": "ben@example.com"})
        self.login(self.user_lana)
        csrf = self._csrf("/my/messages")
        response = self.url_open(
            "/my/messages/send",
            data={
                "audience": "new_recruits",
                "subject": "Welcome aboard",
                "body": "Hello <b>team</b>\nsecond line",
                "csrf_token": csrf,
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ds_message_sent", response.text)
        message = self.env["ds.portal.message"].search(
            [("leader_id", "=", self.lana.id)]
        )
        self.assertEqual(len(message), 1)
        # Fay is new; Dee is new but opted out; Ben is new but blacklisted; Bob is new but foreign
        self.assertEqual(message.recipient_ids, self.fay.partner_id)
        self.assertEqual(message.recipient_count, 1)
        self.assertEqual(message.excluded_count, 2)
        mail_message = self.env["mail.message"].search(
            [
                ("model", "=", "ds.portal.message"),
                ("res_id", "=", message.id),
                ("message_type", "=", "comment"),
            ]
        )
        self.assertEqual(len(mail_message), 1)
        self.assertEqual(mail_message.author_id, self.lana.partner_id)
        self.assertEqual(mail_message.partner_ids, self.fay.partner_id)
        self.assertIn("&lt;b&gt;team&lt;/b&gt;", str(mail_message.body))  # escaped
        mails = self.env["mail.mail"].search(
            [("mail_message_id", "=", mail_message.id)]
        )
        self.assertEqual(mails.recipient_ids, self.fay.partner_id)
        self.assertNotIn(today_recruit.partner_id, mails.recipient_ids)
        history = self.url_open("/my/messages").text
        self.assertIn("Welcome aboard", history)
        # another leader does not see it
        self.login(self.user_sam)
        self.assertNotIn("Welcome aboard", self.url_open("/my/messages").text)

    def test_message_limit_and_empty_audience(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_direct_selling_portal.message_max_recipients", 1
        )
        self.login(self.user_lana)
        csrf = self._csrf("/my/messages")
        data = {"subject": "Hi all", "body": "Hello", "csrf_token": csrf}
        response = self.url_open(
            "/my/messages/send", data=dict(data, audience="everyone")
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ds_message_error", response.text)
        self.assertIn("limited to 1 recipients", response.text)
        response = self.url_open(
            "/my/messages/send",
            data=dict(data, audience="rank", rank_id=self.rank_gold.id),
        )
        self.assertIn("nobody in this audience", response.text)
        self.assertFalse(
            self.env["ds.portal.message"].search([("leader_id", "=", self.lana.id)])
        )
        # at risk: Finn only (active last period, below the active PV now)
        response = self.url_open(
            "/my/messages/send", data=dict(data, audience="at_risk")
        )
        message = self.env["ds.portal.message"].search(
            [("leader_id", "=", self.lana.id)]
        )
        self.assertEqual(message.recipient_ids, self.finn.partner_id)
        # an unknown audience is refused
        response = self.url_open(
            "/my/messages/send", data=dict(data, audience="upline")
        )
        self.assertEqual(response.status_code, 404)

    def test_message_rank_audience_and_foreign_rank_members(self):
        message = self.env["ds.portal.message"].create(
            {
                "name": "Bronze call",
                "body": "<p>Hi</p>",
                "leader_id": self.lana.id,
                "audience": "rank",
                "rank_id": self.rank_bronze.id,
            }
        )
        message.action_send()
        # Bob is bronze too but in another branch
        self.assertEqual(message.recipient_ids, (self.fay | self.dan).partner_id)
        with self.assertRaises(UserError):
            message.action_send()

    # ------------------------------------------------------------------ record rules
    def test_record_rules_portal(self):
        """Through the ORM (e.g. RPC) a portal distributor reads distributors of their
        own subtree only; since a distributor's contact fields live on res.partner,
        Odoo's portal partner rule narrows that further to their own record, so
        private contact details of the downline never leak through RPC."""
        Distributor = self.env["ds.distributor"].with_user(self.user_lana)
        self.assertEqual(
            Distributor.search(
                [("id", "in", (self.own | self.foreign | self.lana).ids)]
            ),
            self.lana,
        )
        rule = self.env.ref("crm_direct_selling_portal.ds_distributor_rule_portal")
        rule_domain = safe_eval(
            rule.domain_force,
            self.env["ir.rule"].with_user(self.user_lana)._eval_context(),
        )
        everyone = self.own | self.foreign | self.lana
        self.assertEqual(
            self.env["ds.distributor"].search(
                rule_domain + [("id", "in", everyone.ids)]
            ),
            self.own | self.lana,
        )
        with self.assertRaises(AccessError):
            Distributor.browse(self.sam.id).read(["code"])
        Volume = self.env["ds.volume"].with_user(self.user_lana)
        self.assertFalse(Volume.search([("distributor_id", "in", self.foreign.ids)]))
        self.assertTrue(Volume.search([("distributor_id", "=", self.dee.id)]))
        with self.assertRaises(AccessError):
            Volume.browse(
                self.env["ds.volume"]
                .search([("distributor_id", "=", self.sam.id)], limit=1)
                .id
            ).read(["pv"])
        Line = self.env["ds.bonus.line"].with_user(self.user_lana)
        self.assertFalse(Line.search([("distributor_id", "!=", self.lana.id)]))
        with self.assertRaises(AccessError):
            self.env["ds.portal.message"].with_user(self.user_lana).create(
                {"name": "x", "body": "y", "leader_id": self.lana.id}
            )

    def test_check_in_downline_helper(self):
        leader = self.lana.sudo()
        self.assertEqual(leader._ds_check_in_downline(self.dee.id), self.dee)
        for other in self.foreign | self.lana:
            with self.assertRaises(AccessError):
                leader._ds_check_in_downline(other.id)
        self.assertEqual(
            leader._ds_check_in_downline(self.lana.id, include_self=True), self.lana
        )

    # ------------------------------------------------------------------ referral link
    def test_referral_link_sets_cookie_and_attributes_signup(self):
        self.assertEqual(self.url_open("/ds/ref/NO-SUCH-CODE").status_code, 404)
        self.env["ir.config_parameter"].sudo().set_param(
            "auth_signup.invitation_scope", "b2c"
        )
        # with the website installed (website_slides), each website decides
        self.env["website"].search([]).auth_signup_uninvited = "b2c"
        response = self.url_open(f"/ds/ref/{self.lana.code}", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        # the link opens the distributor's shop (which offers to sign up)
        self.assertTrue(response.headers["Location"].endswith("/shop"))
        self.assertIn(
            f"ds_ref={self.lana.code}", response.headers.get("Set-Cookie", "")
        )
        csrf = self._csrf("/web/signup")
        self.url_open(
            "/web/signup",
            data={
                "login": "newbie@example.com",
                "name": "Newbie Nora",
                "password": "newbie-pw-123",
                "confirm_password": "newbie-pw-123",
                "csrf_token": csrf,
            },
        )
        user = self.env["res.users"].search([("login", "=", "newbie@example.com")])
        self.assertTrue(user)
        self.assertEqual(user.partner_id.ds_referrer_id, self.lana)

    # ------------------------------------------------------------------ granting access
    def test_grant_portal_access(self):
        newcomer = self.env["ds.distributor"].create(
            {
                "name": "Granted Gina",
                "email": "gina@example.com",
                "code": "DSP-GINA",
                "sponsor_id": self.lana.id,
            }
        )
        # keep the sent welcome mail to check it
        self.env.ref("portal.mail_template_data_portal_welcome").auto_delete = False
        action = (newcomer | self.fay).action_ds_grant_portal()
        self.assertEqual(action["tag"], "display_notification")
        user = newcomer.partner_id.user_ids
        self.assertEqual(len(user), 1)
        self.assertTrue(user._is_portal())
        welcome = self.env["mail.mail"].search(
            [("recipient_ids", "in", newcomer.partner_id.ids)]
        ) or self.env["mail.mail"].search([("email_to", "ilike", "gina@example.com")])
        self.assertTrue(welcome)
        self.assertEqual(
            len(self.fay.partner_id.user_ids), 1
        )  # already had access: untouched
        no_mail = self.env["ds.distributor"].create(
            {"name": "Mailless Mo", "code": "DSP-MO", "sponsor_id": self.lana.id}
        )
        with self.assertRaisesRegex(UserError, "Mailless Mo"):
            no_mail.action_ds_grant_portal()
        self.assertFalse(no_mail.partner_id.user_ids)


@tagged("post_install", "-at_install")
class TestDsPortalBonusesAndConsumer(DsPortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_bonus_data()

    def test_bonuses_page(self):
        self.login(self.user_lana)
        response = self.url_open("/my/bonuses")
        self.assertEqual(response.status_code, 200)
        text = response.text
        self.assertIn("DSP prev", text)
        self.assertIn("35.50", text)  # total 20 + 3 + 12.5
        self.assertIn("23.00", text)  # unilevel
        self.assertIn("12.50", text)  # fast start
        self.assertNotIn("999.00", text)  # draft run hidden
        self.assertNotIn("40.00", text)  # Sam's line
        self.assertIn("To be paid", text)
        match = re.search(r'href="(/my/bonuses/\d+/statement\?[^"]+)"', text)
        self.assertTrue(match)
        url = match.group(1).replace("&amp;", "&")
        statement = self.url_open(url)
        self.assertEqual(statement.status_code, 200)
        self.assertIn("Leader Lana", statement.text)
        self.assertNotIn("Branch Bob", statement.text)
        self.assertNotIn("40.00", statement.text)
        # the shared link works without a session, a forged one does not
        self.logout()
        self.assertEqual(self.url_open(url).status_code, 200)
        forged = re.sub(r"access_token=[0-9a-f]+", "access_token=" + "0" * 64, url)
        self.assertEqual(self.url_open(forged).status_code, 404)
        other = url.replace(
            f"distributor_id={self.lana.id}", f"distributor_id={self.sam.id}"
        )
        response = self.url_open(other)
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("Sibling Sam", response.text)

    def test_bonus_payment_status(self):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.bill.ids
        ).create({})._create_payments()
        self.assertIn(self.bill.payment_state, ("paid", "in_payment"))
        self.login(self.user_lana)
        self.assertIn(">Paid<", self.url_open("/my/bonuses").text)

    def test_statement_foreign_run_404(self):
        self.login(self.user_sam)
        # Sam has lines in the run: his own statement works, Lana's does not without token
        self.assertEqual(
            self.url_open(f"/my/bonuses/{self.bonus_run.id}/statement").status_code, 200
        )
        response = self.url_open(
            f"/my/bonuses/{self.bonus_run.id}/statement?distributor_id={self.lana.id}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("Leader Lana", response.text)  # falls back to Sam's own
        self.login(self.user_fay)
        response = self.url_open(f"/my/bonuses/{self.bonus_run.id}/statement")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(
            self.url_open(f"/my/bonuses/{self.draft_run.id}/statement").status_code, 404
        )

    def test_consumer_rewards_and_news(self):
        program = self.env["loyalty.program"].create(
            {
                "name": "DSP Points",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "rule_ids": [
                    Command.create(
                        {"reward_point_amount": 1, "reward_point_mode": "money"}
                    )
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "required_points": 50,
                        }
                    )
                ],
            }
        )
        self.env["loyalty.card"].create(
            {
                "program_id": program.id,
                "partner_id": self.consumer_partner.id,
                "points": 75,
            }
        )
        self.login(self.user_consumer)
        response = self.url_open("/my/rewards")
        self.assertEqual(response.status_code, 200)
        self.assertIn("DSP Points", response.text)
        self.assertIn("75", response.text)
        self.assertIn("You do not receive our product news", response.text)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
        response = self.url_open("/my/news/toggle", data={"csrf_token": csrf})
        self.assertIn("You receive our product news", response.text)
        news = self.env.ref("crm_direct_selling_portal.mailing_list_product_news")
        sub = self.env["mailing.subscription"].search(
            [("list_id", "=", news.id), ("contact_id.email", "=", "cleo@example.com")]
        )
        self.assertTrue(sub and not sub.opt_out)
        response = self.url_open("/my/news/toggle", data={"csrf_token": csrf})
        self.assertIn("You do not receive our product news", response.text)
        self.assertTrue(sub.opt_out)
