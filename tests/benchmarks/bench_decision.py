#!/usr/bin/env python3
"""Benchmark of the decision models (issue 16): uplift training and scoring, lifetime value
(BG/NBD + Gamma-Gamma) fit and scoring, the next-best-product table.

Not a test: like ``bench_analytics.py`` it connects to an existing database where
crm_direct_selling_analytics is installed, generates N customers with a purchase history
set-based in SQL inside one transaction, times each step, prints where the time goes and
rolls back (unless --keep).

Targets at 1,000,000 partners: uplift training <= 5 min and scoring <= 60 s; lifetime
value fit and scoring <= 2 min; next-best-product table <= 2 min.

    createdb -T <a database with the three addons installed> ds_bench_decision
    .venv/bin/python tests/benchmarks/bench_decision.py ds_bench_decision -c odoo.conf --partners 100000

Data (md5 of the partner id, reproducible): each partner buys on 1 to 6 days over the last
720 days (a share of them stop early, so the lifetime model has lapsed customers), each
invoice has 1 to 3 lines of 40 products drawn from 8 baskets (so co-purchases exist). A
finished campaign over every partner (50 % control, 60 to 31 days ago) gets an injected
effect: target members who spent more than the median before buy 40 more with probability
0.5. The uplift model trains on it and scores every partner who bought in two years.
"""

import argparse
import contextlib
import os
import sys
import time
from collections import defaultdict
from datetime import date, timedelta

TAG = "ds-bench-decision"
N_PRODUCTS = 40


def timed(label, fn, figures):
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    figures.append((label, seconds))
    print(f"  {label:<58} {seconds:8.2f} s", flush=True)
    return result


