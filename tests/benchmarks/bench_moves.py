#!/usr/bin/env python3
"""Benchmark: genealogy moves, one writer and several concurrent writers.

For each size N (default 100k): a generated network, then
- a single writer moving random distributors (with their downline) under random sponsors,
  one committed transaction per move: the time of one move;
- W concurrent writers (default 4, threads with their own database connections) doing the same;
  each retries a serialization failure as Odoo's web layer does (up to 5 times). Reported: moves
  committed per second, loops refused, serialization failures retried.

Every move is a real ``action_move`` as a Direct Selling manager (admin), committed.

    .venv/bin/python tests/benchmarks/bench_moves.py --config odoo.conf --sizes 100k
"""

import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def one_move(odoo, db, uid, dist_id, sponsor_id, stats):
    import psycopg2

    from odoo import api
    from odoo.exceptions import ValidationError

    for _attempt in range(5):
        with odoo.sql_db.db_connect(db).cursor() as cr:
            env = api.Environment(cr, uid, {})
            try:
                env["ds.distributor"].browse(dist_id).action_move(
                    sponsor_id, reason="benchmark"
                )
                cr.commit()
                stats["committed"] += 1
                return
            except ValidationError:
                cr.rollback()
                stats["refused"] += 1
                return
            except (
                psycopg2.errors.SerializationFailure,
                psycopg2.errors.DeadlockDetected,
            ):
                cr.rollback()
                stats["retried"] += 1
                time.sleep(random.random() * 0.05)
    stats["gave_up"] += 1


def run_writers(odoo, db, uid, ids, writers, moves_each, seed):
    stats = [
        {"committed": 0, "refused": 0, "retried": 0, "gave_up": 0}
        for _w in range(writers)
    ]

    def writer(index):
        rng = random.Random(seed + index)
        for _m in range(moves_each):
            dist_id, sponsor_id = rng.choice(ids), rng.choice(ids)
            if dist_id != sponsor_id:
                one_move(odoo, db, uid, dist_id, sponsor_id, stats[index])

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    total = {k: sum(s[k] for s in stats) for k in stats[0]}
    total["seconds"] = seconds
    total["moves_per_second"] = total["committed"] / seconds if seconds else 0.0
    return total


def main():
    parser = common.base_parser(
        "genealogy moves, single and concurrent writers", "100k"
    )
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--moves", type=int, default=50, help="moves per writer")
    args = parser.parse_args()
    print(common.machine(), flush=True)
    template = common.ensure_template(args)
    odoo = common.odoo_setup(args.config)
    for n in common.sizes(args):
        db = f"{args.db}_moves_{common.human(n)}"
        common.clone_db(args.config, template, db)
        summary = common.generate(args.config, db, n)
        print(
            f"{common.human(n)}: generated {summary['distributors']} distributors "
            f"(max depth {summary['max_depth']})",
            flush=True,
        )
        with common.odoo_env(args.config, db) as env:
            uid = env.ref("base.user_admin").id
            env.cr.execute("SELECT id FROM ds_distributor ORDER BY id")
            ids = [r[0] for r in env.cr.fetchall()]
        single = run_writers(odoo, db, uid, ids, 1, args.moves, seed=7)
        print(
            f"  1 writer: {single['committed']} moves committed, {single['refused']} loops "
            f"refused in {single['seconds']:.2f} s: "
            f"{1000 * single['seconds'] / max(args.moves, 1):.1f} ms per move, "
            f"{single['moves_per_second']:.1f} moves/s",
            flush=True,
        )
        multi = run_writers(odoo, db, uid, ids, args.writers, args.moves, seed=11)
        print(
            f"  {args.writers} writers: {multi['committed']} moves committed, "
            f"{multi['refused']} loops refused, {multi['retried']} serialization retries, "
            f"{multi['gave_up']} given up, in {multi['seconds']:.2f} s: "
            f"{multi['moves_per_second']:.1f} moves/s",
            flush=True,
        )
        with common.odoo_env(args.config, db) as env:
            env.cr.execute(
                """SELECT count(*) FROM ds_distributor d
                LEFT JOIN ds_distributor s ON s.id = d.sponsor_id
                    WHERE d.parent_path IS DISTINCT FROM COALESCE(s.parent_path, '') || d.id || '/'
                       OR d.depth IS DISTINCT FROM COALESCE(s.depth + 1, 0)"""
            )
            print(
                f"  rows whose path does not follow their sponsor: {env.cr.fetchone()[0]}",
                flush=True,
            )
        if not args.keep:
            common.drop_db(args.config, db)


if __name__ == "__main__":
    main()
