"""Exports write values, never formulas (issue 12): downloaded over HTTP as a back-office
user, as the web client does, and re-opened with openpyxl."""

import io
import json
from datetime import date

from openpyxl import load_workbook

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_direct_selling.tools.spreadsheet import csv_row

from .bonus_common import BonusCommon

EVIL = '=HYPERLINK("http://x","y")'
# text a spreadsheet program could evaluate; each must come back as this exact text
TRICKY = (EVIL, "=1+2", "+1 555 0100", "-minus", "@SUM(A1)", "#N/A")


@tagged("post_install", "-at_install")
class TestExportValues(BonusCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="ds_io_backoffice",
            password="ds_io_backoffice",
            groups="crm_direct_selling.group_ds_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    # ------------------------------------------------------------------ helpers
    def _json(self, url, params):
        response = self.url_open(
            url,
            data=json.dumps({"jsonrpc": "2.0", "params": params}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertNotIn("error", body, body.get("error"))
        return body["result"]

    def _call_kw(self, model, method, args, kwargs=None):
        return self._json(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def _button(self, model, method, ids):
        return self._json(
            "/web/dataset/call_button",
            {"model": model, "method": method, "args": [ids], "kwargs": {}},
        )

    def _download(self, action):
        self.assertEqual(action["type"], "ir.actions.act_url")
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content[:2], b"PK")  # a zip: the XLSX itself
        return load_workbook(io.BytesIO(response.content))  # formulas kept as formulas

    def assertTextCell(self, cell, text):
        self.assertEqual((cell.value, cell.data_type), (text, "s"), cell.coordinate)

    # ------------------------------------------------------------------ tests
    def test_distributor_export_writes_text_cells(self):
        sponsor = self._distributor(EVIL)
        sponsor.write({"code": "=CODE()", "phone": "+1 555 0100", "city": "@City"})
        others = [self._distributor(name, sponsor) for name in TRICKY[1:]]
        plain = self._distributor("Plain Name", sponsor)
        ids = (sponsor | plain).ids + [d.id for d in others]
        self.authenticate(self.user.login, self.user.login)
        wizard_id = self._call_kw(
            "ds.distributor.export",
            "create",
            [{"distributor_ids": [Command.set(ids)]}],
        )
        wb = self._download(
            self._button("ds.distributor.export", "action_export", [wizard_id])
        )
        rows = list(wb.worksheets[0].iter_rows())
        header = [c.value for c in rows[0]]
        col = {name: i for i, name in enumerate(header)}
        by_name = {r[col["name"]].value: r for r in rows[1:]}
        self.assertEqual(set(by_name), set(TRICKY) | {"Plain Name"})
        for name in TRICKY:
            self.assertTextCell(by_name[name][col["name"]], name)
        row = by_name[EVIL]
        self.assertTextCell(row[col["code"]], "=CODE()")
        self.assertTextCell(row[col["phone"]], "+1 555 0100")
        self.assertTextCell(row[col["city"]], "@City")
        self.assertTextCell(by_name["=1+2"][col["sponsor_code"]], "=CODE()")
        self.assertTextCell(row[col["enrollment_date"]], "2025-06-01")

    def test_bonus_run_export_writes_text_cells_and_numbers(self):
        sponsor = self._distributor(EVIL)
        recruit = self._distributor("=1+2", sponsor)
        self._invoice(sponsor.partner_id, 100, date(2026, 1, 10))
        self._invoice(recruit.partner_id, 200, date(2026, 1, 10))
        self.jan.action_close()
        plan = self._levels_plan("@plan", [10.0])
        run = self._run(self.jan, plan)
        run.action_compute()
        self.assertEqual(run.state, "computed")
        self.authenticate(self.user.login, self.user.login)
        wb = self._download(self._button("ds.bonus.run", "action_export_xlsx", run.ids))
        summary = {r[0].value: r[1] for r in wb.worksheets[0].iter_rows()}
        self.assertTextCell(summary["Plan"], "@plan")
        self.assertEqual(summary["Total paid"].data_type, "n")
        self.assertAlmostEqual(summary["Total paid"].value, 20.0)
        lines = list(wb.worksheets[1].iter_rows())
        header = [c.value for c in lines[0]]
        self.assertEqual(len(lines), 2, "one unilevel line: 10 % of 200 BV")
        line = dict(zip(header, lines[1], strict=True))
        self.assertTextCell(line["Earner"], EVIL)
        self.assertTextCell(line["Source"], "=1+2")
        for numeric, value in (
            ("Level", 1),
            ("Base", 200.0),
            ("Rate (%)", 10.0),
            ("Amount", 20.0),
        ):
            self.assertEqual(line[numeric].data_type, "n", numeric)
            self.assertAlmostEqual(line[numeric].value, value)

    def test_csv_guard(self):
        """The CSV rule of the same helper: text that could be evaluated gets a leading
        apostrophe, other text and numbers are untouched."""
        self.assertEqual(
            csv_row([EVIL, "+1", "-x", "@y", "\tz", "\rw", "ok", -5, 1.5, None]),
            ["'" + EVIL, "'+1", "'-x", "'@y", "'\tz", "'\rw", "ok", -5, 1.5, None],
        )
