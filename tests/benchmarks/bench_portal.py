#!/usr/bin/env python3
"""Leader portal benchmark (figures, not a timed test).

1. Builds, set-based in SQL, a leader with a 100,000-member downline (5-ary tree)
   plus this period's ds.volume rows, and portal users for 20 leaders.
2. Starts Odoo with ``--workers 2`` on loopback and measures the *server* time
   (query time + Python time, from Odoo's request log) of
   - ``/my/network`` first page,
   - one genealogy tree level (``/my/network/tree/children``),
   - ``/my/volume`` and the leader dashboard (``/my/dashboard``, target
     <= 300 ms, and its JSON ``/my/dashboard/data``)
   for the big leader (median of several runs after warm-up).
3. Runs a loopback load of 20 concurrent leaders for N seconds (bounded by a
   maximum number of requests too) and prints p50 / p95 / p99 and errors.

Usage (database with crm_direct_selling_portal installed, or --install):

    python tests/benchmarks/bench_portal.py --db ds_bench --install --size 100000 \
        --seconds 60 --port 8174

Only loopback is used; every loop is bounded.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

PASSWORD = "bench-leader-pw"
LOG_RE = re.compile(
    r'"GET (?P<path>\S+) HTTP/1\.1" (?P<status>\d+) - (?P<q>\d+) (?P<qt>[\d.]+) (?P<rt>[\d.]+)'
)


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--db", default="ds_bench_portal")
    p.add_argument(
        "--config", default=os.environ.get("ODOO_RC", "/var/tmp/dsdev/odoo.conf")
    )
    p.add_argument("--odoo-path", default=os.environ.get("ODOO_PATH", "/opt/odoo"))
    p.add_argument(
        "--install",
        action="store_true",
        help="create the db (newdb) and install the portal addon",
    )
    p.add_argument(
        "--size", type=int, default=100_000, help="downline size of the big leader"
    )
    p.add_argument("--leaders", type=int, default=20)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--max-requests", type=int, default=200_000)
    p.add_argument("--port", type=int, default=8174)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--repeat", type=int, default=10, help="measured runs per single-request figure"
    )
    p.add_argument(
        "--skip-data", action="store_true", help="reuse the data of a previous run"
    )
    return p.parse_args()


# ---------------------------------------------------------------------------
# data set (in-process Odoo environment, set-based SQL)
# ---------------------------------------------------------------------------
def odoo_env(args):
    sys.path.insert(0, args.odoo_path)
    import odoo  # noqa: PLC0415

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.db])
    registry = odoo.modules.registry.Registry(args.db)
    return odoo, registry


def build_data(args):
    odoo, registry = odoo_env(args)
    from odoo.tools import SQL  # noqa: PLC0415

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        today = date.today()
        first = today.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        Period = env["ds.period"]
        period = Period.search(
            [
                ("company_id", "=", company.id),
                ("date_from", "<=", today),
                ("date_to", ">=", today),
            ],
            limit=1,
        ) or Period.create(
            {
                "name": "Bench {}".format(first.strftime("%Y-%m")),
                "date_from": first,
                "date_to": last,
            }
        )
        rank = env["ds.rank"].search([], limit=1) or env["ds.rank"].create(
            {"name": "Bench Rank", "sequence": 1}
        )
        root = env["ds.distributor"].create(
            {
                "name": "Bench Leader",
                "code": f"BENCH-{int(time.time())}",
                "email": "bench.leader@example.com",
            }
        )
        env.flush_all()
        n = args.size
        t0 = time.time()
        # partners + distributors of a 5-ary tree below the root: member k (1..n) is
        # sponsored by member (k-1)//5 (member 0 = the root)
        cr.execute(
            SQL(
                """
            CREATE TEMP TABLE bench_members ON COMMIT DROP AS
            SELECT k, nextval('res_partner_id_seq') AS partner_id, nextval('ds_distributor_id_seq') AS dist_id
              FROM generate_series(1, %(n)s) k
            """,
                n=n,
            )
        )
        cr.execute(
            SQL(
                """
            INSERT INTO res_partner (id, name, complete_name, email, email_normalized, active, type,
                                     autopost_bills, commercial_partner_id, company_id, is_company,
                                     create_date, write_date, create_uid, write_uid)
            SELECT partner_id, 'Bench Member ' || k, 'Bench Member ' || k, 'bench' || k || '@example.com',
                   'bench' || k || '@example.com', TRUE, 'contact', 'ask', partner_id, %(company)s, FALSE,
                   now(), now(), 1, 1
              FROM bench_members
            """,
                company=company.id,
            )
        )
        cr.execute(
            SQL(
                """
            INSERT INTO ds_distributor (id, partner_id, code, company_id, enrollment_date, state, rank_id,
                                        sponsor_id, create_date, write_date, create_uid, write_uid)
            SELECT m.dist_id, m.partner_id, 'BM' || %(root)s || '-' || m.k, %(company)s,
                   CURRENT_DATE - mod(m.k, 400), 'active', CASE WHEN mod(m.k, 7) = 0 THEN %(rank)s END,
                   COALESCE(s.dist_id, %(root)s), now(), now(), 1, 1
              FROM bench_members m
         LEFT JOIN bench_members s ON s.k = (m.k - 1) / 5 AND s.k > 0
            """,
                root=root.id,
                company=company.id,
                rank=rank.id,
            )
        )
        cr.execute(
            SQL(
                "UPDATE res_partner p SET ds_distributor_id = m.dist_id FROM bench_members m WHERE p.id = m.partner_id"
            )
        )
        # fresh statistics first: without them the level updates below join 100,000
        # rows in nested loops (one statement ran for more than 5 minutes)
        cr.execute("ANALYZE bench_members; ANALYZE ds_distributor")
        # parent_path and depth level by level (bounded: a 5-ary tree of n nodes has ~log5(n) levels)
        for _level in range(200):
            cr.execute(
                SQL(
                    """
                UPDATE ds_distributor d
                   SET parent_path = s.parent_path || d.id || '/', depth = s.depth + 1
                  FROM ds_distributor s, bench_members m
                 WHERE m.dist_id = d.id AND d.sponsor_id = s.id
                   AND d.parent_path IS NULL AND s.parent_path IS NOT NULL
                """
                )
            )
            if not cr.rowcount:
                break
            cr.execute("ANALYZE ds_distributor")
        cr.execute(
            SQL(
                """
            INSERT INTO ds_volume (distributor_id, period_id, company_id, pv, bv, gv, qualified_legs, is_active,
                                   paid_rank_id)
            SELECT dist_id, %(period)s, %(company)s, mod(k * 37, 300), mod(k * 37, 300), mod(k * 53, 5000),
                   mod(k, 3), mod(k * 37, 300) >= 100, CASE WHEN mod(k, 7) = 0 THEN %(rank)s END
              FROM bench_members
            """,
                period=period.id,
                company=company.id,
                rank=rank.id,
            )
        )
        cr.execute("ANALYZE res_partner; ANALYZE ds_distributor; ANALYZE ds_volume")
        print(f"data: {n} members under {root.code} in {time.time() - t0:.1f}s")
        # the portal users: the big leader and 19 leaders of level 1-2 (each ~1/5..1/25 of the tree)
        env.invalidate_all()
        leaders = root | env["ds.distributor"].search(
            [
                (
                    "sponsor_id",
                    "in",
                    [root.id]
                    + env["ds.distributor"].search([("sponsor_id", "=", root.id)]).ids,
                )
            ],
            order="depth, id",
            limit=args.leaders - 1,
        )
        portal = env.ref("base.group_portal")
        users = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                [
                    {
                        "login": f"bench_{root.id}_{leader.id}",
                        "password": PASSWORD,
                        "partner_id": leader.partner_id.id,
                        "groups_id": [(6, 0, portal.ids)],
                    }
                    for leader in leaders
                ]
            )
        )
        # one node of level 1 for the "one tree level" figure
        node = env["ds.distributor"].search([("sponsor_id", "=", root.id)], limit=1)
        cr.commit()
        info = {"root": root.id, "node": node.id, "logins": users.mapped("login")}
    with open(state_file(args), "w") as fh:
        json.dump(info, fh)
    return info


def state_file(args):
    return f"/tmp/bench_portal_{args.db}.json"


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------
def start_server(args, logfile):
    cmd = [
        sys.executable,
        os.path.join(args.odoo_path, "odoo-bin"),
        "-c",
        args.config,
        "-d",
        args.db,
        "--db-filter",
        f"^{args.db}$",
        "--http-interface",
        "127.0.0.1",
        "--http-port",
        str(args.port),
        "--gevent-port",
        str(args.port + 100),
        "--workers",
        str(args.workers),
        "--max-cron-threads",
        "0",
        "--limit-time-real",
        "600",
        "--limit-time-cpu",
        "600",
        "--logfile",
        logfile,
        "--log-level",
        "info",
    ]
    proc = subprocess.Popen(cmd)
    import requests  # noqa: PLC0415

    for _i in range(120):
        try:
            if (
                requests.get(
                    f"http://127.0.0.1:{args.port}/web/health", timeout=2
                ).status_code
                == 200
            ):
                return proc
        except requests.RequestException:
            pass
        time.sleep(1)
    proc.terminate()
    raise SystemExit("Odoo did not start")


def login(args, login_name):
    import requests  # noqa: PLC0415

    session = requests.Session()
    r = session.post(
        f"http://127.0.0.1:{args.port}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "params": {"db": args.db, "login": login_name, "password": PASSWORD},
        },
        timeout=30,
    )
    r.raise_for_status()
    if r.json().get("error"):
        raise SystemExit(
            "login failed for {}: {}".format(login_name, r.json()["error"])
        )
    return session


def server_times(logfile, path_prefix, since):
    """Server times (s) of GET requests whose path starts with path_prefix, logged after offset since."""
    with open(logfile) as fh:
        fh.seek(since)
        text = fh.read()
    times = []
    for m in LOG_RE.finditer(text):
        if m.group("path").startswith(path_prefix):
            times.append(float(m.group("qt")) + float(m.group("rt")))
    return times


def measure_single(args, info, logfile):
    base = f"http://127.0.0.1:{args.port}"
    session = login(args, info["logins"][0])
    figures = {}
    for label, url in (
        ("/my/network first page", "/my/network"),
        (
            "tree level of the leader",
            "/my/network/tree/children?node_id={}".format(info["root"]),
        ),
        (
            "tree level of a level-1 node",
            "/my/network/tree/children?node_id={}".format(info["node"]),
        ),
        (
            "/my/network filtered (active, search)",
            "/my/network?active=1&search=Member%2012",
        ),
        ("/my/volume", "/my/volume"),
        # the leader dashboard: the page embeds the chart data (target <= 300 ms
        # at 100,000), the JSON alone
        ("/my/dashboard (target 300 ms)", "/my/dashboard"),
        ("/my/dashboard/data", "/my/dashboard/data"),
    ):
        for _i in range(2):  # warm-up
            session.get(base + url, timeout=60)
        since = os.path.getsize(logfile)
        client = []
        for _i in range(args.repeat):
            t0 = time.perf_counter()
            r = session.get(base + url, timeout=60)
            client.append(time.perf_counter() - t0)
            assert r.status_code == 200, (url, r.status_code)
        time.sleep(0.5)
        server = server_times(logfile, url.split("?")[0], since)
        figures[label] = (
            statistics.median(server) * 1000 if server else float("nan"),
            statistics.median(client) * 1000,
        )
        print(
            f"{label:40s} server median {figures[label][0]:7.1f} ms   client median {figures[label][1]:7.1f} ms"
        )
    return figures


def load_test(args, info):
    base = f"http://127.0.0.1:{args.port}"
    sessions = [login(args, name) for name in info["logins"]]
    deadline = time.time() + args.seconds
    latencies, errors, lock = [], [], threading.Lock()
    budget = [args.max_requests]

    def worker(idx, session):
        rnd = random.Random(idx)
        node_ids = []
        while time.time() < deadline:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            choice = rnd.random()
            if choice < 0.45:
                url = f"/my/network/page/{rnd.randint(1, 5)}"
            elif choice < 0.8 and node_ids:
                url = f"/my/network/tree/children?node_id={rnd.choice(node_ids)}"
            elif choice < 0.8:
                url = f"/my/network/tree/children?node_id={session.leader_id}"
            else:
                url = "/my/volume"
            t0 = time.perf_counter()
            try:
                r = session.get(base + url, timeout=60)
                ok = r.status_code == 200
                if ok and "tree/children" in url:
                    node_ids = [
                        c["id"] for c in r.json()["children"] if c["child_count"]
                    ][:50] or node_ids
            except Exception as e:  # noqa: BLE001 - every failure counts as an error
                ok, r = False, e
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                if not ok:
                    errors.append((url, getattr(r, "status_code", repr(r))))

    # leader ids from the logins (bench_<root>_<leader>)
    for session, name in zip(sessions, info["logins"], strict=False):
        session.leader_id = int(name.rsplit("_", 1)[1])
    threads = [
        threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(sessions)
    ]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.seconds + 120)
    elapsed = time.time() - t0
    lat = sorted(latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    print(
        f"load: {len(sessions)} concurrent leaders, {elapsed:.0f}s, {len(lat)} requests "
        f"({len(lat) / elapsed:.1f} req/s), errors {len(errors)}, "
        f"p50 {pct(0.50):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms"
    )
    if errors:
        print("first errors:", errors[:5])
    return errors


def main():
    args = parse_args()
    if args.install:
        # odoo-bin -i creates the database when it does not exist
        if os.path.exists("/var/tmp/dsdev/newdb"):
            subprocess.run(["/var/tmp/dsdev/newdb", args.db], check=True)
        subprocess.run(
            [
                sys.executable,
                os.path.join(args.odoo_path, "odoo-bin"),
                "-c",
                args.config,
                "-d",
                args.db,
                "-i",
                "crm_direct_selling_portal",
                "--stop-after-init",
                "--http-port",
                str(args.port),
            ],
            check=True,
        )
    if args.skip_data and os.path.exists(state_file(args)):
        with open(state_file(args)) as fh:
            info = json.load(fh)
    else:
        info = build_data(args)
    logfile = f"/tmp/bench_portal_{args.db}.log"
    open(logfile, "w").close()
    proc = start_server(args, logfile)
    try:
        measure_single(args, info, logfile)
        errors = load_test(args, info)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
