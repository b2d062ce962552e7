"""The autoship job (issue 15): due autoships become confirmed sale orders and posted invoices
paid with the saved token through the demo provider; skipped, paused, cancelled and not-yet-due
ones are left alone; failures are retried, then the autoship is paused and the subscriber and
their sponsor told; one date is never ordered twice."""

from unittest.mock import patch

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.crm_direct_selling.tests.rpc import call_button

from .autoship_common import DsAutoshipCommon


@tagged("post_install", "-at_install")
class TestAutoshipJob(DsAutoshipCommon):
    def _run(self, today=None, **kw):
        return self.env["ds.autoship"]._cron_process_due(
            today=today or self.today, **kw
        )

    def test_due_autoship_becomes_paid_order_and_invoice_with_pv(self):
        autoship = self._autoship(
            self.fay.partner_id, self.token_fay, [(self.shake, 2), (self.bar, 3)]
        )
        stats = self._run()
        self.assertEqual(stats, {"done": 1, "failed": 0})
        order = self._orders(autoship)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.amount_total, 59.85)  # 2 x 24.90 + 3 x 3.35
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 59.85)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)
        tx = order.transaction_ids
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.token_id, self.token_fay)
        self.assertEqual(tx.amount, 59.85)
        self.assertTrue(tx.payment_id)
        # PV credited like any order: through the invoice path
        self.assertEqual(invoice.ds_distributor_id, self.fay)
        self.assertEqual(invoice.ds_pv_total, 47.5)  # 2 x 20 + 3 x 2.5
        self.assertEqual(autoship.last_order_id, order)
        self.assertEqual(autoship.next_date, self._month(self.today))
        self.assertEqual(autoship.failure_count, 0)
        run = autoship.run_ids
        self.assertEqual(
            (run.state, run.date, run.order_id, run.invoice_id),
            ("done", self.today, order, invoice),
        )

    def test_skipped_paused_cancelled_and_future_are_not_ordered(self):
        due = self._autoship(self.fay.partner_id, self.token_fay, [(self.shake, 1)])
        skipped = self._autoship(self.fay.partner_id, self.token_fay, [(self.shake, 1)])
        paused = self._autoship(self.fay.partner_id, self.token_fay, [(self.shake, 1)])
        cancelled = self._autoship(self.fay.partner_id, self.token_fay, [(self.bar, 1)])
        future = self._autoship(
            self.fay.partner_id,
            self.token_fay,
            [(self.bar, 1)],
            next_date=self.today + relativedelta(days=1),
        )
        skipped.action_skip_next()
        paused.action_pause()
        cancelled.action_cancel()
        self.assertEqual(self._run(), {"done": 1, "failed": 0})
        self.assertEqual(len(self._orders(due)), 1)
        for autoship in skipped | paused | cancelled | future:
            self.assertFalse(self._orders(autoship), autoship.name)
        self.assertEqual(skipped.next_date, self._month(self.today))
        self.assertEqual(skipped.run_ids.state, "skipped")
        # skipping then moving the date back to the skipped day never orders it
        skipped.next_date = self.today
        self.assertEqual(self._run(), {"done": 0, "failed": 1})
        self.assertFalse(self._orders(skipped))
        self.assertEqual(skipped.next_date, self._month(self.today))
        # a resumed autoship whose date passed while paused orders from tomorrow, not back
        paused.action_resume()
        self.assertEqual(paused.state, "active")
        self.assertEqual(paused.next_date, self.today + relativedelta(days=1))
        self.assertEqual(self._run(), {"done": 0, "failed": 0})
        self._run(today=paused.next_date)
        self.assertEqual(len(self._orders(paused)), 1)
        # the cancellation mail went out
        mail = self.env["mail.mail"].search(
            [("model", "=", "ds.autoship"), ("res_id", "=", cancelled.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("cancelled", mail.subject)
        self.assertIn(self.fay.partner_id, mail.recipient_ids)

    def test_job_twice_orders_one_date_once(self):
        autoship = self._autoship(
            self.fay.partner_id, self.token_fay, [(self.shake, 1)]
        )
        self.assertEqual(self._run()["done"], 1)
        self.assertEqual(self._run(), {"done": 0, "failed": 0})
        self.assertEqual(len(self._orders(autoship)), 1)
        self.assertEqual(len(autoship.order_ids.transaction_ids), 1)

    def test_date_already_ordered_is_never_charged_again(self):
        """A crash after the charge and before the date moved on (or a date put back by hand):
        the unique run of that date stops a second charge."""
        autoship = self._autoship(
            self.fay.partner_id, self.token_fay, [(self.shake, 1)]
        )
        self._run()
        autoship.next_date = self.today  # back to the ordered date
        stats = self._run()
        self.assertEqual(stats["done"], 0)
        self.assertEqual(len(self._orders(autoship)), 1)
        self.assertEqual(len(autoship.order_ids.transaction_ids), 1)
        self.assertEqual(autoship.next_date, self._month(self.today))
        # and the database refuses a second run of one date outright
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env["ds.autoship.run"].create(
                {"autoship_id": autoship.id, "date": self.today, "state": "done"}
            )

    def test_declined_payment_retried_then_paused_and_reported(self):
        self.company.write({"ds_autoship_retry_days": 2, "ds_autoship_max_failures": 2})
        declined = self._token(self.consumer_partner, "error", last4="0002")
        autoship = self._autoship(self.consumer_partner, declined, [(self.shake, 1)])
        stats = self._run()
        self.assertEqual(stats, {"done": 0, "failed": 1})
        self.assertEqual(autoship.failure_count, 1)
        self.assertEqual(autoship.state, "active")
        self.assertEqual(autoship.retry_date, self.today + relativedelta(days=2))
        self.assertEqual(autoship.next_date, self.today)
        self.assertIn("declined", autoship.last_error)
        # nothing stands: the quotation is cancelled, no invoice, no payment
        orders = autoship.order_ids
        self.assertEqual(orders.mapped("state"), ["cancel"])
        self.assertFalse(orders.invoice_ids)
        self.assertFalse(orders.transaction_ids.payment_id)
        # before the retry date: not tried again
        self.assertEqual(
            self._run(today=self.today + relativedelta(days=1))["failed"], 0
        )
        self.assertEqual(autoship.failure_count, 1)
        # second failure on the retry date: paused, subscriber and sponsor (referrer) told
        self._run(today=self.today + relativedelta(days=2))
        self.assertEqual(autoship.failure_count, 2)
        self.assertEqual(autoship.state, "paused")
        message = autoship.message_ids.filtered(
            lambda m: "was paused" in (m.body or "")
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(
            message.partner_ids, self.consumer_partner | self.lana.partner_id
        )
        self.assertEqual(autoship.run_ids.mapped("state"), ["failed", "failed"])
        # the subscriber fixes the card and resumes: the next run orders
        autoship.payment_token_id = self.token_cleo
        autoship.action_resume()
        self._run(today=autoship.next_date)
        self.assertEqual(len(self._orders(autoship)), 1)
        self.assertEqual(autoship.failure_count, 0)
        self.assertEqual(
            self._orders(autoship).invoice_ids.ds_distributor_id, self.lana
        )

    def test_failure_then_success_on_retry(self):
        self.company.write({"ds_autoship_retry_days": 1, "ds_autoship_max_failures": 3})
        token = self._token(self.fay.partner_id, "error", last4="0003")
        autoship = self._autoship(self.fay.partner_id, token, [(self.bar, 1)])
        self._run()
        self.assertEqual(autoship.failure_count, 1)
        token.sudo().demo_simulated_state = "done"  # the bank approves the retry
        self._run(today=self.today + relativedelta(days=1))
        self.assertEqual(len(self._orders(autoship)), 1)
        self.assertEqual(autoship.failure_count, 0)
        self.assertFalse(autoship.retry_date)
        self.assertEqual(autoship.next_date, self._month(self.today))
        self.assertEqual(autoship.run_ids.mapped("state"), ["done", "failed"])

    def test_expired_token_fails_without_charge(self):
        token = self._token(self.fay.partner_id, "done", last4="0004")
        autoship = self._autoship(self.fay.partner_id, token, [(self.bar, 1)])
        token.active = False  # the provider reported it expired
        self.assertEqual(self._run()["failed"], 1)
        self.assertFalse(autoship.order_ids)
        self.assertIn("expired", autoship.last_error)
        self.assertEqual(autoship.failure_count, 1)

    def test_archived_product_left_out_with_message_and_all_archived_fails(self):
        autoship = self._autoship(
            self.fay.partner_id, self.token_fay, [(self.shake, 1), (self.bar, 2)]
        )
        self.bar.active = False
        self._run()
        order = self._orders(autoship)
        self.assertEqual(order.order_line.product_id, self.shake)
        self.assertEqual(order.amount_total, 24.90)
        note = autoship.message_ids.filtered(
            lambda m: "no longer sold" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertIn("AS Energy Bar", note.body)
        self.assertEqual(note.partner_ids, self.fay.partner_id)
        # every product archived: a failure with a clear message, nothing charged
        only_bar = self._autoship(self.fay.partner_id, self.token_fay, [(self.bar, 1)])
        self._run()
        self.assertFalse(only_bar.order_ids)
        self.assertIn("None of the products", only_bar.last_error)

    def test_out_of_stock_fails_and_retries(self):
        self.shake.product_tmpl_id.is_storable = True
        autoship = self._autoship(
            self.fay.partner_id, self.token_fay, [(self.shake, 2)]
        )
        self._run()
        self.assertFalse(autoship.order_ids)
        self.assertIn("Out of stock", autoship.last_error)
        self.assertEqual(autoship.failure_count, 1)
        self.env["stock.quant"]._update_available_quantity(
            self.shake,
            self.env["stock.warehouse"]
            .search([("company_id", "=", self.company.id)], limit=1)
            .lot_stock_id,
            5,
        )
        self._run(today=autoship.retry_date)
        self.assertEqual(len(self._orders(autoship)), 1)

    def test_order_takes_current_pricelist_price(self):
        autoship = self._autoship(
            self.fay.partner_id, self.token_fay, [(self.shake, 1)]
        )
        self.shake.list_price = 26.40  # the price changed after the autoship was set up
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "AS Distributor price",
                "currency_id": self.company.currency_id.id,
                "item_ids": [
                    (
                        0,
                        0,
                        {
                            "applied_on": "0_product_variant",
                            "product_id": self.shake.id,
                            "compute_price": "fixed",
                            "fixed_price": 19.95,
                        },
                    )
                ],
            }
        )
        self.fay.partner_id.property_product_pricelist = pricelist
        self._run()
        order = self._orders(autoship)
        self.assertEqual(order.pricelist_id, pricelist)
        self.assertEqual(order.amount_total, 19.95)
        self.assertEqual(order.invoice_ids.amount_total, 19.95)
        self.assertEqual(order.transaction_ids.amount, 19.95)

    def test_batches_and_reminders(self):
        subscribers = [
            (self.fay.partner_id, self.token_fay),
            (self.consumer_partner, self.token_cleo),
            (self.sam.partner_id, self.token_sam),
        ]
        autoships = self.env["ds.autoship"].concat(
            *(self._autoship(*subscribers[n % 3], [(self.bar, n)]) for n in range(1, 6))
        )
        # a batch of several subscribers (tokens) is made in one piece, not split up
        with self.assertNoLogs(
            "odoo.addons.crm_direct_selling.models.ds_autoship", "WARNING"
        ):
            stats = self._run(batch_size=3)
        self.assertEqual(stats, {"done": 5, "failed": 0})
        self.assertEqual(
            sorted(autoships.last_order_id.mapped("amount_total")),
            [3.35, 6.70, 10.05, 13.40, 16.75],
        )
        # reminder N days before, once per date
        self.company.ds_autoship_reminder_days = 3
        soon = self._autoship(
            self.fay.partner_id,
            self.token_fay,
            [(self.shake, 1)],
            next_date=self.today + relativedelta(days=3),
        )
        self._run()
        self._run()
        mails = self.env["mail.mail"].search(
            [("model", "=", "ds.autoship"), ("res_id", "=", soon.id)]
        )
        self.assertEqual(len(mails), 1)
        self.assertIn("ships on", mails.subject)
        self.assertEqual(soon.reminder_date, soon.next_date)

    def test_back_office_buttons_as_the_web_client(self):
        self.env.user.groups_id |= self.env.ref("crm_direct_selling.group_ds_manager")
        manager = self.env["res.users"].create(
            {
                "name": "AS Manager",
                "login": "as_manager",
                "password": "as_manager",
                "groups_id": [
                    (
                        6,
                        0,
                        [
                            self.env.ref("crm_direct_selling.group_ds_manager").id,
                            self.env.ref("sales_team.group_sale_salesman").id,
                        ],
                    )
                ],
            }
        )
        autoship = self._autoship(
            self.fay.partner_id, self.token_fay, [(self.shake, 1)]
        )
        result = call_button(
            self, manager.login, "ds.autoship", "action_process_now", [autoship.id]
        )
        self.assertNotIn("error", result, result)
        self.assertEqual(len(self._orders(autoship)), 1)
        for method, state in (
            ("action_skip_next", "active"),
            ("action_pause", "paused"),
            ("action_resume", "active"),
            ("action_cancel", "cancelled"),
        ):
            result = call_button(
                self, manager.login, "ds.autoship", method, [autoship.id]
            )
            self.assertNotIn("error", result, (method, result))
            self.assertEqual(autoship.state, state, method)
        self.assertEqual(autoship.next_date, self._month(self.today, 2))
        # a cancelled autoship refuses with a clear message naming it
        result = call_button(
            self, manager.login, "ds.autoship", "action_pause", [autoship.id]
        )
        self.assertEqual(result["error"]["data"]["name"], "odoo.exceptions.UserError")
        self.assertIn(autoship.name, result["error"]["data"]["message"])

    def test_charge_then_booking_error_never_charges_twice(self):
        """A batch fails after its cards were charged (one product's income account is
        deprecated: its invoice cannot be posted). The batch's savepoint rolls the
        transactions back and the job retries each half; before, each retry charged the
        cards again (the bad one three times). Now each card is charged once: the good
        orders are booked on the first charge, the bad one is paused with the charge named,
        and no later run charges it again."""
        Tx = type(self.env["payment.transaction"])
        sent = []
        send = Tx._send_payment_request

        def counting_send(tx):
            sent.extend(tx.mapped("reference"))
            return send(tx)

        income = self.env["account.account"].create(
            {
                "name": "Retired sales",
                "code": "700999",
                "account_type": "income",
                "company_ids": [(6, 0, self.env.company.ids)],
            }
        )
        bad = self.env["product.product"].create(
            {
                "name": "AS Retired Pack",
                "list_price": 10.0,
                "ds_pv": 5.0,
                "type": "consu",
                "taxes_id": [(5, 0, 0)],
                "property_account_income_id": income.id,
            }
        )
        income.deprecated = True
        good_a = self._autoship(self.fay.partner_id, self.token_fay, [(self.shake, 1)])
        broken = self._autoship(self.sam.partner_id, self.token_sam, [(bad, 1)])
        good_c = self._autoship(self.consumer_partner, self.token_cleo, [(self.bar, 2)])
        with (
            patch.object(Tx, "_send_payment_request", counting_send),
            mute_logger("odoo.addons.crm_direct_selling.models.ds_autoship"),
        ):
            stats = self._run()
            self.assertEqual(stats, {"done": 2, "failed": 1})
            self.assertEqual(len(sent), 3, f"one charge per subscriber: {sent}")
            for autoship in good_a | good_c:
                order = self._orders(autoship)
                self.assertEqual(order.state, "sale")
                self.assertIn(order.invoice_ids.payment_state, ("paid", "in_payment"))
                self.assertEqual(order.transaction_ids.state, "done")
                self.assertEqual(autoship.next_date, self._month(self.today))
            self.assertEqual(broken.state, "paused")
            self.assertIn("was charged", broken.last_error)
            self.assertIn("not charged again", broken.last_error)
            self.assertFalse(self._orders(broken))
            # the next runs (the same day, the retry date, the next month) charge nothing
            for day in (self.today, self.today + relativedelta(days=1)):
                self._run(today=day)
            self.assertEqual(len(sent), 3, sent)
