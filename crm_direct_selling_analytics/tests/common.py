from datetime import date

from odoo import Command
from odoo.tools import SQL

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class DsAnalyticsCommon(AccountTestInvoicingCommon):
    """Shared fixtures: a company with ranks, distributors, customers and helpers to invoice.

    Small hand-checked data goes through the ORM (invoices created and posted for real);
    the statistical tests need thousands of members and insert posted moves set-based in SQL
    (``_bulk_partners`` / ``_bulk_moves``), as the benchmark does.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id |= cls.env.ref(
            "crm_direct_selling.group_ds_manager"
        ) | cls.env.ref("mass_mailing.group_mass_mailing_user")
        cls.company = cls.env.company
        cls.company.write(
            {
                "ds_holdout_pct": 0.0,
                "ds_campaign_min_group_size": 100,
                "ds_rfm_window_days": 365,
            }
        )
        cls.today = date(2026, 6, 30)
        cls.rank_1 = cls.env["ds.rank"].create({"name": "Consultant", "sequence": 10})
        cls.rank_2 = cls.env["ds.rank"].create({"name": "Manager", "sequence": 20})
        cls._products = {}
        cls.sale_journal = cls.company_data["default_journal_sale"]

    # ------------------------------------------------------------------ ORM data
    @classmethod
    def _distributor(cls, name, **vals):
        return cls.env["ds.distributor"].create(
            {"name": name, "email": f"{name.lower()}@example.com", **vals}
        )

    @classmethod
    def _customer(cls, name, **vals):
        return cls.env["res.partner"].create(
            {"name": name, "email": f"{name.lower()}@example.com", **vals}
        )

    @classmethod
    def _product(cls, pv=0.0, categ=None):
        key = (pv, categ.id if categ else 0)
        if key not in cls._products or not cls._products[key].exists():
            vals = {
                "name": f"Product PV {pv}",
                "type": "consu",
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
            }
            if "ds_pv" in cls.env["product.template"]._fields:
                vals["ds_pv"] = pv
            if categ:
                vals["categ_id"] = categ.id
            cls._products[key] = cls.env["product.product"].create(vals)
        return cls._products[key]

    @classmethod
    def _invoice(
        cls, partner, invoice_date, amount, pv=0.0, refund=False, categ=None, cost=None
    ):
        product = cls._product(pv, categ)
        if cost is not None:
            product.standard_price = cost
        move = cls.env["account.move"].create(
            {
                "move_type": "out_refund" if refund else "out_invoice",
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "date": invoice_date,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 1.0,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        move.action_post()
        return move

    # ------------------------------------------------------------------ bulk SQL data
    @classmethod
    def _bulk_partners(cls, n, prefix="Member"):
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                """INSERT INTO res_partner (name, complete_name, email, active, type, autopost_bills, is_company,
                                        create_date, write_date)
               SELECT %(p)s || ' ' || g, %(p)s || ' ' || g, lower(%(p)s) || g || '@example.com', TRUE, 'contact',
                      'ask', FALSE, now(), now()
                 FROM generate_series(1, %(n)s) g
               RETURNING id""",
                p=prefix,
                n=n,
            )
        )
        ids = [r[0] for r in cls.env.cr.fetchall()]
        cls.env.cr.execute(
            SQL(
                "UPDATE res_partner SET commercial_partner_id = id WHERE id IN %s",
                tuple(ids),
            )
        )
        return cls.env["res.partner"].browse(sorted(ids))

    @classmethod
    def _bulk_moves(cls, rows):
        """rows: (partner_id, date, untaxed amount, pv). Inserts posted customer invoices (no lines)."""
        if not rows:
            return
        cls.env.flush_all()
        journal = cls.sale_journal
        cls.env.cr.execute(
            SQL(
                """INSERT INTO account_move (journal_id, company_id, currency_id, state, move_type, auto_post, date,
                                         invoice_date, partner_id, commercial_partner_id, amount_untaxed,
                                         amount_untaxed_signed, amount_total, amount_total_signed, ds_pv_total)
               SELECT %(journal)s, %(company)s, %(currency)s, 'posted',
                      CASE WHEN r.amount < 0 THEN 'out_refund' ELSE 'out_invoice' END, 'no', r.d, r.d, r.pid,
                      r.pid, abs(r.amount), r.amount, abs(r.amount), r.amount, r.pv
                 FROM unnest(%(pids)s::int[], %(dates)s::date[], %(amounts)s::numeric[], %(pvs)s::float[])
                      AS r(pid, d, amount, pv)""",
                journal=journal.id,
                company=cls.company.id,
                currency=cls.company.currency_id.id,
                pids=[r[0] for r in rows],
                dates=[r[1] for r in rows],
                amounts=[round(r[2], 2) for r in rows],
                pvs=[float(r[3]) for r in rows],
            )
        )
        cls.env["account.move"].invalidate_model()

    @classmethod
    def _segment_of(cls, partners, name="Audience"):
        segment = cls.env["ds.segment"].create(
            {
                "name": name,
                "domain": repr([("id", "in", partners.ids)]),
            }
        )
        segment.action_refresh()
        return segment
