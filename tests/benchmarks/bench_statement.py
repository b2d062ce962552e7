#!/usr/bin/env python3
"""Benchmark: the monthly bonus statement of the top earner (PDF summary and XLSX detail).

For each size N: a fresh database, N distributors with one posted invoice of 3 lines each
in one month (setup/generate.py), the plan of ``bench_bonus.py`` (every bonus type), its run
computed, approved, the period closed and the run posted in bills mode; then, in a separate
Odoo process, for the earner with the most lines (the top earner):

* the PDF statement (``crm_direct_selling.action_report_ds_bonus_statement`` restricted to
  that earner, rendered by wkhtmltopdf as the portal and the back office do): render time,
  size, page count; target <= 2 s and <= 1 MB at 100,000 distributors;
* the XLSX line detail of that earner (``ds.bonus.run._statement_xlsx_bytes``): time, size.

    .venv/bin/python tests/benchmarks/bench_statement.py --config odoo.conf --sizes 100k

``--reuse`` measures again on the databases kept by an earlier ``--keep`` run (after an
``odoo-bin -u crm_direct_selling`` of them, when the report changed).
"""

import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_bonus  # noqa: E402
import common  # noqa: E402

REPORT = "crm_direct_selling.action_report_ds_bonus_statement"


def phase_run(args):
    """Compute, approve and post a run of the benchmark plan; return its id."""
    arg = json.loads(args.phase_arg)
    res = {}
    with common.odoo_env(args.config, args.phase_db) as env:
        env = env(context={"ds_bonus_inline": True, "tracking_disable": True})
        period = env["ds.period"].browse(arg["period_id"])
        plan = bench_bonus.make_plan(env, "Benchmark plan (statement)", "bills")
        run = env["ds.bonus.run"].create({"period_id": period.id, "plan_id": plan.id})
        env.cr.commit()
        t0 = time.perf_counter()
        run.action_compute()
        env.flush_all()
        res["compute_seconds"] = time.perf_counter() - t0
        env.cr.commit()
        run.action_approve()
        period.action_close()
        env.cr.commit()
        t0 = time.perf_counter()
        run.action_post()
        env.flush_all()
        res["post_seconds"] = time.perf_counter() - t0
        env.cr.commit()
        res.update(run_id=run.id, lines=run.line_count, earners=run.earner_count)
    common.emit(res)


def phase_measure(args):
    from odoo.tools import SQL
    from odoo.tools.pdf import PdfFileReader

    arg = json.loads(args.phase_arg)
    res = {}
    odoo = common.odoo_setup(args.config)
    # wkhtmltopdf loads the report's stylesheets over HTTP from report.url: serve them, as a
    # live server would (without them the layout and the page count are not the real ones)
    odoo.tools.config["http_port"] = arg["http_port"]
    odoo.tools.config["dbfilter"] = f"^{args.phase_db}$"
    odoo.service.server.ThreadedServer(odoo.http.root).http_spawn()
    with common.odoo_env(args.config, args.phase_db) as env:
        env["ir.config_parameter"].set_param(
            "report.url", f"http://127.0.0.1:{arg['http_port']}"
        )
        run = env["ds.bonus.run"].browse(arg["run_id"])
        rows = env.execute_query(
            SQL(
                """SELECT distributor_id, COUNT(*), SUM(amount) FROM ds_bonus_line
                   WHERE run_id = %s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""",
                run.id,
            )
        )
        top, nlines, amount = rows[0]
        res.update(top_earner_id=top, top_lines=nlines, top_amount=float(amount))
        report = env.ref(REPORT)
        times = []
        for _i in range(2):  # the first render also loads the assets
            env.invalidate_all()
            t0 = time.perf_counter()
            pdf, ftype = report._render_qweb_pdf(
                report.report_name, [run.id], data={"distributor_ids": [top]}
            )
            times.append(time.perf_counter() - t0)
        res.update(pdf_first_seconds=times[0], pdf_seconds=times[1], pdf_type=ftype)
        res["pdf_bytes"] = len(pdf)
        res["pdf_pages"] = len(PdfFileReader(io.BytesIO(pdf), strict=False).pages)
        if hasattr(run, "_statement_xlsx_bytes"):
            env.invalidate_all()
            t0 = time.perf_counter()
            xlsx = run._statement_xlsx_bytes(env["ds.distributor"].browse(top))
            res["xlsx_seconds"] = time.perf_counter() - t0
            res["xlsx_bytes"] = len(xlsx)
        res["peak_rss_mb"] = common.peak_rss_mb()
    common.emit(res)


def main():
    parser = common.base_parser(__doc__.split("\n\n")[0], "10k,100k")
    parser.add_argument("--http-port", type=int, default=18174,
                        help="port of the HTTP server serving the report assets to wkhtmltopdf")  # fmt: skip
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the databases kept by an earlier --keep run")  # fmt: skip
    args = parser.parse_args()
    if args.phase == "run":
        return phase_run(args)
    if args.phase == "measure":
        return phase_measure(args)
    print(f"bench_statement on {common.machine()}", flush=True)
    template = None
    for n in common.sizes(args):
        db = f"{args.db}_statement_{common.human(n).lower()}"
        if args.reuse and common.db_exists(args.config, db):
            with common.odoo_env(args.config, db) as env:
                run = env["ds.bonus.run"].search([("state", "=", "posted")], limit=1)
                ran = {"run_id": run.id, "lines": run.line_count,
                       "earners": run.earner_count}  # fmt: skip
            gen_txt = "reused database"
        else:
            template = template or common.ensure_template(args)
            common.clone_db(args.config, template, db)
            summary = common.generate(args.config, db, n)
            ran = common.run_phase(Path(__file__), args, "run", db,
                                   {"period_id": summary["period_id"]})  # fmt: skip
            gen_txt = (
                f"generate {summary['generate_seconds']:.1f} s, compute "
                f"{ran['compute_seconds']:.1f} s, post {ran['post_seconds']:.1f} s"
            )
        res = common.run_phase(Path(__file__), args, "measure", db,
                               {"run_id": ran["run_id"], "http_port": args.http_port})  # fmt: skip
        xlsx = (
            f" | XLSX {res['xlsx_bytes'] / 1024:.0f} KB in {res['xlsx_seconds']:.2f} s"
            if "xlsx_seconds" in res
            else ""
        )
        print(
            f"{common.human(n):>5} distributors ({gen_txt}; run {ran['lines']} lines, "
            f"{ran['earners']} earners) | top earner {res['top_earner_id']}: "
            f"{res['top_lines']} lines, {res['top_amount']:.2f} | PDF ({res['pdf_type']}) "
            f"{res['pdf_bytes'] / 1024:.0f} KB, {res['pdf_pages']} pages, "
            f"{res['pdf_seconds']:.2f} s (first {res['pdf_first_seconds']:.2f} s){xlsx} | "
            f"peak RSS {res['peak_rss_mb']:.0f} MB",
            flush=True,
        )
        if not args.keep:
            common.drop_db(args.config, db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
