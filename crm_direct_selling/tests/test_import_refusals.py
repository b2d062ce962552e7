"""The import wizard refuses what it cannot read, by row and column, and imports nothing
(issue 12). Files go through the wizard as the user sends them: created over JSON-RPC by
a back-office user, imported with the wizard's button."""

import base64
import io
import json
from datetime import date, timedelta

import openpyxl

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_direct_selling.tools.spreadsheet import append_row

from .common import DsNetworkCommon

EVIL = '=HYPERLINK("http://x","y")'


@tagged("post_install", "-at_install")
class TestImportRefusals(DsNetworkCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leader = cls._ds_create_distributor("Leader", code="LEAD1")
        cls.user = new_test_user(
            cls.env,
            login="ds_io_importer",
            password="ds_io_importer",
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
        return response.json()

    def _import(self, data, file_name):
        """Send the file and press Import; return the JSON-RPC error (None if it
        imported). The number of partners must not change on an error."""
        self.authenticate(self.user.login, self.user.login)
        partners = self.env["res.partner"].search_count([])
        distributors = self.Distributor.search_count([])
        body = self._json(
            "/web/dataset/call_kw/ds.distributor.import/create",
            {
                "model": "ds.distributor.import",
                "method": "create",
                "args": [
                    {
                        "file_data": base64.b64encode(data).decode(),
                        "file_name": file_name,
                    }
                ],
                "kwargs": {},
            },
        )
        self.assertNotIn("error", body, body.get("error"))
        body = self._json(
            "/web/dataset/call_button",
            {
                "model": "ds.distributor.import",
                "method": "action_import",
                "args": [[body["result"]]],
                "kwargs": {},
            },
        )
        error = body.get("error")
        if error:
            self.env.invalidate_all()
            self.assertEqual(self.env["res.partner"].search_count([]), partners)
            self.assertEqual(self.Distributor.search_count([]), distributors)
        return error

    def assertRefused(self, error, expected):
        """A UserError (not a crash) whose lines name each row with its reason."""
        self.assertTrue(error, "the file was imported")
        self.assertEqual(
            error["data"]["name"], "odoo.exceptions.UserError", error["data"]["debug"]
        )
        message = error["data"]["message"]
        self.assertIn("Nothing was imported", message)
        for row, reason in expected:
            line = next(
                (ln for ln in message.splitlines() if ln.startswith(f"Row {row}:")), ""
            )
            self.assertIn(reason, line, message[:2000])
        return message

    @staticmethod
    def _xlsx(rows, append=None):
        """An XLSX file as a spreadsheet program saves it: text starting with '='
        is a formula cell, unless ``append`` (the export's helper) writes the rows."""
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet()
        for row in rows:
            if append:
                append(ws, row)
            else:
                ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    # ------------------------------------------------------------------ tests
    def test_huge_cell_refused_by_row_and_column(self):
        """A 20 MB single-field line: refused by row and column, not an unhandled
        csv 'field larger than field limit' error."""
        data = b"name,code\nOk Row,OK1\n" + b"A" * (20 * 1024 * 1024) + b",BIG1\n"
        message = self.assertRefused(
            self._import(data, "huge.csv"),
            [(3, "column 'name' is 20971520 characters long (at most 1000)")],
        )
        self.assertLess(len(message), 2000, "the huge value is not echoed back")

    def test_nul_byte_refused(self):
        data = b"name,code,city\nNul\x00Name,NUL1,Paris\nGood,NUL2,Ly\x00on\n"
        self.assertRefused(
            self._import(data, "nul.csv"),
            [
                (2, "column 'name' contains a control character"),
                (3, "column 'city' contains a control character"),
            ],
        )

    def test_formula_cell_refused(self):
        """A formula in the email column used to import an empty email silently."""
        data = self._xlsx(
            [
                ["name", "code", "email"],
                ["Fred Formula", "F1", '=CONCAT("fred","@example.com")'],
                ["Olga", "F2", "olga@example.com"],
            ]
        )
        self.assertRefused(
            self._import(data, "formula.xlsx"),
            [(2, "column 'email' holds a formula (=CONCAT(")],
        )

    def test_text_starting_with_equals_is_a_value(self):
        """What the export writes (a name starting with '=', as a text cell) imports
        back as that text: only real formula cells are refused."""
        data = self._xlsx(
            [["name", "code", "sponsor_code"], [EVIL, "EQ1", "LEAD1"]], append_row
        )
        self.assertIsNone(self._import(data, "text.xlsx"))
        imported = self.Distributor.search([("code", "=", "EQ1")])
        self.assertEqual(imported.name, EVIL)
        self.assertEqual(imported.sponsor_id, self.leader)

    def test_dates_strictly_parsed_and_plausible(self):
        future = date.today() + timedelta(days=1)
        data = (
            "name,code,enrollment_date,birthday\n"
            "Garbage,D1,2024-03-12garbage,\n"  # row 2
            "Basic Iso,D2,20240312,\n"  # row 3: not the documented format
            "Far Future,D3,2999-01-01,\n"  # row 4
            f"Tomorrow,D4,{future.isoformat()},\n"  # row 5
            "Old,D5,1899-12-31,\n"  # row 6
            "Old Birthday,D6,2024-03-12,1850-01-01\n"  # row 7
            "Bad Birthday,D7,,1990-02-30\n"  # row 8
            "Good,D8,2024-03-12,1990-02-28\n"  # row 9: fine
        )
        message = self.assertRefused(
            self._import(data.encode(), "dates.csv"),
            [
                (2, "bad enrollment date '2024-03-12garbage'"),
                (3, "bad enrollment date '20240312'"),
                (4, "enrollment date 2999-01-01 is in the future"),
                (5, f"enrollment date {future} is in the future"),
                (6, "enrollment date 1899-12-31 is before 1900"),
                (7, "birthday 1850-01-01 is before 1900"),
                (8, "bad birthday '1990-02-30'"),
            ],
        )
        self.assertIn("7 bad row(s)", message)
        self.assertNotIn("Row 9:", message)

    def test_xlsx_date_cell_in_the_future(self):
        data = self._xlsx(
            [
                ["name", "code", "enrollment_date"],
                ["Xlsx Future", "XF1", date(2999, 1, 1)],
                ["Xlsx Fine", "XF2", date(2024, 3, 12)],
            ]
        )
        self.assertRefused(
            self._import(data, "future.xlsx"),
            [(2, "enrollment date 2999-01-01 is in the future")],
        )

    def test_valid_file_still_imports(self):
        data = (
            "name,code,sponsor_code,email,enrollment_date,birthday\n"
            "Valid One,V1,LEAD1,v1@example.com,2024-03-12,1990-01-31\n"
            "Valid Two,V2,V1,,2024-03-13,\n"
        )
        self.assertIsNone(self._import(data.encode(), "valid.csv"))
        v2 = self.Distributor.search([("code", "=", "V2")])
        self.assertEqual(v2.sponsor_id.code, "V1")
        self.assertEqual(v2.enrollment_date, date(2024, 3, 13))
