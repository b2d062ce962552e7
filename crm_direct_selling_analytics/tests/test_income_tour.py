from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import DsAnalyticsCommon


@tagged("post_install", "-at_install")
class TestIncomeDisclosureTour(DsAnalyticsCommon, HttpCase):
    """The income disclosure list in headless Chromium: grouped by statement, the year
    statement then the period statements (the "By Period" filter's context)."""

    def test_income_disclosure_list(self):
        self.env.ref("base.user_admin").write(
            {
                "company_ids": [Command.link(self.company.id)],
                "company_id": self.company.id,
                "groups_id": [
                    Command.link(self.env.ref("crm_direct_selling.group_ds_manager").id)
                ],
            }
        )
        self.rank_2.name = "Tour Manager"
        Period = self.env["ds.period"]
        jan = Period.create(
            {"name": "2026-01", "date_from": "2026-01-01", "date_to": "2026-01-31"}
        )
        feb = Period.create(
            {"name": "2026-02", "date_from": "2026-02-01", "date_to": "2026-02-28"}
        )
        d = [self._distributor(f"TourInc{i}") for i in range(3)]
        self.env["ds.volume"].create(
            [
                {
                    "distributor_id": dist.id,
                    "period_id": period.id,
                    "paid_rank_id": rank.id,
                    "company_id": self.company.id,
                }
                for period, dist, rank in (
                    (jan, d[0], self.rank_1),
                    (jan, d[1], self.rank_2),
                    (feb, d[1], self.rank_2),
                )
            ]
        )
        plan = self.env["ds.plan"].create({"name": "Plan"})
        runs = self.env["ds.bonus.run"].create(
            [
                {"period_id": p.id, "plan_id": plan.id, "state": "posted"}
                for p in (jan, feb)
            ]
        )
        self.env["ds.bonus.line"].create(
            [
                {
                    "run_id": run.id,
                    "distributor_id": dist.id,
                    "bonus_type": "unilevel",
                    "amount": amount,
                    "company_id": self.company.id,
                }
                for run, dist, amount in (
                    (runs[0], d[0], 40.0),
                    (runs[0], d[1], 400.0),
                    (runs[1], d[1], 100.0),
                )
            ]
        )
        self.start_tour(
            "/odoo/action-crm_direct_selling_analytics.ds_report_income_action",
            "ds_income_disclosure_tour",
            login="admin",
        )
