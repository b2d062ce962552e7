import io
import re

import openpyxl

from odoo.tests import tagged

from .common import DsPortalCommon

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@tagged("post_install", "-at_install")
class TestDsPortalStatement(DsPortalCommon):
    """/my/bonuses offers, for each of the leader's own posted statements, the summary PDF
    and every line as XLSX; other distributors' runs and lines are not found."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_bonus_data()
        # a posted run that pays Sam only (another plan, same period)
        plan = cls.env["ds.plan"].create({"name": "DSP Plan B"})
        cls.sam_run = cls.env["ds.bonus.run"].create(
            {"period_id": cls.period_prev.id, "plan_id": plan.id}
        )
        cls.env["ds.bonus.line"].create(
            {
                "run_id": cls.sam_run.id,
                "company_id": cls.company.id,
                "distributor_id": cls.sam.id,
                "bonus_type": "unilevel",
                "level": 1,
                "source_distributor_id": cls.bob.id,
                "base": 100.0,
                "rate": 10.0,
                "amount": 10.0,
            }
        )
        cls.sam_run.sudo().write({"state": "posted"})

    def _xlsx_rows(self, response):
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], XLSX)
        wb = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        self.assertEqual(wb.sheetnames, ["Statement", "Lines"])
        rows = list(wb["Lines"].iter_rows(values_only=True))
        statement = list(wb["Statement"].iter_rows(values_only=True))
        return rows[0], rows[1:], statement

    def test_own_lines_as_xlsx(self):
        self.login(self.user_lana)
        page = self.url_open("/my/bonuses").text
        links = re.findall(r'href="(/my/bonuses/(\d+)/lines\.xlsx)"', page)
        self.assertEqual(links, [(f"/my/bonuses/{self.bonus_run.id}/lines.xlsx",
                                  str(self.bonus_run.id))])  # fmt: skip
        self.assertIn("o_ds_statement_link", page)  # the summary PDF next to it
        header, rows, statement = self._xlsx_rows(self.url_open(links[0][0]))
        self.assertEqual(header[:3], ("Bonus type", "Source code", "Source"))
        self.assertEqual(len(rows), 3)  # Lana's three lines, not Sam's
        self.assertEqual(sorted(r[6] for r in rows), [3.0, 12.5, 20.0])
        self.assertEqual({r[2] for r in rows}, {self.fay.name, self.dan.name})
        self.assertEqual({r[8] for r in rows}, {self.bill.name})
        flat = [str(v) for row in statement for v in row if v is not None]
        self.assertIn(self.lana.code, flat)
        self.assertNotIn(self.sam.name, flat)
        # a distributor parameter changes nothing: always the caller's own lines
        _h, rows, _s = self._xlsx_rows(
            self.url_open(links[0][0] + f"?distributor_id={self.sam.id}")
        )
        self.assertEqual(len(rows), 3)
        self.assertNotIn(self.bob.name, {r[2] for r in rows})

    def test_foreign_ids_not_found(self):
        self.login(self.user_lana)
        for run in (self.sam_run, self.draft_run):  # not hers / not posted
            response = self.url_open(f"/my/bonuses/{run.id}/lines.xlsx")
            self.assertEqual(response.status_code, 404, run.name)
            self.assertNotIn("spreadsheetml", response.headers.get("Content-Type", ""))
        self.assertEqual(
            self.url_open("/my/bonuses/999999/lines.xlsx").status_code, 404
        )
        # Sam reads his own run, never Lana's lines in the run they share
        self.login(self.user_sam)
        _h, rows, _s = self._xlsx_rows(
            self.url_open(f"/my/bonuses/{self.bonus_run.id}/lines.xlsx")
        )
        self.assertEqual([r[6] for r in rows], [40.0])
        # Fay has no line in the run
        self.login(self.user_fay)
        self.assertEqual(
            self.url_open(f"/my/bonuses/{self.bonus_run.id}/lines.xlsx").status_code,
            404,
        )
        # without a session: the login page, no file
        self.logout()
        response = self.url_open(f"/my/bonuses/{self.bonus_run.id}/lines.xlsx")
        self.assertNotEqual(response.headers.get("Content-Type"), XLSX)
        self.assertIn("/web/login", response.url)

    def test_statement_tour(self):
        """The leader clicks both download links of /my/bonuses in Chromium; the tour
        fetches what the clicks point to and checks it is an XLSX and a statement."""
        self.start_tour("/my/bonuses", "ds_portal_statement_tour",
                        login=self.user_lana.login)  # fmt: skip