class Profile:
    """Accumulated wall time of chosen functions (patched for the run), to say where the
    time of one step goes."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self._patches = []

    def wrap(self, owner, name, label=None):
        original = getattr(owner, name)
        label = label or name

        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0
                self.calls[label] += 1

        setattr(owner, name, wrapper)
        self._patches.append((owner, name, original))

    @contextlib.contextmanager
    def section(self):
        self.seconds.clear()
        self.calls.clear()
        yield self
        for label, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            print(f"      {label:<54} {seconds:8.2f} s ({self.calls[label]} calls)")

    def restore(self):
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "db", help="database with crm_direct_selling_analytics installed"
    )
    parser.add_argument("--config", "-c", default=os.environ.get("ODOO_RC"))
    parser.add_argument("--partners", type=int, default=10000)
    parser.add_argument("--keep", action="store_true", help="commit the generated data")
    args = parser.parse_args()

    import numpy as np

    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import SQL, config

    config.parse_config((["-c", args.config] if args.config else []) + ["--no-http"])
    registry = odoo.modules.registry.Registry(args.db)
    from odoo.addons.crm_direct_selling_analytics.models import (
        ds_clv_model,
        ds_uplift_model,
    )
    from odoo.addons.crm_direct_selling_analytics.tools import clv, uplift

    n = args.partners
    figures = []
    print(
        f"bench_decision: {n} partners, db {args.db}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    profile = Profile()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env.company
        company.write({"ds_holdout_pct": 0.0, "ds_decision_async_threshold": -1})
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        if not journal:
            sys.exit(
                "no sale journal in this company: install a chart of accounts first"
            )
        account = journal.default_account_id or env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        today = date.today()
        tag = f"{TAG}-{int(time.time())}"
        products = env["product.product"].create(
            [
                {"name": f"Bench product {i}", "list_price": 10.0 + i}
                for i in range(N_PRODUCTS)
            ]
        )
        env.flush_all()

        def h(expr, salt):
            return SQL(
                "(('x' || substr(md5(%s || (%s)::text), 1, 8))::bit(32)::int & 2147483647)",
                salt,
                expr,
            )

        def gen_partners():
            cr.execute(
                SQL(
                    """INSERT INTO res_partner (name, complete_name, ref, email, active, type,
                                               autopost_bills, is_company, company_id,
                                               create_date, write_date)
                       SELECT 'Bench ' || g, 'Bench ' || g, %(tag)s, 'bench' || g || '@example.com',
                              TRUE, 'contact', 'ask', FALSE, %(company)s, now(), now()
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

        def gen_moves():
            # purchase days: 1 to 6 per partner, every ~ (30..150) days from a first day
            # 200..720 days ago; a third of the partners stop after 1..3 purchases
            cr.execute(
                SQL(
                    """CREATE TEMP TABLE bench_days AS
                       SELECT p.id AS pid, k,
                              %(today)s::date - (200 + mod(%(hf)s, 521))
                                  + (k - 1) * (30 + mod(%(hg)s, 121)) AS d,
                              (15 + mod(%(ha)s, 150))::numeric AS amount
                         FROM res_partner p CROSS JOIN generate_series(1, 6) k
                        WHERE p.ref = %(tag)s
                          AND k <= 1 + mod(%(hn)s, 6)
                          AND (mod(%(hs)s, 3) > 0 OR k <= 1 + mod(%(hn)s, 3))""",
                    today=today,
                    hf=h(SQL("p.id"), "f"),
                    hg=h(SQL("p.id"), "g"),
                    ha=h(SQL("p.id * 11 + k"), "a"),
                    hn=h(SQL("p.id"), "n"),
                    hs=h(SQL("p.id"), "s"),
                    tag=tag,
                )
            )
            cr.execute(SQL("DELETE FROM bench_days WHERE d > %s", today))
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM account_move")
            last_move = cr.fetchone()[0]
            cr.execute(
                SQL(
                    """INSERT INTO account_move (journal_id, company_id, currency_id, state, move_type,
                                                auto_post, date, invoice_date, partner_id,
                                                commercial_partner_id, amount_untaxed,
                                                amount_untaxed_signed, amount_total,
                                                amount_total_signed, ds_pv_total)
                       SELECT %(journal)s, %(company)s, %(currency)s, 'posted', 'out_invoice', 'no',
                              d, d, pid, pid, amount, amount, amount, amount, amount / 10
                         FROM bench_days ORDER BY pid, d""",
                    journal=journal.id,
                    company=company.id,
                    currency=company.currency_id.id,
                )
            )
            cr.execute("ANALYZE res_partner")
            cr.execute("ANALYZE account_move")
            # 1 to 3 lines per invoice from the partner's basket of 5 products (8 baskets)
            cr.execute(
                SQL(
                    """INSERT INTO account_move_line (move_id, journal_id, company_id, currency_id,
                                                     company_currency_id, partner_id, date,
                                                     parent_state, display_type, product_id,
                                                     quantity, price_unit, price_subtotal,
                                                     balance, amount_currency, account_id)
                       SELECT m.id, m.journal_id, m.company_id, m.currency_id, m.currency_id,
                              m.partner_id, m.date, 'posted', 'product',
                              (%(products)s::int[])[1 + mod(%(hb)s, 8) * 5 + mod(%(hp)s, 5)],
                              1, m.amount_untaxed, m.amount_untaxed, -m.amount_untaxed,
                              -m.amount_untaxed, %(account)s
                         FROM account_move m CROSS JOIN generate_series(1, 3) j
                        WHERE m.id > %(last_move)s AND j <= 1 + mod(%(hj)s, 3)""",
                    products=products.ids,
                    account=account.id,
                    hb=h(SQL("m.partner_id"), "b"),
                    hp=h(SQL("m.id * 3 + j"), "p"),
                    hj=h(SQL("m.id"), "j"),
                    last_move=last_move,
                )
            )
            cr.execute("SELECT COUNT(*) FROM bench_days")
            print(f"    {cr.fetchone()[0]} invoices")
            cr.execute("ANALYZE res_partner")
            cr.execute("ANALYZE account_move")
            cr.execute("ANALYZE account_move_line")

        print("data generation", flush=True)
        # as the data generator does: no foreign-key trigger per generated row (ids are
        # consistent by construction; superuser only), back on for the measured steps
        cr.execute("SET LOCAL session_replication_role = replica")
        timed(f"{n} partners (SQL)", gen_partners, figures)
        timed("invoices and lines (SQL) + ANALYZE", gen_moves, figures)
        cr.execute("SET LOCAL session_replication_role = origin")
        timed(
            "RFM quintiles (features of the models)",
            lambda: env["ds.partner.rfm"]._refresh_company(company),
            figures,
        )

        print("finished campaign (training data of the uplift model)", flush=True)
        segment = env["ds.segment"].create(
            {"name": "Bench decision", "domain": repr([("ref", "=", tag)])}
        )
        timed("segment refresh", segment.action_refresh, figures)
        start = today - timedelta(days=60)
        campaign = env["ds.campaign"].create(
            {
                "name": "Bench decision campaign",
                "segment_id": segment.id,
                "seed": "bench-decision",
                "control_pct": 50.0,
                "stratify": False,
                "date_start": start,
                "date_end": start + timedelta(days=29),
            }
        )
        timed("assignment", campaign.action_assign, figures)
        campaign.action_launch()

        def inject():
            # baseline buying in the window for 30 % of everyone, +40 for half of the
            # target members who spent more than 80 before
            cr.execute(
                SQL(
                    """INSERT INTO account_move (journal_id, company_id, currency_id, state, move_type,
                                                auto_post, date, invoice_date, partner_id,
                                                commercial_partner_id, amount_untaxed,
                                                amount_untaxed_signed, amount_total,
                                                amount_total_signed, ds_pv_total)
                       SELECT %(journal)s, %(company)s, %(currency)s, 'posted', 'out_invoice', 'no',
                              %(d)s, %(d)s, m.partner_id, m.partner_id, a.amount, a.amount,
                              a.amount, a.amount, a.amount / 10
                         FROM ds_campaign_member m
                         CROSS JOIN LATERAL (
                             SELECT (CASE WHEN mod(%(hb)s, 10) < 3 THEN 10 + mod(%(hv)s, 60) ELSE 0 END
                                     + CASE WHEN m."group" = 'target' AND mod(%(he)s, 2) = 0
                                             AND (SELECT COALESCE(SUM(am.amount_untaxed_signed), 0)
                                                    FROM account_move am
                                                   WHERE am.partner_id = m.partner_id
                                                     AND am.invoice_date < %(start)s
                                                     AND am.invoice_date >= %(start)s::date - 365) > 80
                                            THEN 40 ELSE 0 END)::numeric AS amount
                         ) a
                        WHERE m.campaign_id = %(c)s AND a.amount > 0""",
                    journal=journal.id,
                    company=company.id,
                    currency=company.currency_id.id,
                    d=start + timedelta(days=10),
                    start=start,
                    c=campaign.id,
                    hb=h(SQL("m.partner_id"), "base"),
                    hv=h(SQL("m.partner_id"), "v"),
                    he=h(SQL("m.partner_id"), "e"),
                )
            )
            cr.execute("ANALYZE account_move")

        timed("inject campaign effect (SQL)", inject, figures)
        timed("measurement (campaign done)", campaign.action_measure, figures)
        print(
            f"    {campaign.target_count} target, {campaign.control_count} control, "
            f"uplift/member {campaign.uplift_revenue_per_member:.2f}, state {campaign.state}"
        )
        cr.execute("CHECKPOINT")

        # where the time goes
        Uplift = type(env["ds.uplift.model"])
        Clv = type(env["ds.clv.model"])
        profile.wrap(Uplift, "_feature_columns", "uplift: feature read (SQL -> numpy)")
        profile.wrap(
            Uplift, "_scoring_feature_columns", "uplift: scoring features (one pass)"
        )
        profile.wrap(uplift, "fit_transformed_outcome", "uplift: ridge fits")
        profile.wrap(uplift, "qini", "uplift: held-out Qini curve")
        profile.wrap(uplift, "qini_gain_interval", "uplift: bootstrap interval (400)")
        profile.wrap(ds_uplift_model, "write_columns", "binary COPY of the scores")
        profile.wrap(
            Clv, "_summaries", "clv: summaries, whole and held-out (SQL -> numpy)"
        )
        profile.wrap(clv, "bgnbd_fit", "clv: BG/NBD fit")
        profile.wrap(clv, "gamma_gamma_fit", "clv: Gamma-Gamma fit")
        profile.wrap(clv, "bgnbd_expected", "clv: expected purchases")
        profile.wrap(ds_clv_model, "write_columns", "binary COPY of the scores")

        print("uplift model", flush=True)
        model = env["ds.uplift.model"].create(
            {"name": "Bench uplift", "campaign_ids": [(6, 0, campaign.ids)]}
        )
        with profile.section():
            timed(
                "uplift: training, held-out Qini, scoring (_train)",
                model._train,
                figures,
            )
        print(
            f"    {model.sample_size} trained + {model.test_size} held out, Qini gain "
            f"{model.qini_gain:.1f} [{model.qini_gain_low:.1f}, {model.qini_gain_high:.1f}], "
            f"trustworthy {model.trustworthy}, {model.score_count} partners scored"
        )
        final = uplift.fit_transformed_outcome(*_training_arrays(model, campaign))
        with profile.section():
            timed(
                "uplift: scoring alone (_score)", lambda: model._score(final), figures
            )
        # the one-pass scoring features equal those of the population query used before
        __, old_partners, __, __, __, old_X = _scoring_features_before(model, today)
        __, new_partners, __, __, __, new_X = model._scoring_feature_columns(
            company, today
        )
        same = np.array_equal(old_partners, new_partners) and np.array_equal(
            old_X, new_X
        )
        print(
            "    scoring features identical to the former population query: "
            f"{same} ({len(new_partners)} partners)"
        )

        print("lifetime value", flush=True)
        clv_model = env["ds.clv.model"].create({"name": "Bench CLV"})
        with profile.section():
            timed(
                "lifetime value: calibrate, fit, score (_train)",
                clv_model._train,
                figures,
            )
        print(
            f"    {clv_model.sample_size} partners scored, {clv_model.repeat_buyers} repeat "
            f"buyers, held-out total error {clv_model.calibration_error_pct:.1f}%, "
            f"calibrated {clv_model.calibrated}"
        )

        print("next best products", flush=True)
        timed(
            "next-best-product table (_compute_company)",
            lambda: env["ds.partner.recommendation"]._compute_company(company),
            figures,
        )
        cr.execute(
            "SELECT COUNT(*), COUNT(DISTINCT partner_id) FROM ds_partner_recommendation "
            "WHERE company_id = %s",
            [company.id],
        )
        rows, partners = cr.fetchone()
        print(f"    {rows} recommendations for {partners} partners")
        profile.restore()
        if args.keep:
            cr.commit()
            print("data kept (committed)")
        else:
            cr.rollback()
            print("rolled back")


