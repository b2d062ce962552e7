"""An export button pressed in Chromium (issue 13): the list header button of a decision
report, with a row selected, produces the XLSX of the whole report."""

import base64
import io
from datetime import date, timedelta

from openpyxl import load_workbook

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import DsAnalyticsCommon


@tagged("post_install", "-at_install")
class TestReportExportTour(DsAnalyticsCommon, HttpCase):
    def test_most_valuable_customers_export_in_browser(self):
        user = new_test_user(
            self.env,
            login="ds_tour_analyst",
            password="ds_tour_analyst",
            groups="crm_direct_selling.group_ds_user,base.group_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        today = date.today()
        big = self._customer("Tour Big Spender")
        small = self._customer("Tour Small Spender")
        for partner, amount in ((big, 900.0), (small, 40.0)):
            self._invoice(partner, today - timedelta(days=20), amount)
        Attachment = self.env["ir.attachment"]
        before = Attachment.search([("res_model", "=", "ds.report.pareto")])
        self.start_tour(
            "/odoo/action-crm_direct_selling_analytics.ds_report_pareto_action",
            "ds_report_export_tour",
            login=user.login,
        )
        produced = Attachment.search([("res_model", "=", "ds.report.pareto")]) - before
        self.assertEqual(len(produced), 1, "the button produced one file")
        self.assertTrue(produced.name.endswith(".xlsx"))
        self.assertEqual(produced.create_uid, user)
        sheet = load_workbook(io.BytesIO(base64.b64decode(produced.datas))).worksheets[
            0
        ]
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        header = next(i for i, row in enumerate(rows) if row[0] == "Rank")
        body = rows[header + 1 :]
        names = [next(v for v in row if isinstance(v, str)) for row in body if row[0]]
        self.assertEqual(
            names[:2],
            ["Tour Big Spender", "Tour Small Spender"],
            "the whole report in rank order, not just the selected row",
        )
        self.assertEqual([row[0] for row in body if row[0]][:2], [1, 2])
