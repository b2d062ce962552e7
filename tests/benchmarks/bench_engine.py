#!/usr/bin/env python3
"""Benchmark: where the bonus engine's time goes, step by step, and the volume step against
the plain SQL floor.

For each size N: a database with N distributors, one posted invoice of 3 lines each in one
month (the network of bench_bonus.py; ``--reuse`` measures again on the database kept by an
earlier ``--keep`` run), then two measurements, each in its own Odoo process (peak RSS
reported) and in one transaction rolled back at the end (the database stays as generated, so
it can be measured again with other code; the tables are vacuumed before each):

1. ``ds.bonus.run.action_compute()`` of the bench_bonus.py plan (every bonus type; its 45 %
   payout cap does not bind), the volume step included (first compute of the period), then
   the SQL floor of the volume step: the period's PV aggregated per distributor from the
   invoices (one query), then the group volume of the same tree level by level (one INSERT
   per depth, deepest first, in plain SQL, no ranks), timed in the same process; the ratio
   volume step / floor is printed;
2. the same plan with a binding payout cap (``--cap-pct``, default 15 % of the period BV),
   volume step included.

Per step of the engine (snapshot, each registered step, cap, finalize) the seconds, and
inside each step its statements above 10 ms (``--statements``); the volume step's phases are
its own log line. A fingerprint of the lines (count, sum, md5 of the ordered rows) shows
that two versions of the code give the same cents. ``--explain MS`` prints the EXPLAIN
(ANALYZE, BUFFERS) of every statement above MS milliseconds (auto_explain, nested statements
included).

    .venv/bin/python tests/benchmarks/bench_engine.py --config odoo.conf --sizes 100k --keep
    .venv/bin/python tests/benchmarks/bench_engine.py --config odoo.conf --sizes 100k --reuse
"""

import datetime
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

FLOOR_SQL = """
CREATE TEMP TABLE ds_floor_t ON COMMIT DROP AS
  WITH pv AS (
    SELECT am.ds_distributor_id AS did, SUM(am.ds_pv_total) AS pv
      FROM account_move am
     WHERE am.ds_period_id = %(period)s AND am.state = 'posted'
       AND am.move_type IN ('out_invoice', 'out_refund') AND am.ds_distributor_id IS NOT NULL
     GROUP BY am.ds_distributor_id)
  SELECT d.id, d.sponsor_id, d.depth, COALESCE(pv.pv, 0) AS pv
    FROM ds_distributor d LEFT JOIN pv ON pv.did = d.id
   WHERE d.company_id = %(company)s;
CREATE INDEX ON ds_floor_t (depth);
ANALYZE ds_floor_t;
CREATE TEMP TABLE ds_floor_gv (id int, sponsor_id int, depth int, gv numeric) ON COMMIT DROP;
CREATE INDEX ON ds_floor_gv (depth);
DO $f$
DECLARE lvl int;
BEGIN
  FOR lvl IN SELECT DISTINCT depth FROM ds_floor_t ORDER BY depth DESC LOOP
    EXECUTE $q$
      INSERT INTO ds_floor_gv
      SELECT t.id, t.sponsor_id, t.depth, t.pv + COALESCE(c.gv, 0)
        FROM ds_floor_t t
   LEFT JOIN (SELECT sponsor_id, SUM(gv) AS gv FROM ds_floor_gv WHERE depth = $1 + 1
               GROUP BY sponsor_id) c ON c.sponsor_id = t.id
       WHERE t.depth = $1 $q$ USING lvl;
  END LOOP;
END $f$;
SELECT COUNT(*), SUM(gv) FILTER (WHERE sponsor_id IS NULL) FROM ds_floor_gv;
"""


