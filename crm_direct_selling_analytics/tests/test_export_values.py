"""Decision-report exports write values, never formulas (issue 12): each report's
"Export XLSX" list button pressed over HTTP as a back-office user, as the web client
presses it, the file downloaded and re-opened with openpyxl."""

import io
import json
from datetime import date, timedelta

from openpyxl import load_workbook

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import DsAnalyticsCommon

EVIL = '=HYPERLINK("http://x","y")'


@tagged("post_install", "-at_install")
class TestReportExportValues(DsAnalyticsCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="ds_io_analyst",
            password="ds_io_analyst",
            groups="crm_direct_selling.group_ds_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        today = date.today()
        cls.evil = cls._customer(EVIL)
        cls.plus = cls._customer("+1 555 0100")
        for partner, amounts in ((cls.evil, (100.0, 50.0)), (cls.plus, (30.0, 20.0))):
            for days, amount in zip((70, 40), amounts, strict=True):
                cls._invoice(partner, today - timedelta(days=days), amount)

    def _export(self, model, context=None):
        """Press the list header button (no row selected) and download the file."""
        self.authenticate(self.user.login, self.user.login)
        response = self.url_open(
            "/web/dataset/call_button",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "params": {
                        "model": model,
                        "method": "action_export_xlsx",
                        "args": [[]],
                        "kwargs": {"context": context} if context else {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        body = response.json()
        self.assertNotIn("error", body, body.get("error"))
        action = body["result"]
        self.assertEqual(action["type"], "ir.actions.act_url")
        download = self.url_open(action["url"])
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download.content[:2], b"PK")
        return list(
            load_workbook(io.BytesIO(download.content)).worksheets[0].iter_rows()
        )

    def _row_of(self, rows, text):
        """The row whose first cell holds ``text``."""
        found = [r for r in rows if r[0].value == text]
        self.assertEqual(len(found), 1, text)
        return found[0]

    def assertTextCell(self, cell, text):
        self.assertEqual((cell.value, cell.data_type), (text, "s"), cell.coordinate)

    def assertNumberCell(self, cell, value):
        self.assertEqual(cell.data_type, "n", cell.coordinate)
        self.assertAlmostEqual(cell.value, value)

    def test_pareto_export(self):
        rows = self._export("ds.report.pareto")
        header_idx = next(i for i, r in enumerate(rows) if r[0].value == "Rank")
        header = [c.value for c in rows[header_idx]]
        table = {r[1].value: r for r in rows[header_idx + 1 :]}
        self.assertTextCell(table[EVIL][1], EVIL)
        self.assertTextCell(table["+1 555 0100"][1], "+1 555 0100")
        self.assertNumberCell(table[EVIL][header.index("Revenue")], 150.0)
        self.assertNumberCell(table[EVIL][0], 1)

    def test_churn_export(self):
        rows = self._export("ds.report.churn")
        self.assertTextCell(self._row_of(rows, EVIL)[0], EVIL)
        self.assertTextCell(self._row_of(rows, "+1 555 0100")[0], "+1 555 0100")
        self.assertNumberCell(self._row_of(rows, EVIL)[3], 40)

    def test_rfm_export(self):
        self.env["ds.partner.rfm"]._refresh_company(self.company)
        rows = self._export("ds.partner.rfm")
        row = self._row_of(rows, EVIL)
        self.assertTextCell(row[0], EVIL)
        self.assertNumberCell(row[10], 150.0)

    def test_campaign_response_export(self):
        customers = self.env["res.partner"]
        for i in range(10):
            customers |= self._customer(f"IoResp{i}")
        segment = self._segment_of(customers, "@segment")
        campaign = self.env["ds.campaign"].create(
            {
                "name": EVIL,
                "segment_id": segment.id,
                "seed": "io",
                "control_pct": 50.0,
                "date_start": "2026-03-01",
                "date_end": "2026-03-31",
                "min_group_size": 2,
            }
        )
        campaign.action_assign()
        campaign.action_launch()
        target = campaign.member_ids.filtered(lambda m: m.group == "target")
        self._invoice(target[0].partner_id, date(2026, 3, 5), 100.0)
        campaign.action_measure()
        rows = self._export("ds.report.campaign.response")
        xl = [r for r in rows[1:] if r[0].value == EVIL]
        self.assertEqual(len(xl), 2, "target and control")
        for row in xl:
            self.assertTextCell(row[0], EVIL)
            self.assertTextCell(row[1], "@segment")
        target_row = next(r for r in xl if r[2].value == "Target")
        self.assertNumberCell(target_row[3], len(target))
        self.assertNumberCell(target_row[6], 100.0)

    def test_income_disclosure_export(self):
        """Issue 13: the statement over HTTP, as the list shows it: the year as text, the
        total once, the all-ranks mean and median, per rank the same figures."""
        Period = self.env["ds.period"]
        jan, feb = (
            Period.create({"name": name, "date_from": start, "date_to": end})
            for name, start, end in (
                ("2023-01", "2023-01-01", "2023-01-31"),
                ("2023-02", "2023-02-01", "2023-02-28"),
            )
        )
        plan = self.env["ds.plan"].create({"name": "Plan"})
        runs = self.env["ds.bonus.run"].create(
            [
                {"period_id": p.id, "plan_id": plan.id, "state": "posted"}
                for p in (jan, feb)
            ]
        )
        d = [self._distributor(f"IoInc{i}") for i in range(4)]
        ranks = (self.rank_1, self.rank_1, self.rank_2, self.rank_2)
        self.env["ds.volume"].create(
            [
                {
                    "distributor_id": dist.id,
                    "period_id": period.id,
                    "paid_rank_id": rank.id,
                    "company_id": self.company.id,
                }
                for period in (jan, feb)
                for dist, rank in zip(d, ranks, strict=True)
            ]
        )
        # (run, distributor, amount): yearly 0.00, 25.50, 100.00 + 60.25, 300.00
        lines = [
            (runs[0], d[1], 25.5),
            (runs[0], d[2], 100.0),
            (runs[1], d[2], 60.25),
            (runs[1], d[3], 300.0),
        ]
        self.env["ds.bonus.line"].create(
            [
                {
                    "run_id": run.id,
                    "distributor_id": dist.id,
                    "bonus_type": "unilevel",
                    "amount": amount,
                    "company_id": self.company.id,
                }
                for run, dist, amount in lines
            ]
        )
        rows = self._export("ds.report.income")
        self.assertTextCell(rows[0][0], "Income Disclosure Statement")
        header = [c.value for c in rows[1]]
        summary = next(r for r in rows[2:] if r[0].value == "2023")
        # a year is text (no "2,023"); the total counted once
        self.assertTextCell(summary[0], "2023")
        cell = dict(zip(header, summary, strict=False))
        self.assertNumberCell(cell["Periods"], 2)
        self.assertNumberCell(cell["Distributors"], 4)
        self.assertNumberCell(cell["Earned Anything"], 3)
        self.assertNumberCell(cell["Earned Anything (%)"], 75.0)
        self.assertNumberCell(cell["Total Earnings"], 485.75)
        self.assertNumberCell(cell["Mean"], 121.44)  # 485.75 / 4, to the cent
        self.assertNumberCell(cell["Median"], 92.88)  # (25.50 + 160.25) / 2
        self.assertNumberCell(cell["Lowest"], 0.0)
        self.assertNumberCell(cell["Highest"], 300.0)
        table_at = next(
            i for i, r in enumerate(rows) if i > 1 and r[0].value == "Statement"
        )
        table_header = [c.value for c in rows[table_at]]
        by_rank = {
            r[table_header.index("Paid-as Rank")].value: r
            for r in rows[table_at + 1 :]
            if r[0].value == "2023"
        }
        self.assertEqual(set(by_rank), {"Consultant", "Manager"})
        self.assertEqual(
            sum(
                r[table_header.index("Total Earnings")].value for r in by_rank.values()
            ),
            485.75,
        )
        manager = by_rank["Manager"]
        self.assertTextCell(manager[0], "2023")
        self.assertNumberCell(manager[table_header.index("Distributors")], 2)
        self.assertNumberCell(manager[table_header.index("Median")], 230.13)
        # the same statement by period (the "By Period" filter's context): two statements
        rows = self._export("ds.report.income", {"ds_income_grain": "period"})
        self.assertEqual(rows[0][1].value, "by Period")
        statements = {r[0].value: r for r in rows[2:5] if r[0].value}
        self.assertEqual(
            set(statements) & {"2023-01", "2023-02"}, {"2023-01", "2023-02"}
        )
        self.assertNumberCell(statements["2023-01"][7], 125.5)
        self.assertNumberCell(statements["2023-02"][7], 360.25)
