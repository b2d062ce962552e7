#!/usr/bin/env python3
"""Benchmark: a full bonus run (volume step, ranks, every bonus type) and its posting.

For each size N: a fresh database, N distributors with one posted invoice of 3 lines each
in one month (setup/generate.py), a plan with every bonus type (retail, fast start,
5-level unilevel with compression, rank advancement, 2-generation matching, payout cap,
minimum payout), then, in a separate Odoo process (its peak RSS is reported):

* ``ds.bonus.run.action_compute()`` inline (it runs the volume step first);
  target <= 60 s at 1,000,000 and <= 2 GB peak memory;
* close the period, approve, ``action_post()`` in bills mode (one vendor bill per earner):
  bills per second (target >= 100/s); only for sizes up to --post-max earners' networks;
* a second plan in 'entry' mode (one consolidated journal entry): compute + post time.

    .venv/bin/python tests/benchmarks/bench_bonus.py --config odoo.conf --sizes 10k,100k,1M
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def make_plan(env, name, payout_mode):
    company = env.company
    journal = env["account.journal"].search(
        [
            ("type", "=", "purchase"),
            *env["account.journal"]._check_company_domain(company),
        ],
        limit=1,
    )
    expense = env["account.account"].search(
        [
            ("account_type", "=", "expense"),
            *env["account.account"]._check_company_domain(company),
        ],
        limit=1,
    )
    ranks = env["ds.rank"].search([("company_id", "in", [company.id, False])] if "company_id" in env["ds.rank"]._fields
                                  else [], order="sequence")  # fmt: skip
    vals = {
        "name": name,
        "company_id": company.id,
        "retail_rate": 5.0,
        "fast_start_rate": 10.0,
        "fast_start_days": 30,
        "compression": True,
        "payout_cap_pct": 45.0,
        "min_payout": 5.0,
        "payout_mode": payout_mode,
        "journal_id": journal.id,
        "expense_account_id": expense.id,
        "async_threshold": 0,
        "level_ids": [
            (0, 0, {"level": lvl, "rate": rate})
            for lvl, rate in ((1, 5), (2, 4), (3, 3), (4, 2), (5, 1))
        ],
        "rank_bonus_ids": [
            (0, 0, {"rank_id": r.id, "amount": 50.0 * (i + 1)})
            for i, r in enumerate(ranks[1:])
        ],
        "matching_generation_ids": [
            (0, 0, {"generation": 1, "rate": 10.0}),
            (0, 0, {"generation": 2, "rate": 5.0}),
        ],
    }
    if len(ranks) > 2 and "matching_rank_id" in env["ds.plan"]._fields:
        vals["matching_rank_id"] = ranks[2].id
    vals = {k: v for k, v in vals.items() if k in env["ds.plan"]._fields}
    return env["ds.plan"].create(vals)


def phase_run(args):
    arg = json.loads(args.phase_arg)
    res = {}
    with common.odoo_env(args.config, args.phase_db) as env:
        env = env(context={"ds_bonus_inline": True, "tracking_disable": True})
        period = env["ds.period"].browse(arg["period_id"])
        plan = make_plan(env, "Benchmark plan (bills)", "bills")
        run = env["ds.bonus.run"].create({"period_id": period.id, "plan_id": plan.id})
        env.cr.commit()
        t0 = time.perf_counter()
        run.action_compute()
        env.flush_all()
        res["compute_seconds"] = time.perf_counter() - t0
        env.cr.commit()
        res["compute_peak_rss_mb"] = common.peak_rss_mb()
        res.update(
            lines=run.line_count, earners=run.earner_count, paid_earners=run.paid_earner_count,
            total=run.total_amount, payout_ratio=run.payout_ratio,
        )  # fmt: skip
        t0 = time.perf_counter()
        run.action_compute()  # recompute a computed run: same lines
        env.flush_all()
        res["recompute_seconds"] = time.perf_counter() - t0
        env.cr.commit()
        run.action_approve()
        period.action_close()
        env.cr.commit()
        if arg["post"]:
            t0 = time.perf_counter()
            run.action_post()
            env.flush_all()
            dt = time.perf_counter() - t0
            env.cr.commit()
            res.update(
                post_seconds=dt,
                bills=len(run.move_ids),
                bills_per_second=len(run.move_ids) / dt if dt else 0,
            )
        # consolidated entry on a second plan (the period is closed now: no volume step)
        plan2 = make_plan(env, "Benchmark plan (entry)", "entry")
        run2 = env["ds.bonus.run"].create({"period_id": period.id, "plan_id": plan2.id})
        t0 = time.perf_counter()
        run2.action_compute()
        env.flush_all()
        res["entry_compute_seconds"] = time.perf_counter() - t0
        run2.action_approve()
        t0 = time.perf_counter()
        run2.action_post()
        env.flush_all()
        res["entry_post_seconds"] = time.perf_counter() - t0
        res["entry_payable_lines"] = (
            len(run2.move_ids.line_ids) - 1 if run2.move_ids else 0
        )
        res["entry_lines_per_second"] = (
            res["entry_payable_lines"] / res["entry_post_seconds"]
            if res["entry_post_seconds"]
            else 0
        )
        env.cr.commit()
        res["peak_rss_mb"] = common.peak_rss_mb()
    common.emit(res)


def main():
    parser = common.base_parser(__doc__.split("\n\n")[0], "10k,100k")
    parser.add_argument("--post-max", default="100k",
                        help="post bills only for networks up to this size (default 100k)")  # fmt: skip
    args = parser.parse_args()
    if args.phase == "run":
        return phase_run(args)
    print(f"bench_bonus on {common.machine()}", flush=True)
    template = common.ensure_template(args)
    post_max = common.parse_size(args.post_max)
    for n in common.sizes(args):
        db = f"{args.db}_bonus_{common.human(n).lower()}"
        common.clone_db(args.config, template, db)
        summary = common.generate(args.config, db, n)
        res = common.run_phase(Path(__file__), args, "run", db,
                               {"period_id": summary["period_id"], "post": n <= post_max})  # fmt: skip
        post = (
            f"post {res['bills']} bills in {res['post_seconds']:.1f} s = {res['bills_per_second']:.0f} bills/s"
            if "post_seconds" in res else "bills not posted (--post-max)"
        )  # fmt: skip
        print(
            f"{common.human(n):>5} distributors, {summary['invoice_lines']} lines: generate "
            f"{summary['generate_seconds']:.1f} s (+ vacuum {summary['vacuum_seconds']:.1f} s) | compute {res['compute_seconds']:.1f} s "
            f"(peak RSS {res['compute_peak_rss_mb']:.0f} MB; {res['lines']} lines, {res['earners']} earners, "
            f"total {res['total']:.2f}, payout ratio {res['payout_ratio']:.1f}%) | recompute "
            f"{res['recompute_seconds']:.1f} s | {post} | entry mode: compute {res['entry_compute_seconds']:.1f} s, "
            f"post {res['entry_post_seconds']:.1f} s ({res['entry_payable_lines']} payable lines, "
            f"{res['entry_lines_per_second']:.0f}/s) | peak RSS {res['peak_rss_mb']:.0f} MB",
            flush=True,
        )
        if not args.keep:
            common.drop_db(args.config, db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