def install_timers(env, record):
    """Time the engine's snapshot, each registered step, the cap and the final write, and
    (``record['statements']``) each SQL statement they run."""
    import odoo

    from odoo.addons.crm_direct_selling import engine
    from odoo.addons.crm_direct_selling.engine import registry

    current = {"step": None}
    cursor_cls = odoo.sql_db.Cursor
    orig_execute = cursor_cls.execute

    def execute(self, query, params=None, log_exceptions=True):
        if current["step"] is None:
            return orig_execute(self, query, params, log_exceptions)
        t0 = time.perf_counter()
        try:
            return orig_execute(self, query, params, log_exceptions)
        finally:
            dt = time.perf_counter() - t0
            if dt >= 0.01:
                text = query.code if hasattr(query, "code") else str(query)
                head = " ".join(text.split())[:90]
                record["statements"].append((current["step"], round(dt, 3), head))

    cursor_cls.execute = execute

    def timed(label, func):
        def wrapper(*a, **kw):
            current["step"] = label
            t0 = time.perf_counter()
            try:
                return func(*a, **kw)
            finally:
                record["steps"].append((label, time.perf_counter() - t0))
                current["step"] = None

        return wrapper

    engine.prepare = timed("snapshot", engine.prepare)
    engine.apply_cap = timed("cap", engine.apply_cap)
    engine.write_lines = timed("finalize", engine.write_lines)
    for key, step in list(registry._STEPS.items()):
        registry._STEPS[key] = step._replace(func=timed(key, step.func))


class VolumeLog(logging.Handler):
    def __init__(self, record):
        super().__init__(logging.INFO)
        self.record = record

    def emit(self, rec):
        msg = rec.getMessage()
        if "computed in" in msg:
            self.record["volume_log"].append(msg)


def fingerprint(cr, run_id):
    cr.execute(
        """SELECT COUNT(*), SUM(amount), SUM(amount) FILTER (WHERE NOT carried_forward),
                  md5(string_agg(concat_ws(',', distributor_id, bonus_type,
                      source_distributor_id, level, base, rate, amount, carried_forward,
                      origin_line_id), ';' ORDER BY distributor_id, bonus_type,
                      source_distributor_id, level, amount))
             FROM ds_bonus_line WHERE run_id = %s""",
        [run_id],
    )
    n, total, paid, digest = cr.fetchone()
    return {"lines": n, "sum": str(total), "paid": str(paid), "md5": digest}


def binary_plan(env):
    """Binary + unilevel + matching (matching on unilevel and binary earnings): the bench_bonus
    plan without retail, fast start, rank bonuses and payout cap, plus a binary pairing of 10 %
    of the weak leg (carry capped at 5,000, flushed after 3 inactive periods), made the
    company's placement plan as a company paying binary would."""
    import bench_bonus

    plan = bench_bonus.make_plan(env, "Engine benchmark plan (binary)", "bills")
    plan.rank_bonus_ids.unlink()
    plan.write(
        {
            "retail_rate": 0.0,
            "fast_start_rate": 0.0,
            "placement_type": "binary",
            "placement_rule": "first_open",
            "holding_days": 0,
            "binary_rate": 10.0,
            "binary_carry_max": 5000.0,
            "binary_flush_periods": 3,
            # no payout cap: the binding cap is measured by the "cap" variant
            "payout_cap_pct": 0.0,
        }
    )
    env.company.ds_placement_plan_id = plan
    env.flush_all()
    return plan


def measure_run(env, plan, period, record):
    record["steps"], record["statements"], record["volume_log"] = [], [], []
    run = env["ds.bonus.run"].create({"period_id": period.id, "plan_id": plan.id})
    env.flush_all()
    t0 = time.perf_counter()
    run.action_compute()
    env.flush_all()
    total = time.perf_counter() - t0
    steps = list(record["steps"])
    engine_seconds = sum(s for _, s in steps)
    res = {
        "seconds": total,
        "engine_seconds": engine_seconds,
        "steps": steps,
        "statements": list(record["statements"]),
        "volume_log": list(record["volume_log"]),
        "cap_factor": run.cap_factor,
        "earners": run.earner_count,
        "total": run.total_amount,
        "fingerprint": fingerprint(env.cr, run.id),
    }
    return res


