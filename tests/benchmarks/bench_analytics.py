#!/usr/bin/env python3
"""Benchmark of crm_direct_selling_analytics: RFM, segment refresh, campaign assignment, measurement.

Not a test: it connects to an existing database where crm_direct_selling_analytics is installed,
generates N customers and their posted invoices set-based in SQL (inside one transaction), times
each step and prints the figures. The transaction is rolled back at the end unless --keep.

Targets (issue 5): segment refresh and RFM for 1,000,000 partners <= 30 s; campaign assignment of
1,000,000 members <= 20 s; measurement <= 20 s. Decision models (issue 16): lifetime-value
training and scoring, programme holdout, next best products (figures only).

    .venv/bin/python tests/benchmarks/bench_analytics.py ds_bench -c odoo.conf --partners 1000000

Data: N partners (customers), --invoices-per-partner posted invoices each (default 2) spread over
the last 360 days with pseudo-random amounts (md5 of the partner id, reproducible), then, after
the assignment, an injected campaign effect: 30% of the target members buy 40 more in the window.
"""

import argparse
import os
import sys
import time
from datetime import date, timedelta

TAG = "ds-bench-analytics"


def timed(label, fn, figures):
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    figures.append((label, seconds))
    print(f"  {label:<52} {seconds:8.2f} s", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "db", help="database with crm_direct_selling_analytics installed"
    )
    parser.add_argument(
        "--config",
        "-c",
        default=os.environ.get("ODOO_RC"),
        help="Odoo configuration file",
    )
    parser.add_argument(
        "--partners", type=int, default=10000, help="number of partners (default 10000)"
    )
    parser.add_argument("--invoices-per-partner", type=int, default=2)
    parser.add_argument("--control-pct", type=float, default=10.0)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="commit the generated data instead of rolling back",
    )
    args = parser.parse_args()

    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import SQL, config

    config.parse_config((["-c", args.config] if args.config else []) + ["--no-http"])
    registry = odoo.modules.registry.Registry(args.db)
    n = args.partners
    figures = []
    print(
        f"bench_analytics: {n} partners, {args.invoices_per_partner} invoices each, db {args.db}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env.company
        company.write({"ds_holdout_pct": 0.0})
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        if not journal:
            sys.exit(
                "no sale journal in this company: install a chart of accounts first"
            )
        today = date.today()
        tag = f"{TAG}-{int(time.time())}"

        def gen_partners():
            cr.execute(
                SQL(
                    """INSERT INTO res_partner (name, complete_name, ref, email, active, type, autopost_bills,
                                            is_company, company_id, create_date, write_date)
                   SELECT 'Bench ' || g, 'Bench ' || g, %(tag)s, 'bench' || g || '@example.com', TRUE, 'contact',
                          'ask', FALSE, %(company)s, now(), now()
                     FROM generate_series(1, %(n)s) g""",
                    tag=tag,
                    company=company.id,
                    n=n,
                )
            )
            cr.execute(
                SQL(
                    "UPDATE res_partner SET commercial_partner_id = id WHERE ref = %s",
                    tag,
                )
            )

        def h(expr, salt):
            # reproducible pseudo-random integer in [0, 2^31) from md5(salt || partner id)
            return SQL(
                "(('x' || substr(md5(%s || (%s)::text), 1, 8))::bit(32)::int & 2147483647)",
                salt,
                expr,
            )

        def gen_moves():
            cr.execute(
                SQL(
                    """INSERT INTO account_move (journal_id, company_id, currency_id, state, move_type, auto_post, date,
                                             invoice_date, partner_id, commercial_partner_id, amount_untaxed,
                                             amount_untaxed_signed, amount_total, amount_total_signed, ds_pv_total)
                   SELECT %(journal)s, %(company)s, %(currency)s, 'posted', 'out_invoice', 'no',
                          %(today)s::date - (mod(%(hd)s, 360)), %(today)s::date - (mod(%(hd)s, 360)), p.id, p.id,
                          20 + mod(%(ha)s, 200), 20 + mod(%(ha)s, 200), 20 + mod(%(ha)s, 200), 20 + mod(%(ha)s, 200),
                          (20 + mod(%(ha)s, 200)) / 10.0
                     FROM res_partner p CROSS JOIN generate_series(1, %(k)s) k
                    WHERE p.ref = %(tag)s""",
                    journal=journal.id,
                    company=company.id,
                    currency=company.currency_id.id,
                    today=today,
                    hd=h(SQL("p.id * 7 + k"), "d"),
                    ha=h(SQL("p.id * 13 + k"), "a"),
                    k=args.invoices_per_partner,
                    tag=tag,
                )
            )
            cr.execute("ANALYZE res_partner")
            cr.execute("ANALYZE account_move")

        print("data generation", flush=True)
        timed(f"{n} partners (SQL)", gen_partners, figures)
        timed(
            f"{n * args.invoices_per_partner} posted invoices (SQL) + ANALYZE",
            gen_moves,
            figures,
        )

        print("RFM and segment", flush=True)
        rfm = timed(
            "RFM quintiles (ds.partner.rfm refresh)",
            lambda: env["ds.partner.rfm"]._refresh_company(company),
            figures,
        )
        print(f"    {rfm['rows']} RFM rows")
        segment = env["ds.segment"].create(
            {
                "name": "Bench segment",
                "domain": repr([("ref", "=", tag)]),
                "partner_type": "customer",
                "r_score_min": 2,
            }
        )
        timed(
            "segment refresh (domain + RFM criterion)", segment.action_refresh, figures
        )
        print(f"    {segment.member_count} members")
        segment.invalidate_recordset(["preview_count"])
        timed("segment preview count", lambda: segment.preview_count, figures)
        figures.append(("RFM + segment refresh", figures[-3][1] + figures[-2][1]))
        print(
            f"  {'=> RFM + segment refresh':<52} {figures[-1][1]:8.2f} s   (target <= 30 s at 1M)"
        )

        print("campaign", flush=True)
        campaign = env["ds.campaign"].create(
            {
                "name": "Bench campaign",
                "segment_id": segment.id,
                "seed": "bench",
                "control_pct": args.control_pct,
                "date_start": today - timedelta(days=29),
                "date_end": today,
                "cost": 1000.0,
            }
        )
        timed(
            "assignment + power preview (action_assign)",
            campaign.action_assign,
            figures,
        )
        print(
            f"  {'=> assignment only (stratified, SQL)':<52} {campaign.assign_seconds:8.2f} s   "
            f"(target <= 20 s at 1M)"
        )
        print(
            f"    target {campaign.target_count}, control {campaign.control_count}, "
            f"MDE revenue/member {campaign.mde_revenue:.2f}"
        )
        campaign.action_launch()

        def inject():
            cr.execute(
                SQL(
                    """INSERT INTO account_move (journal_id, company_id, currency_id, state, move_type, auto_post, date,
                                             invoice_date, partner_id, commercial_partner_id, amount_untaxed,
                                             amount_untaxed_signed, amount_total, amount_total_signed, ds_pv_total)
                   SELECT %(journal)s, %(company)s, %(currency)s, 'posted', 'out_invoice', 'no', %(d)s, %(d)s,
                          m.partner_id, m.partner_id, 40, 40, 40, 40, 4
                     FROM ds_campaign_member m
                    WHERE m.campaign_id = %(c)s AND m."group" = 'target' AND mod(%(hu)s, 10) < 3""",
                    journal=journal.id,
                    company=company.id,
                    currency=company.currency_id.id,
                    d=today - timedelta(days=10),
                    c=campaign.id,
                    hu=h(SQL("m.partner_id"), "u"),
                )
            )
            cr.execute("ANALYZE account_move")

        timed("inject campaign effect (SQL)", inject, figures)
        timed("measurement (action_measure)", campaign.action_measure, figures)
        print(
            f"    uplift/member {campaign.uplift_revenue_per_member:.3f} "
            f"[{campaign.uplift_ci_low:.3f}, {campaign.uplift_ci_high:.3f}] (true 12.0), "
            f"p {campaign.p_value:.2e}, SRM p {campaign.srm_p_value:.3f}, verdict {campaign.verdict}"
        )
        campaign.use_cuped = True
        timed("measurement with CUPED", campaign.action_measure, figures)
        print(
            f"    CUPED uplift/member {campaign.uplift_revenue_per_member:.3f} "
            f"[{campaign.uplift_ci_low:.3f}, {campaign.uplift_ci_high:.3f}]"
        )

        print("reports", flush=True)
        summary = timed(
            "Pareto summary (top-20% share, Gini)",
            env["ds.report.pareto"].get_summary,
            figures,
        )
        print(
            f"    top-20% share {summary['top20_share']:.1f}%, Gini {summary['gini']:.3f}"
        )
        timed(
            "churn risk: high-risk count",
            lambda: env["ds.report.churn"].search_count([("risk", "=", "high")]),
            figures,
        )
        timed(
            "campaign response by group (read_group)",
            lambda: env["ds.report.campaign.response"]._read_group(
                [("campaign_id", "=", campaign.id)], ["group"], ["revenue:sum"]
            ),
            figures,
        )

        print("decision models", flush=True)
        clv_model = env["ds.clv.model"].create({"name": "Bench CLV"})
        timed(
            "lifetime value: calibrate, fit, score (ds.clv.model)",
            clv_model._train,
            figures,
        )
        print(
            f"    {clv_model.sample_size} partners scored, {clv_model.repeat_buyers} repeat "
            f"buyers, held-out total error {clv_model.calibration_error_pct:.1f}%"
        )
        company.ds_holdout_pct = 10.0
        holdout = env["ds.holdout.measurement"].create(
            {"date_from": today - timedelta(days=29), "date_to": today}
        )
        timed("programme holdout measurement", holdout._measure, figures)
        print(
            f"    holdout {holdout.holdout_count}, reachable {holdout.exposed_count}, "
            f"uplift/member {holdout.uplift_revenue_per_member:.3f}"
        )
        timed(
            "next best products (no invoice lines in this data)",
            lambda: env["ds.partner.recommendation"]._compute_company(company),
            figures,
        )

        if args.keep:
            cr.commit()
            print("data kept (committed)")
        else:
            cr.rollback()
            print("rolled back")


if __name__ == "__main__":
    main()
