"""Autoship test data over the portal network (``DsPortalCommon``): products with PV, the demo
payment provider and saved tokens that approve or decline."""

from dateutil.relativedelta import relativedelta

from odoo import Command, fields

from .common import DsPortalCommon


class DsAutoshipCommon(DsPortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.today = fields.Date.context_today(env["ds.autoship"])
        cls.provider = env.ref("payment.payment_provider_demo").sudo()
        cls.provider.write({"state": "test", "is_published": True})
        cls.assertTrue(cls, cls.provider.journal_id, "the demo provider has no journal")
        cls.pm_demo = env.ref("payment_demo.payment_method_demo")
        Product = env["product.product"]
        cls.shake = Product.create(
            {
                "name": "AS Protein Shake",
                "list_price": 24.90,
                "ds_pv": 20.0,
                "ds_bv": 15.0,
                "type": "consu",
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
            }
        )
        cls.bar = Product.create(
            {
                "name": "AS Energy Bar",
                "list_price": 3.35,
                "ds_pv": 2.5,
                "ds_bv": 2.0,
                "type": "consu",
                "taxes_id": [Command.clear()],
            }
        )
        cls.token_fay = cls._token(cls.fay.partner_id, "done")
        cls.token_cleo = cls._token(cls.consumer_partner, "done")
        cls.token_sam = cls._token(cls.sam.partner_id, "done")

    @classmethod
    def _token(cls, partner, simulated_state, last4="4242"):
        return (
            cls.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": cls.provider.id,
                    "payment_method_id": cls.pm_demo.id,
                    "partner_id": partner.id,
                    "payment_details": last4,
                    "provider_ref": f"demo-{partner.id}-{simulated_state}-{last4}",
                    "demo_simulated_state": simulated_state,
                }
            )
        )

    @classmethod
    def _autoship(cls, partner, token, lines, next_date=None, **vals):
        return cls.env["ds.autoship"].create(
            {
                "partner_id": partner.id,
                "payment_token_id": token.id,
                "next_date": next_date or cls.today,
                "line_ids": [
                    Command.create({"product_id": p.id, "quantity": q})
                    for p, q in lines
                ],
                **vals,
            }
        )

    def _orders(self, autoship):
        return self.env["sale.order"].search(
            [("ds_autoship_id", "=", autoship.id), ("state", "!=", "cancel")]
        )

    @staticmethod
    def _month(date, n=1):
        return date + relativedelta(months=n)
