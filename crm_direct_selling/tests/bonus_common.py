from datetime import date

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class BonusCommon(AccountTestInvoicingCommon):
    """Shared fixtures of the bonus tests: an isolated rank ladder, two periods, a
    product whose PV = BV = price, helpers to build a network and post invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.env.user.groups_id |= cls.env.ref("crm_direct_selling.group_ds_manager")
        cls.company.ds_active_min_pv = 100.0
        cls.company.ds_refund_policy = "posting_period"
        # isolate from the ranks shipped as data
        cls.env["ds.rank"].search([]).write({"active": False})
        Rank = cls.env["ds.rank"]
        cls.bronze = Rank.create(
            {"name": "T-Bronze", "sequence": 110, "min_pv": 100, "paid_levels": 1}
        )
        cls.silver = Rank.create(
            {"name": "T-Silver", "sequence": 120, "min_pv": 200, "paid_levels": 2}
        )
        cls.gold = Rank.create(
            {"name": "T-Gold", "sequence": 130, "min_pv": 300, "paid_levels": 3}
        )
        Period = cls.env["ds.period"]
        cls.jan = Period.create(
            {
                "name": "2026-01",
                "date_from": date(2026, 1, 1),
                "date_to": date(2026, 1, 31),
                "company_id": cls.company.id,
            }
        )
        cls.feb = Period.create(
            {
                "name": "2026-02",
                "date_from": date(2026, 2, 1),
                "date_to": date(2026, 2, 28),
                "company_id": cls.company.id,
            }
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Kit 50",
                "list_price": 50.0,
                "ds_pv": 50.0,
                "ds_bv": 50.0,
                "taxes_id": [Command.clear()],
                "supplier_taxes_id": [Command.clear()],
            }
        )
        cls.expense_account = cls.company_data["default_account_expense"]
        cls.purchase_journal = cls.company_data["default_journal_purchase"]

    # ------------------------------------------------------------------ helpers
    @classmethod
    def _distributor(cls, name, sponsor=None, enrolled=date(2025, 6, 1)):
        return cls.env["ds.distributor"].create(
            {
                "name": name,
                "sponsor_id": sponsor.id if sponsor else False,
                "enrollment_date": enrolled,
                "company_id": cls.company.id,
            }
        )

    @classmethod
    def _invoice(cls, partner, bv, inv_date, post=True):
        """Customer invoice of ``bv`` BV (units of the 50-BV product, price 50)."""
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": inv_date,
                "date": inv_date,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "quantity": bv / 50.0,
                            "price_unit": 50.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _refund(cls, invoice, bv, ref_date):
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "invoice_date": ref_date,
                "date": ref_date,
                "reversed_entry_id": invoice.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "quantity": bv / 50.0,
                            "price_unit": 50.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        return refund

    @classmethod
    def _plan(cls, **vals):
        base = {
            "name": "Test Plan",
            "company_id": cls.company.id,
            "retail_mode": "bv_rate",
            "retail_rate": 10.0,
            "fast_start_rate": 20.0,
            "fast_start_days": 30,
            "compression": True,
            "level_ids": [
                Command.create({"level": 1, "rate": 10.0}),
                Command.create({"level": 2, "rate": 5.0}),
                Command.create({"level": 3, "rate": 5.0}),
            ],
            "rank_bonus_ids": [
                Command.create({"rank_id": cls.silver.id, "amount": 10.0}),
                Command.create({"rank_id": cls.gold.id, "amount": 25.0}),
            ],
            "matching_rank_id": cls.silver.id,
            "matching_generation_ids": [
                Command.create({"generation": 1, "rate": 10.0}),
                Command.create({"generation": 2, "rate": 5.0}),
            ],
            "payout_cap_pct": 15.0,
            "min_payout": 10.0,
            "journal_id": cls.purchase_journal.id,
            "expense_account_id": cls.expense_account.id,
            "payout_mode": "bills",
            "async_threshold": 0,
        }
        base.update(vals)
        return cls.env["ds.plan"].create(base)

    @classmethod
    def _levels_plan(cls, name, rates):
        """A plan paying unilevel only: ``rates`` = percent per level from 1."""
        return cls._plan(
            name=name,
            retail_mode="none",
            fast_start_rate=0.0,
            payout_cap_pct=0.0,
            min_payout=0.0,
            rank_bonus_ids=False,
            matching_generation_ids=False,
            level_ids=[
                Command.create({"level": lvl, "rate": rate})
                for lvl, rate in enumerate(rates, start=1)
            ],
        )

    def _run(self, period, plan, simulation=False):
        return self.env["ds.bonus.run"].create(
            {
                "period_id": period.id,
                "plan_id": plan.id,
                "simulation": simulation,
                "date": period.date_to,
            }
        )

    def _line_tuples(self, run):
        """Comparable lines: (earner, type, source, level, base, rate, amount, carried)."""
        return sorted(
            (
                ln.distributor_id.name,
                ln.bonus_type,
                ln.source_distributor_id.name or "",
                ln.level,
                round(ln.base, 2),
                round(ln.rate, 4),
                round(ln.amount, 2),
                ln.carried_forward,
            )
            for ln in run.line_ids
        )
