#!/usr/bin/env python3
"""Benchmark: daily lifecycle cron over N contacts and routing of M leads.

Figures, not a timed test. Targets: lifecycle cron over 1,000,000 contacts <= 60 s,
routing of 10,000 leads <= 30 s.

Usage (database with crm_direct_selling installed)::

    python tests/benchmarks/bench_lifecycle.py -c odoo.conf -d ds_bench --partners 1000000 --leads 10000

The contacts (birthdays, first purchases, 10 % distributors with enrollment dates, 1 %
opted out, 1 % blacklisted) are built set-based in SQL and committed once (tagged
``bench-lc-``; a second run reuses them). The measured steps run in a transaction that is
rolled back, so the benchmark can be repeated:

1. ``_cron_lifecycle(today=D)`` on fresh data: fills every stored next occurrence, then sends;
2. the same day again (rerun: nothing is sent twice);
3. ``_cron_lifecycle(today=D+1)``: the steady daily run;
4. ``crm.lead.action_ds_route()`` over M leads created in SQL (4 territory rules, capacity).
"""

import argparse
import datetime
import sys
import time

TODAY = datetime.date(2027, 6, 15)


def build_partners(env, count):
    from odoo.tools import SQL

    cr = env.cr
    cr.execute("SELECT COUNT(*) FROM res_partner WHERE email LIKE %s", ["bench-lc-%"])
    existing = cr.fetchone()[0]
    if existing >= count:
        print(f"reusing {existing} bench contacts")
        return
    start = time.time()
    company_id = env.company.id
    fr = env.ref("base.fr").id
    cr.execute(
        SQL(
            """
            INSERT INTO res_partner (name, complete_name, email, email_normalized, ds_birthday, active, type,
                                     autopost_bills, is_company, lang, country_id, zip,
                                     ds_lifecycle_opt_out, ds_first_purchase_date,
                                     create_date, write_date, create_uid, write_uid)
            SELECT 'Bench ' || g, 'Bench ' || g, 'bench-lc-' || g || '@example.com',
                   'bench-lc-' || g || '@example.com',
                   DATE '1950-01-01' + MOD(ABS(hashint4(g)), 20000),
                   TRUE, 'contact', 'ask', FALSE, 'en_US', %(fr)s,
                   (ARRAY['75','69','13','33'])[1 + MOD(ABS(hashint4(g + 7)), 4)]
                       || LPAD(MOD(ABS(hashint4(g + 3)), 1000)::text, 3, '0'),
                   MOD(ABS(hashint4(g + 1)), 100) = 0,
                   CASE WHEN MOD(ABS(hashint4(g + 2)), 10) < 3
                        THEN DATE '2020-01-01' + MOD(ABS(hashint4(g + 5)), 2700) END,
                   NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC', 1, 1
              FROM generate_series(%(first)s, %(last)s) g
            """,
            fr=fr,
            first=existing + 1,
            last=count,
        )
    )
    # 10 % distributors
    cr.execute(
        SQL(
            """
            INSERT INTO ds_distributor (partner_id, code, company_id, enrollment_date, state, depth,
                                        create_date, write_date, create_uid, write_uid)
            SELECT p.id, 'BLC' || p.id, %(company)s,
                   DATE '2018-01-01' + MOD(ABS(hashint4(p.id)), 3450), 'active', 0,
                   NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC', 1, 1
              FROM res_partner p
             WHERE p.email LIKE %(pattern)s AND MOD(p.id, 10) = 0
               AND NOT EXISTS (SELECT 1 FROM ds_distributor d WHERE d.partner_id = p.id)
            """,
            company=company_id,
            pattern="bench-lc-%",
        )
    )
    cr.execute(
        "UPDATE ds_distributor SET parent_path = id || '/' WHERE parent_path IS NULL"
    )
    cr.execute(
        """
        UPDATE res_partner p SET ds_distributor_id = d.id
          FROM ds_distributor d WHERE d.partner_id = p.id AND p.ds_distributor_id IS NULL
        """
    )
    # 1 % blacklisted
    cr.execute(
        """
        INSERT INTO mail_blacklist (email, active, create_date, write_date, create_uid, write_uid)
        SELECT p.email_normalized, TRUE, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC', 1, 1
          FROM res_partner p
         WHERE p.email LIKE %s AND MOD(p.id, 100) = 7
        ON CONFLICT DO NOTHING
        """,
        ["bench-lc-%"],
    )
    cr.execute("ANALYZE res_partner")
    cr.execute("ANALYZE ds_distributor")
    cr.commit()
    print(f"built {count - existing} contacts in {time.time() - start:.1f} s")


def bench_lifecycle(env):
    Rule = env["ds.lifecycle.rule"]
    rows = []
    for label, day in (
        ("first run (fills next occurrences)", TODAY),
        ("rerun same day", TODAY),
        ("next day (steady state)", TODAY + datetime.timedelta(days=1)),
    ):
        env.invalidate_all()
        start = time.time()
        done = Rule._cron_lifecycle(today=day)
        elapsed = time.time() - start
        rows.append((label, done, elapsed))
        print(f"lifecycle {label}: {done} occasions, {elapsed:.1f} s")
    return rows


def bench_routing(env, lead_count):
    from odoo.tools import SQL

    cr = env.cr
    fr = env.ref("base.fr")
    Rule = env["ds.lead.routing.rule"]
    Rule.search([]).active = False
    for seq, prefix in enumerate(("75", "69", "13"), start=1):
        Rule.create(
            {
                "name": f"Bench {prefix}",
                "sequence": seq,
                "country_ids": [(6, 0, fr.ids)],
                "zip_prefixes": prefix,
                "max_open_leads": 5,
            }
        )
    Rule.create(
        {
            "name": "Bench France",
            "sequence": 9,
            "country_ids": [(6, 0, fr.ids)],
            "max_open_leads": 5,
        }
    )
    env.flush_all()
    cr.execute(
        SQL(
            """
            INSERT INTO crm_lead (name, type, active, country_id, zip, company_id, partner_id,
                                  create_date, write_date, create_uid, write_uid)
            SELECT 'Bench lead ' || g, 'lead', TRUE, %(fr)s,
                   (ARRAY['75','69','13','33'])[1 + MOD(g, 4)] || LPAD(MOD(g, 997)::text, 3, '0'),
                   %(company)s, NULL, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC', 1, 1
              FROM generate_series(1, %(count)s) g
         RETURNING id
            """,
            fr=fr.id,
            company=env.company.id,
            count=lead_count,
        )
    )
    lead_ids = [row[0] for row in cr.fetchall()]
    leads = env["crm.lead"].browse(lead_ids)
    env.invalidate_all()
    start = time.time()
    routed = leads.action_ds_route()
    elapsed = time.time() - start
    print(f"routing {lead_count} leads: {len(routed)} routed, {elapsed:.1f} s")
    return len(routed), elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--partners", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=10_000)
    args = parser.parse_args(argv)

    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        build_partners(env, args.partners)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        try:
            rows = bench_lifecycle(env)
            routed, routing_time = bench_routing(env, args.leads)
        finally:
            cr.rollback()
    print()
    print(f"| step ({args.partners:,} contacts) | occasions | seconds |")
    print("|---|---:|---:|")
    for label, done, elapsed in rows:
        print(f"| lifecycle cron, {label} | {done} | {elapsed:.1f} |")
    print(f"| routing {args.leads:,} leads | {routed} routed | {routing_time:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
