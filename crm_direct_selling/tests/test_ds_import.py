import base64
import io

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DsNetworkCommon


@tagged("post_install", "-at_install")
class TestDsImport(DsNetworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leader = cls._ds_create_distributor("Leader", code="LEAD1")
        cls.Import = cls.env["ds.distributor.import"]

    def _csv(self, text, name="network.csv"):
        return self.Import.create(
            {"file_data": base64.b64encode(text.encode()), "file_name": name}
        )

    def _xlsx(self, rows, name="network.xlsx"):
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        for row in rows:
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return self.Import.create(
            {"file_data": base64.b64encode(buf.getvalue()), "file_name": name}
        )

    def test_import_csv_sponsor_later_in_file(self):
        wiz = self._csv(
            "type,code,name,sponsor_code,referrer_code,email,enrollment_date,birthday,country_code\n"
            "distributor,N3,Nina Three,N2,,nina@example.com,2025-03-01,1990-05-06,US\n"
            "distributor,N2,Ned Two,N1,,,2025-02-01,,\n"
            "distributor,N1,Nora One,LEAD1,,,2025-01-01,,\n"
            "customer,,Carl Customer,,N3,carl@example.com,,1980-01-02,\n"
        )
        wiz.action_import()
        n1, n2, n3 = (
            self.Distributor.search([("code", "=", c)]) for c in ("N1", "N2", "N3")
        )
        self.assertTrue(n1 and n2 and n3)
        self.assertEqual(n3.sponsor_id, n2)
        self.assertEqual(n2.sponsor_id, n1)
        self.assertEqual(n1.sponsor_id, self.leader)
        self.assertEqual(n3.depth, 3)
        self.assertEqual(n3.parent_path, f"{self.leader.id}/{n1.id}/{n2.id}/{n3.id}/")
        self.assertEqual(n3.email, "nina@example.com")
        self.assertEqual(str(n3.ds_birthday), "1990-05-06")
        self.assertEqual(n3.country_id.code, "US")
        self.assertEqual(n3.partner_id.ds_distributor_id, n3)
        self.assertEqual(self.leader.get_downline(), n1 | n2 | n3)
        carl = self.env["res.partner"].search([("name", "=", "Carl Customer")])
        self.assertEqual(carl.ds_referrer_id, n3)
        self.assertIn("3 distributor", wiz.result)
        # invoices of imported partners are credited normally
        from datetime import date

        self._ds_create_period(date(2026, 5, 1), date(2026, 5, 31))
        inv = self._ds_invoice(carl, date(2026, 5, 3), [(self.product_pv10, 1)])
        self.assertEqual(inv.ds_distributor_id, n3)

    def test_import_xlsx(self):
        from datetime import date

        wiz = self._xlsx(
            [
                ["name", "code", "sponsor_code", "enrollment_date"],
                ["Xavier", "X1", "LEAD1", date(2025, 4, 1)],
                ["Yasmin", "X2", "X1", "2025-04-02"],
            ]
        )
        wiz.action_import()
        x2 = self.Distributor.search([("code", "=", "X2")])
        self.assertEqual(x2.sponsor_id.code, "X1")
        self.assertEqual(str(x2.enrollment_date), "2025-04-02")

    def test_import_every_bad_row_nothing_imported(self):
        before = self.Distributor.search_count([])
        partners_before = self.env["res.partner"].search_count([])
        wiz = self._csv(
            "type,code,name,sponsor_code,referrer_code,email,enrollment_date,birthday\n"
            "distributor,OK1,Good Row,LEAD1,,,2025-01-01,\n"  # row 2: fine
            "distributor,B1,Bad Sponsor,NOPE,,,,\n"  # row 3: unknown sponsor
            "distributor,LEAD1,Dup Existing,,,,,\n"  # row 4: duplicate (existing)
            "distributor,D2,Dup A,,,,,\n"  # row 5: duplicate in file
            "distributor,D2,Dup B,,,,,\n"  # row 6: duplicate in file
            "distributor,L1,Loop One,L2,,,,\n"  # row 7: loop
            "distributor,L2,Loop Two,L1,,,,\n"  # row 8: loop
            "distributor,E1,Bad Email,,,not-an-email,,\n"  # row 9: bad email
            "distributor,T1,Bad Date,,,,2025-13-45,\n"  # row 10: bad date
            "distributor,M1,,,,,,\n"  # row 11: missing name
            "customer,,Cust Bad Ref,,ZZZ,,,\n"  # row 12: unknown referrer
            "distributor,S1,Self Loop,S1,,,,\n"  # row 13: sponsors themself
        )
        with self.assertRaises(UserError) as cm:
            wiz.action_import()
        msg = str(cm.exception)
        expectations = {
            3: "unknown sponsor",
            4: "duplicate code",
            5: "duplicate code",
            6: "duplicate code",
            7: "sponsor loop",
            8: "sponsor loop",
            9: "bad email",
            10: "bad enrollment date",
            11: "missing name",
            12: "unknown referrer",
            13: "sponsor loop",
        }
        for row, reason in expectations.items():
            line = next(
                (ln for ln in msg.splitlines() if ln.startswith(f"Row {row}:")), ""
            )
            self.assertIn(reason, line, f"row {row}")
        self.assertNotIn("Row 2:", msg)
        self.assertIn("11 bad row", msg)
        self.assertEqual(self.Distributor.search_count([]), before, "nothing imported")
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)

    def test_bad_header(self):
        with self.assertRaisesRegex(UserError, "Unknown column"):
            self._csv("name,colour\nA,red\n").action_import()

    def test_export_roundtrip(self):
        child = self._ds_create_distributor("Child", self.leader, code="CH1")
        wiz = self.env["ds.distributor.export"].create(
            {"distributor_ids": [(6, 0, (self.leader | child).ids)]}
        )
        action = wiz.action_export()
        self.assertEqual(action["type"], "ir.actions.act_url")
        import openpyxl

        wb = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(wiz.file_data)), read_only=True
        )
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        self.assertEqual(rows[0][:4], ("type", "code", "name", "sponsor_code"))
        self.assertEqual(rows[1][1:4], ("LEAD1", "Leader", None))
        self.assertEqual(rows[2][1:4], ("CH1", "Child", "LEAD1"))