def phase_place(args):
    """Place every distributor in the binary tree and commit (once per kept database)."""
    with common.odoo_env(args.config, args.phase_db) as env:
        env.cr.execute("SELECT max(placement_depth) FROM ds_distributor")
        depth, seconds = env.cr.fetchone()[0], 0.0
        if depth is None:
            t0 = time.perf_counter()
            depth = common.place_binary_tree(env)
            env.cr.commit()
            seconds = time.perf_counter() - t0
    common.emit({"depth": depth, "seconds": seconds})


def phase_run(args):
    import bench_bonus

    arg = json.loads(args.phase_arg)
    record = {"steps": [], "statements": [], "volume_log": []}
    logger = logging.getLogger("odoo.addons.crm_direct_selling.models.ds_volume")
    logger.setLevel(logging.INFO)
    logger.addHandler(VolumeLog(record))
    res = {}
    with common.odoo_env(args.config, args.phase_db) as env:
        install_timers(env, record)
        if arg.get("explain"):
            # auto_explain of every statement above the threshold, sent to this client as
            # notices (EXPLAIN (ANALYZE, BUFFERS) of the statements as they run, nested
            # ones included: the volume step's level loop)
            env.cr._cnx.notices = []
            env.cr.execute(
                "LOAD 'auto_explain'; SET auto_explain.log_min_duration = %s; "
                "SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; "
                "SET auto_explain.log_nested_statements = on; "
                "SET auto_explain.log_level = notice; SET client_min_messages = notice",
                [int(arg["explain"])],
            )
        env = env(context={"ds_bonus_inline": True, "tracking_disable": True})
        period = env["ds.period"].browse(arg["period_id"])
        if arg["variant"] == "cap":
            plan = bench_bonus.make_plan(env, "Engine benchmark plan (cap)", "bills")
            plan.payout_cap_pct = arg["cap_pct"]
            res["run"] = measure_run(env, plan, period, record)
        elif arg["variant"] == "binary":
            plan = binary_plan(env)
            env.cr.execute("SELECT max(placement_depth) FROM ds_distributor")
            res["placement_depth"] = env.cr.fetchone()[0]
            res["run"] = measure_run(env, plan, period, record)
            env.cr.execute(
                "SELECT COUNT(*), SUM(paired_volume), SUM(left_carry_out + right_carry_out) "
                "FROM ds_binary_volume WHERE period_id = %s AND plan_id = %s",
                [period.id, plan.id],
            )
            res["binary_rows"], res["paired"], res["carry_out"] = (
                str(v) for v in env.cr.fetchone()
            )
        else:
            plan = bench_bonus.make_plan(env, "Engine benchmark plan", "bills")
            res["run"] = measure_run(env, plan, period, record)
            # the SQL floor of the volume step, same process, same transaction
            t0 = time.perf_counter()
            env.cr.execute(
                FLOOR_SQL
                % {"period": int(period.id), "company": int(period.company_id.id)}
            )
            res["floor_rows"], res["floor_root_gv"] = env.cr.fetchone()
            res["floor_seconds"] = time.perf_counter() - t0
        res["peak_rss_mb"] = common.peak_rss_mb()
        res["explain"] = list(env.cr._cnx.notices) if arg.get("explain") else []
        env.cr.rollback()  # the database stays as generated (measure again with --reuse)
    common.emit(res)


def volume_seconds(run):
    """The volume step's own figure (its log line: 'computed in X.XXs (phases)')."""
    for msg in run["volume_log"]:
        return float(msg.split("computed in ")[1].split("s")[0])
    return 0.0


def report(label, run):
    steps = ", ".join(f"{name} {sec:.2f}" for name, sec in run["steps"])
    print(
        f"  {label}: action_compute {run['seconds']:.2f} s (volume step "
        f"{volume_seconds(run):.2f} s, engine {run['engine_seconds']:.2f} s: {steps}); "
        f"cap factor {run['cap_factor']:.6f}, {run['earners']} earners, paid "
        f"{run['total']:.2f}; lines {run['fingerprint']}",
        flush=True,
    )
    for msg in run["volume_log"]:
        print(f"    volume step: {msg}", flush=True)


