"""Two autoship jobs at once, in real, separate transactions (two cron workers).

In test mode every registry cursor shares the test's transaction, so this test opens its own
database connections (``odoo.sql_db.db_connect``), one per thread. Worker A runs the job and keeps
its transaction open (its autoships claimed, orders created, not committed); worker B runs the
job meanwhile: it must neither wait for A nor order any of A's autoships (FOR UPDATE SKIP
LOCKED). Both then roll back; the autoships, tokens and products the test needs are committed
before and deleted at the end.
"""

import threading
import uuid

from odoo import Command, api, fields, sql_db
from odoo.tests import TransactionCase, tagged

WAIT = 120  # seconds a worker waits for the other before the test fails


@tagged("post_install", "-at_install")
class TestAutoshipConcurrency(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dbname = cls.env.cr.dbname
        cls.root_uid = cls.env.ref("base.user_root").id

    def _committed(self, func):
        with sql_db.db_connect(self.dbname).cursor() as cr:
            env = api.Environment(cr, self.root_uid, {"tracking_disable": True})
            result = func(env)
            # a separate real connection, committed by design (see the module docstring)
            cr.commit()  # pylint: disable=invalid-commit
            return result

    def _setup_data(self, count):
        prefix = f"ASC{uuid.uuid4().hex[:6]}"

        def build(env):
            provider = env.ref("payment.payment_provider_demo")
            if provider.state == "disabled":
                provider.state = "test"
            product = env["product.product"].create(
                {
                    "name": f"{prefix} product",
                    "list_price": 12.34,
                    "ds_pv": 10.0,
                    "type": "consu",
                    "taxes_id": [Command.clear()],
                }
            )
            partners = env["res.partner"].create(
                [{"name": f"{prefix} subscriber {i}"} for i in range(count)]
            )
            tokens = env["payment.token"].create(
                [
                    {
                        "provider_id": provider.id,
                        "payment_method_id": env.ref(
                            "payment_demo.payment_method_demo"
                        ).id,
                        "partner_id": partner.id,
                        "payment_details": "4242",
                        "provider_ref": f"{prefix}-{partner.id}",
                        "demo_simulated_state": "done",
                    }
                    for partner in partners
                ]
            )
            today = fields.Date.context_today(env["ds.autoship"])
            autoships = env["ds.autoship"].create(
                [
                    {
                        "partner_id": partner.id,
                        "payment_token_id": token.id,
                        "next_date": today,
                        "line_ids": [Command.create({"product_id": product.id})],
                    }
                    for partner, token in zip(partners, tokens, strict=True)
                ]
            )
            return {
                "product": product.id,
                "template": product.product_tmpl_id.id,
                "partners": partners.ids,
                "tokens": tokens.ids,
                "autoships": autoships.ids,
                "today": today,
            }

        data = self._committed(build)
        self.addCleanup(self._cleanup, data)
        return data

    def _cleanup(self, data):
        def clean(env):
            cr = env.cr
            cr.execute(
                "DELETE FROM ds_autoship WHERE id = ANY(%s)", [data["autoships"]]
            )
            cr.execute("DELETE FROM payment_token WHERE id = ANY(%s)", [data["tokens"]])
            cr.execute("DELETE FROM product_product WHERE id = %s", [data["product"]])
            cr.execute("DELETE FROM product_template WHERE id = %s", [data["template"]])
            cr.execute("DELETE FROM res_partner WHERE id = ANY(%s)", [data["partners"]])

        self._committed(clean)

    def test_two_workers_at_once_never_order_one_autoship_twice(self):
        data = self._setup_data(6)
        a_holds = threading.Event()
        b_done = threading.Event()
        outcome = {}

        def worker(name, before=None, after=None):
            try:
                with sql_db.db_connect(self.dbname).cursor() as cr:
                    env = api.Environment(cr, self.root_uid, {})
                    if before:
                        assert before.wait(WAIT), (
                            f"{name}: the other worker never started"
                        )
                    # bounded: a worker that waits for the other's locks fails the test
                    cr.execute("SET LOCAL lock_timeout = '20s'")
                    stats = env["ds.autoship"]._cron_process_due(today=data["today"])
                    cr.execute(
                        "SELECT ds_autoship_id FROM sale_order WHERE ds_autoship_id = ANY(%s)",
                        [data["autoships"]],
                    )
                    outcome[name] = (stats, sorted(r[0] for r in cr.fetchall()))
                    if after:
                        after.set()
                    if name == "A":
                        assert b_done.wait(WAIT), "A: worker B never finished"
                    cr.rollback()
            except Exception as error:  # noqa: BLE001 - reported by the assertions below
                outcome[name] = error
                if after:
                    after.set()

        thread_a = threading.Thread(target=worker, args=("A", None, a_holds))
        thread_b = threading.Thread(target=worker, args=("B", a_holds, b_done))
        thread_a.start()
        thread_b.start()
        thread_b.join(WAIT * 2)
        thread_a.join(WAIT * 2)
        self.assertFalse(isinstance(outcome.get("A"), Exception), outcome.get("A"))
        self.assertFalse(isinstance(outcome.get("B"), Exception), outcome.get("B"))
        stats_a, ordered_a = outcome["A"]
        stats_b, ordered_b = outcome["B"]
        self.assertEqual(stats_a, {"done": 6, "failed": 0})
        self.assertEqual(ordered_a, sorted(data["autoships"]))
        # B skipped every autoship A holds, without waiting, and ordered none
        self.assertEqual(stats_b, {"done": 0, "failed": 0})
        self.assertEqual(ordered_b, [])
