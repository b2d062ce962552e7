#!/usr/bin/env python3
"""Benchmark: the volume step of one period, and a leader's downline first page.

For each size N: a fresh database (clone of the template), N distributors generated with
one posted invoice of 3 lines each in one month (3N invoice lines), then timed:

* generation (setup/generate.py, set-based SQL);
* ``ds.period.action_compute_volumes()`` of that period (target: <= 30 s at 1,000,000);
* a second run of the same step (recompute of an open period replaces the volumes);
* downline first page: the distributor whose downline is closest to 100,000 members
  (or the biggest one below), first 80 members with their PV/GV (target: <= 100 ms).

    .venv/bin/python tests/benchmarks/bench_volume.py --config odoo.conf --sizes 10k,100k,1M
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

PAGE = 80


def phase_volume(args):
    """Subprocess: time the volume step (twice) and the downline page; print JSON."""
    import json

    arg = json.loads(args.phase_arg)
    period_id = arg["period_id"]
    res = {}
    with common.odoo_env(args.config, args.phase_db) as env:
        period = env["ds.period"].browse(period_id)
        for key in ("volume_seconds", "volume_rerun_seconds"):
            t0 = time.perf_counter()
            period.action_compute_volumes()
            env.flush_all()
            res[key] = time.perf_counter() - t0
            env.cr.commit()
        env.cr.execute(
            "SELECT COUNT(*), COALESCE(SUM(pv), 0), COUNT(*) FILTER (WHERE is_active) FROM ds_volume"
            " WHERE period_id = %s",
            [period_id],
        )
        res["volume_rows"], res["pv_total"], res["active"] = env.cr.fetchone()
        env.cr.execute(
            "SELECT COALESCE(SUM(l.ds_pv), 0) FROM account_move_line l JOIN account_move m ON m.id = l.move_id"
            " WHERE m.ds_period_id = %s AND m.state = 'posted'",
            [period_id],
        )
        res["pv_lines"] = env.cr.fetchone()[0]
        res["peak_rss_mb"] = common.peak_rss_mb()
        res.update(downline_page(env, period, arg["leader_id"]))
    common.emit(res)


def downline_page(env, period, leader_id):
    """First page (80) of a leader's downline (level, then code) with PV/GV: the page through
    ds.distributor.get_downline_page(), then the volumes and the fields of the 80 rows."""
    Distributor = env["ds.distributor"]
    leader = Distributor.browse(leader_id)
    timings = []
    for _i in range(5):
        env.invalidate_all()
        t0 = time.perf_counter()
        page = leader.get_downline_page(limit=PAGE)
        vols = env["ds.volume"].search_read(
            [("period_id", "=", period.id), ("distributor_id", "in", page.ids)],
            ["distributor_id", "pv", "gv"],
        )
        rows = page.read(["code", "name", "depth", "sponsor_id", "rank_id"])
        timings.append(time.perf_counter() - t0)
    return {
        "page_rows": len(rows),
        "page_volumes": len(vols),
        "downline_page_ms_first": timings[0] * 1000,
        "downline_page_ms_best": min(timings) * 1000,
    }


def main():
    parser = common.base_parser(__doc__.split("\n\n")[0], "10k,100k")
    args = parser.parse_args()
    if args.phase == "volume":
        return phase_volume(args)
    print(f"bench_volume on {common.machine()}", flush=True)
    template = common.ensure_template(args)
    results = []
    for n in common.sizes(args):
        db = f"{args.db}_vol_{common.human(n).lower()}"
        common.clone_db(args.config, template, db)
        summary = common.generate(args.config, db, n)
        res = common.run_phase(
            Path(__file__),
            args,
            "volume",
            db,
            {"period_id": summary["period_id"], "leader_id": summary["leader_id"]},
        )
        res.update(leader_downline=summary["leader_downline"])
        res.update(
            n=n,
            lines=summary["invoice_lines"],
            generate_seconds=summary["generate_seconds"],
        )
        results.append(res)
        print(
            f"{common.human(n):>5} distributors, {res['lines']:>9} invoice lines: "
            f"generate {res['generate_seconds']:7.1f} s | volume step {res['volume_seconds']:7.2f} s "
            f"(rerun {res['volume_rerun_seconds']:.2f} s, {res['volume_rows']} volumes, "
            f"PV {res['pv_total']} = lines {res['pv_lines']}) | peak RSS {res['peak_rss_mb']:.0f} MB | "
            f"downline page (leader {res['leader_downline']} members, {res['page_rows']} rows): "
            f"{res['downline_page_ms_first']:.1f} ms first, {res['downline_page_ms_best']:.1f} ms best",
            flush=True,
        )
        if not args.keep:
            common.drop_db(args.config, db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
