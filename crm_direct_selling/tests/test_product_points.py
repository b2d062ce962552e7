"""PV/BV are never absurd (issue 12): a product's PV/BV are at least 0 and below 1e9;
the PV/BV of order and invoice lines are computed from the product, never written by
hand. Written over JSON-RPC as a direct-selling manager who also bills and sells."""

import json
from datetime import date

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import DsNetworkCommon


@tagged("post_install", "-at_install")
class TestProductPoints(DsNetworkCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="ds_io_manager",
            password="ds_io_manager",
            groups="crm_direct_selling.group_ds_manager,"
            "account.group_account_invoice,sales_team.group_sale_manager,"
            "product.group_product_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _write(self, model, ids, vals):
        """``write`` over JSON-RPC as the manager; return the error, None if written."""
        self.authenticate(self.manager.login, self.manager.login)
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/write",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "params": {
                        "model": model,
                        "method": "write",
                        "args": [ids, vals],
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json().get("error")

    def assertRefused(self, error, exception, *texts):
        self.assertTrue(error, "the value was written")
        self.assertEqual(error["data"]["name"], exception, error["data"]["debug"])
        for text in texts:
            self.assertIn(text, error["data"]["message"])

    def test_product_points_bounds(self):
        template = self.product_pv100.product_tmpl_id
        for fname, value in (
            ("ds_pv", -100.0),
            ("ds_pv", 1e18),
            ("ds_bv", -0.01),
            ("ds_bv", 1e9),
        ):
            self.assertRefused(
                self._write("product.template", template.ids, {fname: value}),
                "odoo.exceptions.ValidationError",
                "Kit PV100",
                "PV" if fname == "ds_pv" else "BV",
            )
        # the variant writes through to its template: the same rule
        self.assertRefused(
            self._write("product.product", self.product_pv100.ids, {"ds_pv": -1.0}),
            "odoo.exceptions.ValidationError",
            "Kit PV100",
        )
        template.invalidate_recordset()
        self.assertEqual((template.ds_pv, template.ds_bv), (100.0, 80.0))
        self.assertIsNone(
            self._write(
                "product.template", template.ids, {"ds_pv": 0.0, "ds_bv": 999999999.99}
            )
        )
        template.invalidate_recordset()
        self.assertEqual((template.ds_pv, template.ds_bv), (0.0, 999999999.99))

    def test_invoice_line_points_not_writable(self):
        buyer = self._ds_create_distributor("Line Buyer")
        self._ds_create_period(date(2026, 5, 1), date(2026, 5, 31))
        invoice = self._ds_invoice(
            buyer.partner_id, date(2026, 5, 3), [(self.product_pv10, 2)], post=False
        )
        line = invoice.invoice_line_ids
        self.assertEqual(line.ds_pv, 20.0)
        self.assertRefused(
            self._write("account.move.line", line.ids, {"ds_pv": 1e18}),
            "odoo.exceptions.UserError",
            "PV",
            "computed from the product",
        )
        self.assertRefused(
            self._write("account.move.line", line.ids, {"ds_bv": -5.0}),
            "odoo.exceptions.UserError",
            "BV",
        )
        line.invalidate_recordset()
        self.assertEqual((line.ds_pv, line.ds_bv), (20.0, 10.0))
        # what the computation gives is accepted (it writes so itself when called
        # outside a recomputation)
        self.assertIsNone(
            self._write("account.move.line", line.ids, {"ds_pv": 20.0, "ds_bv": 10.0})
        )
        # the line itself stays editable: its points follow the quantity
        self.assertIsNone(self._write("account.move.line", line.ids, {"quantity": 3}))
        line.invalidate_recordset()
        self.assertEqual((line.ds_pv, line.ds_bv), (30.0, 15.0))

    def test_sale_order_line_points_not_writable(self):
        buyer = self._ds_create_distributor("Order Buyer")
        order = self.env["sale.order"].create(
            {
                "partner_id": buyer.partner_id.id,
                "user_id": self.manager.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product_pv10.id, "product_uom_qty": 2}
                    )
                ],
            }
        )
        line = order.order_line
        self.assertEqual(line.ds_pv, 20.0)
        self.assertRefused(
            self._write("sale.order.line", line.ids, {"ds_pv": 1e18, "ds_bv": 1e18}),
            "odoo.exceptions.UserError",
            "PV / BV",
        )
        line.invalidate_recordset()
        self.assertEqual((line.ds_pv, line.ds_bv), (20.0, 10.0))
