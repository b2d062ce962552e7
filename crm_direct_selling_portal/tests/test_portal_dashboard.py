from collections import Counter

from odoo import fields
from odoo.tests import tagged

from .common import DsPortalCommon


@tagged("post_install", "-at_install")
class TestDsPortalDashboard(DsPortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_bonus_data()

    def _expected(self, leader):
        """The dashboard figures of ``leader``, from the ORM (independently of the
        dashboard's SQL)."""
        env = self.env
        downline = env["ds.distributor"].search(
            [
                ("parent_path", "=like", leader.parent_path + "%"),
                ("id", "!=", leader.id),
                ("state", "!=", "terminated"),
            ]
        )
        volumes = env["ds.volume"].search([("distributor_id", "=", leader.id)])
        volumes = volumes.sorted(lambda v: v.period_id.date_from)
        last_closed = env["ds.period"].search(
            [("company_id", "=", leader.company_id.id), ("state", "=", "closed")],
            order="date_to desc",
            limit=1,
        )
        ranks = Counter(d.rank_id.name for d in downline if d.rank_id)
        ranks["No rank"] = len(downline) - sum(ranks.values())
        lines = env["ds.bonus.line"].search(
            [("distributor_id", "=", leader.id), ("run_id.state", "=", "posted")]
        )
        by_run = {}
        for line in lines:
            by_run[line.run_id] = by_run.get(line.run_id, 0.0) + line.amount
        today = fields.Date.context_today(leader)
        first_month = fields.Date.subtract(today.replace(day=1), months=11)
        recruits = Counter(
            d.enrollment_date.replace(day=1)
            for d in downline
            if d.enrollment_date and d.enrollment_date >= first_month
        )
        return {
            "downline": len(downline),
            "pv": volumes.mapped("pv"),
            "gv": volumes.mapped("gv"),
            "periods": volumes.period_id.mapped("display_name"),
            "rank_period": last_closed.display_name,
            "ranks": {name: count for name, count in ranks.items() if count},
            "bonuses": sorted(by_run.values()),
            "recruits": sum(recruits.values()),
            "recruits_by_month": [
                recruits.get(fields.Date.add(first_month, months=i), 0)
                for i in range(12)
            ],
        }

    def _check(self, data, leader):
        expected = self._expected(leader)
        self.assertEqual(data["volumes"]["labels"], expected["periods"])
        self.assertEqual(data["volumes"]["pv"], expected["pv"])
        self.assertEqual(data["volumes"]["gv"], expected["gv"])
        self.assertEqual(len(data["growth"]["labels"]), 12)
        self.assertEqual(data["growth"]["recruits"], expected["recruits_by_month"])
        self.assertEqual(data["growth"]["size"][-1], expected["downline"])
        self.assertEqual(
            data["growth"]["size"][-1] - data["growth"]["size"][0],
            expected["recruits"] - expected["recruits_by_month"][0],
        )
        self.assertEqual(data["ranks"]["period"], expected["rank_period"])
        self.assertEqual(
            dict(zip(data["ranks"]["labels"], data["ranks"]["counts"], strict=True)),
            expected["ranks"],
        )
        self.assertEqual(sorted(data["bonuses"]["amounts"]), expected["bonuses"])
        self.assertEqual(data["summary"]["downline"], expected["downline"])
        self.assertEqual(data["summary"]["recruits"], expected["recruits"])
        return expected

    def test_dashboard_page_and_data(self):
        self.login(self.user_lana)
        page = self.url_open("/my/dashboard")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.text.count('class="o_ds_chart"'), 4)
        self.assertIn("Leader Dashboard", page.text)
        self.assertIn('href="/my/dashboard"', page.text)  # the leader navigation
        self.assertNoForeignName(page.text)
        response = self.url_open("/my/dashboard/data")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        expected = self._check(data, self.lana)
        # the figures of the common network, spelled out
        self.assertEqual(expected["downline"], 4)
        self.assertEqual(data["volumes"]["pv"], [150.0, 120.0])
        self.assertEqual(data["volumes"]["gv"], [150.0, 700.0])
        self.assertEqual(expected["ranks"], {"DSP Bronze": 2, "No rank": 2})
        # 20 + 3 + 12.5 of the posted run; the draft run's 999 never counts
        self.assertEqual(data["bonuses"]["amounts"], [35.5])
        self.assertEqual(data["summary"]["bonus_total"], 35.5)
        self.assertEqual(data["summary"]["gv"], 700.0)
        # Fay and Dee joined in the last 30 days, Dan and Finn 400 days ago
        self.assertEqual(data["summary"]["recruits"], 2)
        self.assertIn('class="fs-4 o_ds_dash_downline">4<', page.text)
        self.assertIn('class="fs-4 o_ds_dash_gv">700.00<', page.text)
        self.assertIn("35.50", page.text)

    def test_dashboard_is_the_callers_own(self):
        """No parameter selects another distributor; each leader gets their own
        subtree; consumers and visitors get nothing."""
        self.login(self.user_lana)
        own = self.url_open("/my/dashboard/data").json()
        for foreign in self.foreign | self.fay:
            for param in ("distributor_id", "leader_id", "id"):
                response = self.url_open(f"/my/dashboard/data?{param}={foreign.id}")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.json(), own)
            page = self.url_open(f"/my/dashboard?distributor_id={foreign.id}")
            self.assertNoForeignName(page.text)
            self.assertNotIn("40.00", page.text)  # Sam's bonus
        # another leader: Sam's branch (Bob, no rank) and Sam's bonus only
        self.login(self.user_sam)
        data = self.url_open(f"/my/dashboard/data?distributor_id={self.lana.id}").json()
        self._check(data, self.sam)
        self.assertEqual(data["summary"]["downline"], 1)
        self.assertEqual(data["bonuses"]["amounts"], [40.0])
        self.assertEqual(
            dict(zip(data["ranks"]["labels"], data["ranks"]["counts"], strict=True)),
            {"No rank": 1},
        )
        # a member of Lana's downline sees her own subtree (Dan, Dee), not Lana's
        self.login(self.user_fay)
        data = self.url_open("/my/dashboard/data").json()
        self._check(data, self.fay)
        self.assertEqual(data["summary"]["downline"], 2)
        self.assertEqual(data["bonuses"]["amounts"], [])
        # a consumer is no distributor: refused
        self.login(self.user_consumer)
        self.assertEqual(self.url_open("/my/dashboard").status_code, 403)
        self.assertEqual(self.url_open("/my/dashboard/data").status_code, 403)
        # a visitor is sent to the login page
        self.authenticate(None, None)
        for url in ("/my/dashboard", "/my/dashboard/data"):
            response = self.url_open(url, allow_redirects=False)
            self.assertIn(response.status_code, (302, 303))
            self.assertIn("/web/login", response.headers["Location"])

    def test_dashboard_queries_do_not_grow_with_the_downline(self):
        self.lana._ds_dashboard_data()
        with self.assertQueryCount(__system__=12) as _counter:
            self.lana._ds_dashboard_data()
        # ten more members in the subtree: the same number of queries
        self.env["ds.distributor"].create(
            [{"name": f"DSP extra {i}", "sponsor_id": self.finn.id} for i in range(10)]
        )
        with self.assertQueryCount(__system__=12):
            data = self.lana._ds_dashboard_data()
        self.assertEqual(data["summary"]["downline"], 14)
