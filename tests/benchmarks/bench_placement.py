#!/usr/bin/env python3
"""Benchmark: the placement tree (binary plans) at N distributors.

For each size N (default 100k): a generated network (one month of invoices), a binary placement
plan, then
- every distributor placed set-based in a complete binary tree (breadth-first order of the
  sponsor tree): one UPDATE of placement_parent_id / placement_slot, then
  ``_ds_update_placement_paths`` (one recursive statement) and the commit (the guard's check);
- the volume step of the month alone, then the binary volumes of the month
  (``ds.binary.volume._ds_compute``: legs, qualification, pairing, carry);
- the guard's cost on a bulk write that changes no placement: ``UPDATE ds_distributor SET
  write_date = write_date`` on every row, with and without the placement trigger;
- one new recruit placed by each automatic rule under the root (first open slot breadth-first,
  extreme left, weaker leg), committed.

    .venv/bin/python tests/benchmarks/bench_placement.py --config odoo.conf --sizes 100k,1M
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def timed(label, func):
    t0 = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - t0
    print(f"  {label}: {seconds:.2f} s", flush=True)
    return result, seconds


def main():
    parser = common.base_parser("placement tree and binary volumes", "100k")
    args = parser.parse_args()
    print(common.machine(), flush=True)
    template = common.ensure_template(args)
    for n in common.sizes(args):
        db = f"{args.db}_placement_{common.human(n)}"
        common.clone_db(args.config, template, db)
        summary = common.generate(args.config, db, n)
        period_id = summary["period_id"]
        print(
            f"{common.human(n)}: generated {summary['distributors']} distributors "
            f"(max sponsor depth {summary['max_depth']})",
            flush=True,
        )
        with common.odoo_env(args.config, db) as env:
            plan = env["ds.plan"].create(
                {
                    "name": "Bench binary",
                    "placement_rule": "first_open",
                    "placement_type": "binary",
                    "holding_days": 0,
                    "binary_rate": 10.0,
                    "binary_carry_max": 5000.0,
                    "binary_flush_periods": 3,
                }
            )
            env.company.ds_placement_plan_id = plan

        def place_all(db=db):
            with common.odoo_env(args.config, db) as env:
                return common.place_binary_tree(env)

        depth, _s = timed(
            "place everyone set-based (paths + guard at commit)", place_all
        )
        print(f"  placement depth {depth}", flush=True)
        common.vacuum(args.config, db, ("ds_distributor",))

        with common.odoo_env(args.config, db) as env:
            period = env["ds.period"].browse(period_id)
            # the volume step alone (the binary volumes are computed after it by the hook)
            company = env.company
            saved = company.ds_placement_plan_id
            company.ds_placement_plan_id = False
            env.flush_all()
            timed(
                "volume step of the month (without binary)",
                lambda period=period: env["ds.volume"]._ds_compute(period),
            )
            company.ds_placement_plan_id = saved
            env.flush_all()
            rows, _s = timed(
                "binary volumes of the month",
                lambda period=period: env["ds.binary.volume"]._ds_compute(period),
            )
            print(f"  binary volume rows: {rows}", flush=True)

        for label, disable in (
            ("bulk write of every row, both guards", False),
            ("bulk write of every row, sponsor guard only", True),
        ):
            with common.odoo_env(args.config, db) as env:
                if disable:
                    env.cr.execute(
                        "ALTER TABLE ds_distributor DISABLE TRIGGER ds_placement_record_update"
                    )
                timed(
                    label,
                    lambda env=env: env.cr.execute(
                        "UPDATE ds_distributor SET write_date = write_date"
                    ),
                )
                env.cr.rollback()

        for rule in ("first_open", "extreme_left", "weaker_leg"):
            with common.odoo_env(args.config, db) as env:
                env.company.ds_placement_plan_id.placement_rule = rule
                root = env["ds.distributor"].search(
                    [
                        ("placement_parent_id", "=", False),
                        ("placement_path", "!=", False),
                    ],
                    limit=1,
                )

                def recruit(env=env, root=root, rule=rule):
                    rec = env["ds.distributor"].create(
                        {"name": f"Bench {rule}", "sponsor_id": root.id}
                    )
                    env.cr.commit()
                    return rec.placement_depth

                placed_depth, _s = timed(f"one recruit placed by {rule}", recruit)
                print(f"    placed at depth {placed_depth}", flush=True)
        if not args.keep:
            common.drop_db(args.config, db)


if __name__ == "__main__":
    main()
