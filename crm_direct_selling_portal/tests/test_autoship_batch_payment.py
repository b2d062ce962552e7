"""Autoship payments booked per batch (issue 15's 100,000-autoship job): one payment and one
journal entry per batch and provider journal, each invoice's receivable reconciled with its
own credit line to the cent; the transactions stay one per order, done and linked; a second
run charges nothing; a credit note on such an invoice still works, and one invoice can be
unreconciled from the batch entry without touching the others."""

from odoo.tests import tagged

from .autoship_common import DsAutoshipCommon


@tagged("post_install", "-at_install")
class TestAutoshipBatchPayment(DsAutoshipCommon):
    def _run_cron(self, batch_size):
        """The scheduler's door: the cron's server action, as 'Run Manually' runs it."""
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_direct_selling.autoship_batch_size", str(batch_size)
        )
        self.env.ref("crm_direct_selling.ir_cron_ds_autoship").method_direct_trigger()
        self.env.invalidate_all()

    def _receivable(self, moves):
        return moves.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def _last_id(self, model):
        return self.env[model].sudo().search([], order="id desc", limit=1).id or 0

    def test_batch_of_subscribers_one_balanced_entry_every_invoice_reconciled(self):
        subscribers = [
            (self.fay.partner_id, self.token_fay),
            (self.consumer_partner, self.token_cleo),
            (self.sam.partner_id, self.token_sam),
        ]
        autoships = self.env["ds.autoship"].concat(
            *(
                self._autoship(*subscribers[n % 3], [(self.shake, n), (self.bar, 3)])
                for n in range(1, 6)
            )
        )
        payments_before = self._last_id("account.payment")
        txs_before = self._last_id("payment.transaction")
        self._run_cron(batch_size=3)  # two batches: 3 + 2 autoships

        orders = autoships.last_order_id
        self.assertEqual(len(orders), 5)
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        # n x 24.90 + 3 x 3.35, to the cent
        expected = {a: round(n * 24.90 + 10.05, 2) for n, a in enumerate(autoships, 1)}
        for autoship, amount in expected.items():
            self.assertEqual(autoship.last_order_id.amount_total, amount)

        txs = orders.transaction_ids
        self.assertEqual(len(txs), 5)
        self.assertEqual(set(txs.mapped("state")), {"done"})
        self.assertTrue(all(txs.mapped("is_post_processed")))
        payments = txs.payment_id
        # one payment (one journal entry) per batch, not one per transaction
        self.assertEqual(len(payments), 2)
        self.assertEqual(
            self.env["account.payment"].search_count([("id", ">", payments_before)]),
            2,
        )
        self.assertEqual(
            sorted(
                len(txs.filtered(lambda t, p=p: t.payment_id == p)) for p in payments
            ),
            [2, 3],
        )
        for payment in payments:
            move = payment.move_id
            own_txs = txs.filtered(lambda t, p=payment: t.payment_id == p)
            self.assertEqual(payment.state, "paid")
            self.assertEqual(move.state, "posted")
            self.assertEqual(move.journal_id, self.provider.journal_id)
            self.assertEqual(
                self.currency.compare_amounts(
                    sum(move.line_ids.mapped("debit")),
                    sum(move.line_ids.mapped("credit")),
                ),
                0,
            )
            self.assertAlmostEqual(
                payment.amount, sum(own_txs.mapped("amount")), places=2
            )
            liquidity = move.line_ids.filtered(lambda line: line.debit)
            self.assertEqual(len(liquidity), 1)
            self.assertAlmostEqual(liquidity.debit, payment.amount, places=2)
            credits = self._receivable(move)
            self.assertEqual(len(credits), len(own_txs))
            self.assertEqual(
                set(credits.mapped("name")), set(own_txs.mapped("reference"))
            )
            self.assertEqual(payment.reconciled_invoice_ids, own_txs.invoice_ids)

        for autoship, amount in expected.items():
            order = autoship.last_order_id
            tx = order.transaction_ids
            invoice = order.invoice_ids
            self.assertEqual(len(invoice), 1)
            self.assertEqual(tx.invoice_ids, invoice)
            self.assertEqual(tx.amount, amount)
            self.assertEqual(invoice.amount_total, amount)
            self.assertEqual(invoice.amount_residual, 0.0)
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            receivable = self._receivable(invoice)
            self.assertTrue(receivable.reconciled)
            self.assertTrue(receivable.full_reconcile_id)
            # reconciled with its own transaction's credit line of the batch entry, exactly
            credit = receivable.matched_credit_ids.credit_move_id
            self.assertEqual(credit.move_id, tx.payment_id.move_id)
            self.assertEqual(credit.name, tx.reference)
            self.assertEqual(credit.partner_id, invoice.commercial_partner_id)
            self.assertAlmostEqual(credit.credit, amount, places=2)
            self.assertEqual(credit.amount_residual, 0.0)
            # Odoo's notes on the way are all there (logged together at the end of the batch)
            order_notes = order.message_ids.mapped("body")
            self.assertEqual(
                sum(tx.reference in (b or "") for b in order_notes), 2, order_notes
            )  # initiated, then confirmed
            self.assertEqual(
                sum(f"Invoice {invoice.name} paid" in (b or "") for b in order_notes), 1
            )
            self.assertTrue(
                any(order.name in (b or "") for b in invoice.message_ids.mapped("body"))
            )
            self.assertTrue(order.picking_ids)
            self.assertTrue(
                any(
                    order.name in (b or "")
                    for b in order.picking_ids.message_ids.mapped("body")
                )
            )
            # the volume still goes to the credited distributor
            self.assertEqual(
                invoice.ds_distributor_id,
                autoship.partner_id._ds_credited_distributor(),
            )

        # the job twice (and a date put back by hand): nothing is charged or booked twice
        autoships[0].next_date = self.today
        self._run_cron(batch_size=3)
        self.assertEqual(
            self.env["payment.transaction"].search_count([("id", ">", txs_before)]), 5
        )
        self.assertEqual(
            self.env["account.payment"].search_count([("id", ">", payments_before)]),
            2,
        )
        self.assertEqual(len(autoships.order_ids), 5)

    def test_credit_note_and_unreconcile_on_a_batch_paid_invoice(self):
        first = self._autoship(
            self.fay.partner_id, self.token_fay, [(self.shake, 2), (self.bar, 3)]
        )
        second = self._autoship(self.consumer_partner, self.token_cleo, [(self.bar, 4)])
        self.env["ds.autoship"]._cron_process_due(today=self.today)
        invoice = first.last_order_id.invoice_ids
        other = second.last_order_id.invoice_ids
        payment = first.last_order_id.transaction_ids.payment_id
        self.assertEqual(payment, second.last_order_id.transaction_ids.payment_id)
        self.assertEqual(invoice.amount_total, 59.85)

        # a credit note for the paid invoice, as the accountant makes it (reversal wizard)
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "returned goods"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        refund.action_post()
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(refund.reversed_entry_id, invoice)
        self.assertEqual(refund.amount_total, 59.85)
        self.assertEqual(refund.ds_distributor_id, self.fay)
        self.assertEqual(refund.ds_pv_total, -47.5)
        # the refund is paid out like any credit note
        register = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=refund.ids)
            .create({})
        )
        register._create_payments()
        self.assertIn(refund.payment_state, ("paid", "in_payment"))
        self.assertEqual(refund.amount_residual, 0.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

        # one invoice taken off the batch entry (the payment widget's unreconcile): only its
        # credit line opens again; the other invoice stays paid; a credit note then settles it
        partial = self._receivable(other).matched_credit_ids
        self.assertEqual(len(partial), 1)
        other.js_remove_outstanding_partial(partial.id)
        self.assertEqual(other.payment_state, "not_paid")
        self.assertEqual(other.amount_residual, 13.40)
        credit = self._receivable(payment.move_id).filtered(
            lambda line: line.name == second.last_order_id.transaction_ids.reference
        )
        self.assertAlmostEqual(credit.amount_residual, -13.40, places=2)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(
            self._receivable(payment.move_id)
            .filtered(lambda line: line != credit)
            .mapped("reconciled"),
            [True],
        )
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=other.ids)
            .create({"journal_id": other.journal_id.id, "reason": "cancelled"})
        )
        reversal.refund_moves()
        cancel = other.reversal_move_ids
        cancel.action_post()  # posting a reversal reconciles it with the open invoice
        self.assertEqual(other.payment_state, "reversed")
        self.assertEqual(other.amount_residual, 0.0)
        # the freed batch credit line is the customer's open credit, to the cent
        self.assertAlmostEqual(credit.amount_residual, -13.40, places=2)
        self.assertEqual(credit.partner_id, self.consumer_partner.commercial_partner_id)
