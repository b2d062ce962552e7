import json
import re
from datetime import timedelta

from lxml import html

from odoo import Command, fields
from odoo.tests import HttpCase, tagged

from odoo.addons.crm_direct_selling.tests.rank_progress_common import (
    build_network,
    create_products,
    create_ranks,
    make_rng,
    reference_progress,
)

FIGURE = re.compile(
    r"^(?P<label>.*?)\s+(?P<actual>-?[\d.,]+)\s*/\s*(?P<required>[\d.,]+)\s*·\s*(?P<rest>.*)$"
)


def expected_label(key, rank):
    """What the page must call each figure, written out here (not read from the code)."""
    if key == "pv":
        return "Personal volume (PV)"
    if key == "gv":
        if rank.max_leg_pct and rank.min_gv:
            return f"GV counted for next rank (leg cap {rank.max_leg_pct:g}%)"
        return "GV counted for next rank (no leg cap)"
    if rank.leg_rank_id:
        return f"Legs toward next rank ({rank.leg_rank_id.name} or higher)"
    return "Legs toward next rank (legs with group volume)"


def shown(key, value):
    return str(value) if key == "legs" else f"{value / 100:.2f}"


@tagged("post_install", "-at_install")
class TestPortalRankProgress(HttpCase):
    """/my/volume shows the volume step's own evaluation of the next rank: checked over HTTP
    as the leader against an independent evaluation of the rank rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.ds_active_min_pv = 100.0
        today = fields.Date.context_today(cls.env["ds.period"])
        first = today.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        Period = cls.env["ds.period"]
        cls.period = Period.search(
            [
                ("company_id", "=", cls.company.id),
                ("date_from", "<=", today),
                ("date_to", ">=", today),
            ],
            limit=1,
        ) or Period.create({"name": "RPP current", "date_from": first, "date_to": last})
        cls.period_prev = Period.search(
            [
                ("company_id", "=", cls.company.id),
                ("date_to", "<", cls.period.date_from),
            ],
            order="date_to desc",
            limit=1,
        )
        if not cls.period_prev:
            prev_last = cls.period.date_from - timedelta(days=1)
            cls.period_prev = Period.create(
                {
                    "name": "RPP previous",
                    "date_from": prev_last.replace(day=1),
                    "date_to": prev_last,
                }
            )
        cls.portal_group = cls.env.ref("base.group_portal")

    def _portal_user(self, distributor):
        login = f"rpp_{distributor.code.lower()}"
        return (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": login,
                    "password": login,
                    "partner_id": distributor.partner_id.id,
                    "groups_id": [Command.set(self.portal_group.ids)],
                }
            )
        )

    def _page(self, distributor):
        user = self._portal_user(distributor)
        self.authenticate(user.login, user.login)
        response = self.url_open("/my/volume")
        self.assertEqual(response.status_code, 200)
        return html.fromstring(response.text)

    def _figures(self, page):
        """(label, actual, required, met) of each requirement row on the page."""
        rows = []
        for node in page.xpath(
            "//div[contains(concat(' ', @class, ' '), ' o_ds_requirement ')]"
        ):
            text = " ".join(node.text_content().split())
            match = FIGURE.match(text)
            self.assertTrue(match, text)
            rows.append(
                (
                    match["label"],
                    # the figures as numbers (the float widget groups thousands)
                    match["actual"].replace(",", ""),
                    match["required"].replace(",", ""),
                    match["rest"].strip() == "met",
                )
            )
        return rows

    def test_random_network_pages(self):
        """Random network: for leaders with a next rank to reach, the page shows exactly the
        requirements, the counted figures and met / not met of the reference evaluation."""
        rng = make_rng(7)
        tag = "RPP"
        products = create_products(self.env, tag)
        ranks = create_ranks(self.env, rng, tag, self.company)
        # make sure legs and leg caps are there: the highest rank needs 2 legs of the
        # second rank, each capped at 50 % of its minimum GV
        ladder = ranks.sorted(lambda r: (r.sequence, r.id))
        ladder[-1].write(
            {
                "min_qualified_legs": 2,
                "leg_rank_id": ladder[1].id,
                "min_gv": 1000.01,
                "max_leg_pct": 50,
            }
        )
        distributors, pv_cents = build_network(
            self.env, rng, 120, tag, self.period, products, self.company
        )
        self.period.action_compute_volumes()
        self.env.invalidate_all()
        reference = reference_progress(distributors, pv_cents, ranks)
        # leaders: a frontline, with a next rank that has requirements, legs ones first
        candidates = [
            d
            for d in distributors
            if d.state == "active"
            and d.frontline_ids
            and reference[d.id]["state"] == "progress"
            and reference[d.id]["rows"]
        ]
        candidates.sort(
            key=lambda d: (
                not any(row[0] == "legs" for row in reference[d.id]["rows"]),
                not any(row[0] == "gv" for row in reference[d.id]["rows"]),
                d.id,
            )
        )
        leaders = candidates[:6]
        self.assertGreaterEqual(len(leaders), 4)
        self.assertTrue(
            any(
                row[0] == "legs"
                for leader in leaders
                for row in reference[leader.id]["rows"]
            )
        )
        for leader in leaders:
            expected = reference[leader.id]
            page = self._page(leader)
            next_rank = page.xpath("//*[contains(@class, 'o_ds_next_rank')]")
            self.assertEqual(
                next_rank[0].text_content().strip(), expected["next"].name, leader.name
            )
            self.assertEqual(
                self._figures(page),
                [
                    (
                        expected_label(key, expected["next"]),
                        shown(key, actual),
                        shown(key, required),
                        met,
                    )
                    for key, required, actual, met in expected["rows"]
                ],
                leader.name,
            )
            # the next rank of a paid rank is never entirely met (it would have been paid)
            self.assertFalse(all(row[3] for row in expected["rows"]), leader.name)

    def _ladder(self):
        self.env["ds.rank"].search(
            ["|", ("company_id", "=", False), ("company_id", "=", self.company.id)]
        ).write({"active": False})
        Rank = self.env["ds.rank"]
        r1 = Rank.create(
            {
                "name": "RPP Star",
                "sequence": 1,
                "min_pv": 50,
                "company_id": self.company.id,
            }
        )
        r2 = Rank.create(
            {
                "name": "RPP Leader",
                "sequence": 2,
                "min_pv": 50,
                "min_gv": 200,
                "max_leg_pct": 50,
                "min_qualified_legs": 2,
                "leg_rank_id": r1.id,
                "company_id": self.company.id,
            }
        )
        return r1, r2

    def _one_leg_short(self):
        """Lea (PV 100) with two frontline legs: Ann (PV 100, a Star) and Ben (PV 10, no
        rank). Lea is a Star; RPP Leader needs 2 legs of Star or higher: one leg short."""
        r1, r2 = self._ladder()
        product = create_products(self.env, "RPP1")[0]  # PV 100
        sample = create_products(self.env, "RPP2")[1]  # PV 10
        Distributor = self.env["ds.distributor"]
        lea = Distributor.create(
            {"name": "RPP Lea", "code": "RPP-LEA", "email": "lea@example.com"}
        )
        ann = Distributor.create(
            {"name": "RPP Ann", "code": "RPP-ANN", "sponsor_id": lea.id}
        )
        ben = Distributor.create(
            {"name": "RPP Ben", "code": "RPP-BEN", "sponsor_id": lea.id}
        )
        moves = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": dist.partner_id.id,
                    "invoice_date": self.period.date_from,
                    "date": self.period.date_from,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": prod.id,
                                "quantity": 1,
                                "price_unit": prod.list_price,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
                for dist, prod in ((lea, product), (ann, product), (ben, sample))
            ]
        )
        moves.action_post()
        self.period.action_compute_volumes()
        self.env.invalidate_all()
        return lea, r1, r2

    def test_one_leg_short_page(self):
        lea, r1, r2 = self._one_leg_short()
        volume = self.env["ds.volume"].search(
            [("distributor_id", "=", lea.id), ("period_id", "=", self.period.id)]
        )
        self.assertEqual(volume.paid_rank_id, r1)
        self.assertEqual(volume.next_rank_id, r2)
        page = self._page(lea)
        self.assertEqual(
            self._figures(page),
            [
                ("Personal volume (PV)", "100.00", "50.00", True),
                # own 100 + Ann 100 (cap 100) + Ben 10
                ("GV counted for next rank (leg cap 50%)", "210.00", "200.00", True),
                ("Legs toward next rank (RPP Star or higher)", "1", "2", False),
            ],
        )
        self.assertTrue(page.xpath("//*[contains(@class, 'o_ds_req_not_met')]"))

    def test_back_office_form_same_rows(self):
        """The back office (volume form, read as the web client reads it by a Direct Selling
        user) shows the same rows, labels and verdicts as the portal."""
        lea, _r1, _r2 = self._one_leg_short()
        volume = self.env["ds.volume"].search(
            [("distributor_id", "=", lea.id), ("period_id", "=", self.period.id)]
        )
        user = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "RPP Back Office",
                    "login": "rpp_backoffice",
                    "password": "rpp_backoffice",
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
        )
        self.authenticate(user.login, user.login)
        response = self.url_open(
            "/web/dataset/call_kw/ds.volume/web_read",
            data=json.dumps(
                {
                    "params": {
                        "model": "ds.volume",
                        "method": "web_read",
                        "args": [volume.ids],
                        "kwargs": {
                            "specification": {
                                "rank_progress_html": {},
                                "next_gv": {},
                                "qualified_legs": {},
                            }
                        },
                    }
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        result = response.json()
        self.assertNotIn("error", result, result.get("error"))
        record = result["result"][0]
        self.assertEqual((record["next_gv"], record["qualified_legs"]), (210.0, 1))
        rows = [
            tuple(" ".join(cell.text_content().split()) for cell in tr.xpath("td"))
            for tr in html.fromstring(record["rank_progress_html"]).xpath("//tbody/tr")
        ]
        self.assertEqual(
            rows,
            [
                ("Personal volume (PV)", "50.00", "100.00", "0.00", "met"),
                (
                    "GV counted for next rank (leg cap 50%)",
                    "200.00",
                    "210.00",
                    "0.00",
                    "met",
                ),
                (
                    "Legs toward next rank (RPP Star or higher)",
                    "2",
                    "1",
                    "1",
                    "not met",
                ),
            ],
        )

    def test_one_leg_short_tour(self):
        """In Chromium: the leader one leg short reads that requirement as not met."""
        lea, _r1, _r2 = self._one_leg_short()
        user = self._portal_user(lea)
        self.start_tour("/my/volume", "ds_rank_progress_tour", login=user.login)

    def test_not_computed_yet(self):
        """No figure is made up for a period not computed yet: the last computed period's
        progress is shown with its name, or a clear message when nothing was computed."""
        r1, r2 = self._ladder()
        Distributor = self.env["ds.distributor"]
        old = Distributor.create({"name": "RPP Olga", "code": "RPP-OLGA"})
        new = Distributor.create({"name": "RPP Nina", "code": "RPP-NINA"})
        self.env["ds.volume"].search(
            [("distributor_id", "in", (old | new).ids)]
        ).unlink()
        # Olga: volumes of the previous period only (the current one is not computed yet)
        self.env["ds.volume"].create(
            {
                "distributor_id": old.id,
                "period_id": self.period_prev.id,
                "company_id": self.company.id,
                "pv": 60.0,
                "gv": 60.0,
                "next_gv": 60.0,
                "paid_rank_id": r1.id,
                "next_rank_id": r2.id,
                "distributor_state": "active",
            }
        )
        page = self._page(old)
        stale = page.xpath("//*[contains(@class, 'o_ds_volume_stale')]")
        self.assertTrue(stale)
        self.assertIn(self.period_prev.display_name, stale[0].text_content())
        self.assertIn(self.period.display_name, stale[0].text_content())
        self.assertEqual(
            self._figures(page)[1],
            ("GV counted for next rank (leg cap 50%)", "60.00", "200.00", False),
        )
        # Nina: nothing computed at all
        page = self._page(new)
        self.assertTrue(page.xpath("//*[contains(@class, 'o_ds_volume_not_computed')]"))
        self.assertFalse(page.xpath("//*[contains(@class, 'o_ds_pv')]"))
        self.assertFalse(self._figures(page))