def main():
    parser = common.base_parser(__doc__.split("\n\n")[0], "100k")
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the database kept by an earlier --keep run")  # fmt: skip
    parser.add_argument("--cap-pct", type=float, default=15.0,
                        help="payout cap of the binding-cap plan (%% of BV, default 15)")  # fmt: skip
    parser.add_argument("--explain", type=int, default=0, metavar="MS",
                        help="EXPLAIN (ANALYZE, BUFFERS) of every statement above MS ms "
                        "(auto_explain; slows the run down)")  # fmt: skip
    parser.add_argument("--variants", default="full,cap,binary",
                        help="measurements to run (default full,cap,binary)")  # fmt: skip
    parser.add_argument("--statements", action="store_true",
                        help="print each step's statements above 10 ms")  # fmt: skip
    args = parser.parse_args()
    if args.phase == "run":
        return phase_run(args)
    if args.phase == "place":
        return phase_place(args)
    print(f"bench_engine on {common.machine()}", flush=True)
    for n in common.sizes(args):
        db = f"{args.db}_engine_{common.human(n).lower()}"
        if args.reuse and common.db_exists(args.config, db):
            # the generated month ends with the previous month (common.generate)
            end = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
            with common.odoo_env(args.config, db) as env:
                period_id = (
                    env["ds.period"]
                    .search([("date_from", "<=", end), ("date_to", ">=", end)], limit=1)
                    .id
                )
        else:
            template = common.ensure_template(args)
            common.clone_db(args.config, template, db)
            period_id = common.generate(args.config, db, n)["period_id"]
        res = {}
        variants = [
            v for v in ("full", "cap", "binary") if v in args.variants.split(",")
        ]
        if "binary" in variants:
            placed = common.run_phase(Path(__file__), args, "place", db, {})
            print(
                f"  binary placement: depth {placed['depth']}, set-based in "
                f"{placed['seconds']:.2f} s (0: placed by an earlier run; not counted)",
                flush=True,
            )
            common.vacuum(args.config, db, ("ds_distributor",))
        for variant in variants:
            # each measurement in its own process and transaction (rolled back), on tables
            # vacuumed of the previous measurement's rolled back rows
            common.vacuum(
                args.config, db, ("ds_volume", "ds_bonus_line", "ds_bonus_run")
            )
            arg = {"period_id": period_id, "cap_pct": args.cap_pct,
                   "explain": args.explain, "variant": variant}  # fmt: skip
            res[variant] = common.run_phase(Path(__file__), args, "run", db, arg)
        print(f"{common.human(n):>5} distributors:", flush=True)
        if "full" in res:
            report("full run", res["full"]["run"])
        if "cap" in res:
            report(f"binding cap ({args.cap_pct:g} % of BV)", res["cap"]["run"])
        if "binary" in res:
            b = res["binary"]
            print(
                f"  binary tree depth {b['placement_depth']}; binary volume rows "
                f"{b['binary_rows']}, paired {b['paired']}, carry out {b['carry_out']}",
                flush=True,
            )
            report("binary + unilevel + matching", b["run"])
        if "full" in res:
            floor = res["full"]["floor_seconds"]
            vol = volume_seconds(res["full"]["run"])
            print(
                f"  SQL floor (PV aggregation + level-by-level GV, {res['full']['floor_rows']}"
                f" rows): {floor:.2f} s; volume step / floor = "
                f"{vol / floor if floor else 0:.2f}x",
                flush=True,
            )
        rss = ", ".join(f"{res[v]['peak_rss_mb']:.0f} MB ({v})" for v in variants)
        print(f"  peak RSS: {rss}", flush=True)
        for label in variants:
            if args.statements:
                print(f"  statements ({label}):", flush=True)
                for step, sec, head in res[label]["run"]["statements"]:
                    print(f"    {step:>16} {sec:7.3f}  {head}", flush=True)
            for notice in res[label]["explain"]:
                print(notice.rstrip(), flush=True)
        if not (args.keep or args.reuse):
            common.drop_db(args.config, db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
