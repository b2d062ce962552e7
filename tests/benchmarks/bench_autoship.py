#!/usr/bin/env python3
"""Benchmark: the autoship job over N due subscriptions (issue 15).

Figures, not a timed test. Target: 100,000 due autoships into confirmed sale orders and posted
invoices paid with the saved token in <= 10 min.

Usage (a database with crm_direct_selling and payment_demo installed, e.g. a clone of the test
database, which has the three addons)::

    python tests/benchmarks/bench_autoship.py -c odoo.conf -d ds_bench_autoship --count 1000

N subscribers (partners) with a demo token that approves, an autoship of two products each
(one line of 2 x 24.90, one of 3 x 3.35, no tax) due on the benchmark day, are created once and
committed (tagged ``bench-as-``; a later run with a larger N adds the missing ones). The job
then runs as the cron worker runs it: batches of ``--batch`` autoships, one commit per batch;
the figures are wall time, autoships per second, the orders / posted invoices / paid
invoices / done transactions it made, and a second run of the same day (nothing ordered twice).
The orders it made are committed: use a throw-away database.
"""

import argparse
import sys
import time

TAG = "bench-as-"


def build(env, count, day):
    from odoo import Command

    cr = env.cr
    env["payment.provider"].search([("code", "=", "demo")]).write(
        {"state": "test", "is_published": True}
    )
    provider = env.ref("payment.payment_provider_demo")
    method = env.ref("payment_demo.payment_method_demo")
    Product = env["product.product"].with_context(active_test=False)
    products = Product.search([("default_code", "in", [TAG + "shake", TAG + "bar"])])
    if len(products) < 2:
        products = Product.create(
            [
                {
                    "name": "Bench shake",
                    "default_code": TAG + "shake",
                    "list_price": 24.90,
                    "ds_pv": 20.0,
                    "type": "consu",
                    "taxes_id": [Command.clear()],
                },
                {
                    "name": "Bench bar",
                    "default_code": TAG + "bar",
                    "list_price": 3.35,
                    "ds_pv": 2.5,
                    "type": "consu",
                    "taxes_id": [Command.clear()],
                },
            ]
        )
    shake, bar = products.sorted("list_price", reverse=True)
    cr.execute("SELECT count(*) FROM res_partner WHERE email LIKE %s", [TAG + "%"])
    existing = cr.fetchone()[0]
    start = time.time()
    step = 1000
    for first in range(existing, count, step):
        last = min(first + step, count)
        partners = env["res.partner"].create(
            [
                {"name": f"Bench subscriber {i}", "email": f"{TAG}{i}@example.com"}
                for i in range(first, last)
            ]
        )
        tokens = env["payment.token"].create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "partner_id": p.id,
                    "payment_details": "4242",
                    "provider_ref": f"{TAG}{p.id}",
                    "demo_simulated_state": "done",
                }
                for p in partners
            ]
        )
        env["ds.autoship"].with_context(tracking_disable=True).create(
            [
                {
                    "partner_id": p.id,
                    "payment_token_id": t.id,
                    "next_date": day,
                    "line_ids": [
                        Command.create({"product_id": shake.id, "quantity": 2}),
                        Command.create({"product_id": bar.id, "quantity": 3}),
                    ],
                }
                for p, t in zip(partners, tokens, strict=True)
            ]
        )
        cr.commit()  # pylint: disable=invalid-commit
        env.invalidate_all()
    if count > existing:
        print(f"created {count - existing} subscribers in {time.time() - start:.1f} s")
    # the benchmark day's due autoships are those of the tagged subscribers
    cr.execute(
        """UPDATE ds_autoship a SET next_date = %s, state = 'active', retry_date = NULL
             FROM res_partner p
            WHERE p.id = a.partner_id AND p.email LIKE %s""",
        [day, TAG + "%"],
    )
    # a rerun orders the same day again (benchmark only: forget the earlier runs)
    cr.execute(
        """DELETE FROM ds_autoship_run r USING ds_autoship a, res_partner p
            WHERE r.autoship_id = a.id AND p.id = a.partner_id AND p.email LIKE %s""",
        [TAG + "%"],
    )
    cr.execute("ANALYZE")
    cr.commit()  # pylint: disable=invalid-commit


def run_job(env, day, batch):
    start = time.time()
    stats = (
        env["ds.autoship"]
        .with_context(cron_id=-1)  # commit per batch, as in the cron worker
        ._cron_process_due(today=day, batch_size=batch)
    )
    env.cr.commit()  # pylint: disable=invalid-commit
    return stats, time.time() - start


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--day", default="2027-06-15")
    args = parser.parse_args(argv)

    import odoo
    from odoo import SUPERUSER_ID, api, fields
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database])
    day = fields.Date.to_date(args.day)
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        build(env, args.count, day)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute("SELECT COALESCE(max(id), 0) FROM sale_order")
        before = cr.fetchone()[0]
        stats, elapsed = run_job(env, day, args.batch)
        stats2, elapsed2 = run_job(env, day, args.batch)
        cr.execute(
            """
            SELECT count(DISTINCT so.id),
                   count(DISTINCT so.id) FILTER (WHERE so.state = 'sale'),
                   count(DISTINCT am.id) FILTER (WHERE am.state = 'posted'),
                   count(DISTINCT am.id) FILTER (WHERE am.payment_state IN ('paid', 'in_payment')),
                   count(DISTINCT tx.id) FILTER (WHERE tx.state = 'done')
              FROM sale_order so
              LEFT JOIN sale_order_line sol ON sol.order_id = so.id
              LEFT JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
              LEFT JOIN account_move_line aml ON aml.id = rel.invoice_line_id
              LEFT JOIN account_move am ON am.id = aml.move_id
              LEFT JOIN sale_order_transaction_rel str ON str.sale_order_id = so.id
              LEFT JOIN payment_transaction tx ON tx.id = str.transaction_id
             WHERE so.id > %s AND so.ds_autoship_id IS NOT NULL
            """,
            [before],
        )
        orders, confirmed, posted, paid, txs = cr.fetchone()
    n = stats["done"] + stats["failed"]
    print()
    print(f"| autoship job, {args.count:,} due (batch {args.batch}) | value |")
    print("|---|---:|")
    print(f"| wall time | {elapsed:.1f} s |")
    print(f"| autoships / s | {n / elapsed if elapsed else 0:.1f} |")
    print(f"| ordered / failed | {stats['done']} / {stats['failed']} |")
    print(f"| orders made / confirmed | {orders} / {confirmed} |")
    print(f"| invoices posted / paid | {posted} / {paid} |")
    print(f"| transactions done | {txs} |")
    print(f"| second run of the same day | {stats2} in {elapsed2:.1f} s |")
    if n:
        print(f"| extrapolated to 100,000 | {elapsed / n * 100_000 / 60:.1f} min |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