def _scoring_features_before(model, today):
    """The scoring features as read before the one-pass query (population of recent
    buyers joined to every invoice again)."""
    from odoo.tools import SQL

    from odoo.addons.crm_direct_selling_analytics.tools.sqlparts import partner_moves

    company = model.company_id
    return model._feature_columns(
        company,
        SQL(
            """
            SELECT b.partner_id AS key, b.partner_id, %(today)s::date AS ref_date,
                   d.rank_id, r.rfm_band, d.id IS NOT NULL AS is_distributor,
                   NULL::bool AS treated, NULL::float8 AS y, NULL::int AS campaign_id
              FROM (SELECT DISTINCT pm.partner_id FROM (%(recent)s) pm) b
              JOIN res_partner p ON p.id = b.partner_id
         LEFT JOIN ds_distributor d ON d.id = p.ds_distributor_id
         LEFT JOIN ds_partner_rfm r ON r.partner_id = b.partner_id
                                  AND r.company_id = %(company)s
            """,
            today=today,
            recent=partner_moves(company.id, today.replace(year=today.year - 2), today),
            company=company.id,
        ),
        today,
    )


def _training_arrays(model, campaign):
    """The training arrays of the final fit, read again (for timing scoring alone)."""
    import numpy as np

    from odoo.tools import SQL

    __, __, treated, y, campaign_of, X = model._feature_columns(
        model.company_id,
        SQL(
            """SELECT cm.id AS key, cm.partner_id, c.date_start AS ref_date, cm.rank_id,
                      cm.rfm_band, FALSE AS is_distributor, cm."group" = 'target' AS treated,
                      COALESCE(cm.revenue, 0)::float8 AS y, c.id AS campaign_id
                 FROM ds_campaign_member cm JOIN ds_campaign c ON c.id = cm.campaign_id
                WHERE cm.campaign_id = %s""",
            campaign.id,
        ),
        campaign.date_start,
    )
    p = np.full(len(y), treated.mean())
    return X, y, treated, p


if __name__ == "__main__":
    main()
