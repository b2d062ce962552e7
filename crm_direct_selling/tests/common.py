"""Shared base class of the core addon's tests (network, points, volumes, ranks).

Other test modules extend ``DsNetworkCommon``: it builds an isolated rank ladder, products with PV/BV and
offers helpers to create distributor trees / deep chains, periods, posted customer invoices and refunds.
"""

from datetime import date

from odoo import Command
from odoo.tools import SQL

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class DsNetworkCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the accounting test user also manages the network
        cls.env.user.sudo().groups_id = [
            Command.link(cls.env.ref("crm_direct_selling.group_ds_manager").id)
        ]
        cls.company = cls.env.company
        cls.company.write(
            {"ds_active_min_pv": 100.0, "ds_refund_policy": "posting_period"}
        )
        cls.Distributor = cls.env["ds.distributor"]
        cls.Period = cls.env["ds.period"]
        cls.Volume = cls.env["ds.volume"]
        # isolated ladder (the data ladder is deactivated so tests do not depend on it)
        cls.env["ds.rank"].search([]).write({"active": False})
        Rank = cls.env["ds.rank"]
        cls.rank_member = Rank.create(
            {"name": "T-Member", "sequence": 1, "paid_levels": 1}
        )
        cls.rank_bronze = Rank.create(
            {
                "name": "T-Bronze",
                "sequence": 2,
                "min_pv": 100,
                "min_gv": 300,
                "paid_levels": 2,
            }
        )
        cls.rank_silver = Rank.create(
            {
                "name": "T-Silver",
                "sequence": 3,
                "min_pv": 100,
                "min_gv": 1000,
                "min_qualified_legs": 2,
                "leg_rank_id": cls.rank_bronze.id,
                "max_leg_pct": 60,
                "paid_levels": 3,
            }
        )
        # products: PV 100 / BV 80 at 100.0; PV 10 / BV 5 at 10.0
        cls.product_pv100 = cls._ds_create_product("Kit PV100", 100.0, 100.0, 80.0)
        cls.product_pv10 = cls._ds_create_product("Sample PV10", 10.0, 10.0, 5.0)

    # ------------------------------------------------------------------ builders
    @classmethod
    def _ds_create_product(cls, name, price, pv, bv):
        return cls.env["product.product"].create(
            {
                "name": name,
                "list_price": price,
                "ds_pv": pv,
                "ds_bv": bv,
                "type": "consu",
                "taxes_id": [Command.clear()],
                "supplier_taxes_id": [Command.clear()],
            }
        )

    @classmethod
    def _ds_create_distributor(cls, name, sponsor=None, **vals):
        return cls.env["ds.distributor"].create(
            {
                "name": name,
                "sponsor_id": sponsor.id if sponsor else False,
                "enrollment_date": vals.pop("enrollment_date", date(2025, 1, 1)),
                "company_id": vals.pop("company_id", cls.env.company.id),
                **vals,
            }
        )

    @classmethod
    def _ds_create_tree(cls, spec):
        """``spec``: list of (name, sponsor_name or None) in any order where sponsors come first.

        Returns {name: ds.distributor}."""
        result = {}
        for name, sponsor in spec:
            result[name] = cls._ds_create_distributor(
                name, result[sponsor] if sponsor else None
            )
        return result

    @classmethod
    def _ds_create_chain(cls, length, root=None, prefix="CHAIN"):
        """A one-legged chain of ``length`` distributors under ``root`` built set-based:
        one batched create, one SQL sponsor update, one recursive path update. Returns the recordset
        ordered from the top of the chain to its bottom."""
        Distributor = cls.env["ds.distributor"]
        chain = Distributor._ds_create_sql(
            [
                {
                    "name": f"{prefix} {i}",
                    "code": f"{prefix}{i:06d}",
                    "company_id": cls.env.company.id,
                    "enrollment_date": date(2025, 1, 1),
                }
                for i in range(length)
            ]
        )
        Distributor.flush_model()
        ids = chain.ids
        sponsors = [root.id if root else None] + ids[:-1]
        cls.env.cr.execute(
            SQL(
                """UPDATE ds_distributor d SET sponsor_id = v.sponsor
                 FROM (SELECT unnest(%s::int[]) AS id, unnest(%s::int[]) AS sponsor) v WHERE v.id = d.id""",
                ids,
                sponsors,
            )
        )
        Distributor.invalidate_model(["sponsor_id", "frontline_ids"])
        Distributor._ds_update_paths(ids)
        return chain

    @classmethod
    def _ds_create_period(cls, date_from, date_to, name=None, company=None):
        return cls.env["ds.period"].create(
            {
                "name": name or date_from.strftime("%Y-%m"),
                "date_from": date_from,
                "date_to": date_to,
                "company_id": (company or cls.env.company).id,
            }
        )

    @classmethod
    def _ds_create_months(cls, start, months, company=None):
        return cls.env["ds.period"]._ds_generate_months(
            start, months, company or cls.env.company
        )

    @classmethod
    def _ds_invoice(cls, partner, inv_date, lines, post=True, move_type="out_invoice"):
        """Customer invoice (or refund) for ``partner`` (res.partner or ds.distributor) on ``inv_date``.

        ``lines``: list of (product, quantity). Prices are the product list prices, no taxes."""
        partner = partner.partner_id if partner._name == "ds.distributor" else partner
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": inv_date,
                "date": inv_date,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": qty,
                            "price_unit": product.list_price,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for product, qty in lines
                ],
            }
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _ds_refund(cls, invoice, refund_date, post=True):
        """Full credit note of ``invoice`` dated ``refund_date`` (linked through reversed_entry_id)."""
        refund = invoice._reverse_moves(
            [{"date": refund_date, "invoice_date": refund_date}]
        )
        if post:
            refund.action_post()
        return refund

    # ------------------------------------------------------------------ reading
    def _ds_volume(self, distributor, period):
        return self.env["ds.volume"].search(
            [("distributor_id", "=", distributor.id), ("period_id", "=", period.id)]
        )
