#!/usr/bin/env python3
"""Onboarding at enrolment: the cost of joining N new distributors to the onboarding course.

On a database with crm_direct_selling_portal installed, in one transaction that is rolled
back at the end (nothing stays): N distributors created set-based (``_ds_create_sql``, as
the import wizard does) while no onboarding course is set, then one onboarding course of
two lessons and, timed:

- ``_ds_join_onboarding()`` on the N distributors (one INSERT of attendees and followers),
- website_slides' own ``_action_add_members`` called per distributor on a sample of
  ``--sample`` others, extrapolated to N (what a loop would cost),
- the leader figures of one page of 50 members (``_ds_training_stats``).

    .venv/bin/python tests/benchmarks/bench_training.py --config <odoo.conf> --db <db> \
        --size 100000 --sample 500
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--size", type=int, default=100000)
    parser.add_argument("--sample", type=int, default=500)
    args = parser.parse_args()
    odoo = common.odoo_setup(args.config)
    from odoo import SUPERUSER_ID, Command, api

    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        company = env.company
        company.ds_onboarding_channel_ids = [Command.clear()]
        Distributor = env["ds.distributor"]
        n = args.size
        started = time.perf_counter()
        records = Distributor._ds_create_sql(
            [{"name": f"Bench Onboard {i}"} for i in range(n + args.sample)]
        )
        created = time.perf_counter() - started
        batch, sample = records[:n], records[n:]
        course = env["slide.channel"].create(
            {"name": "Bench Onboarding", "is_published": True}
        )
        env["slide.slide"].create(
            [
                {
                    "name": f"Bench lesson {i}",
                    "channel_id": course.id,
                    "slide_category": "article",
                    "is_published": True,
                }
                for i in (1, 2)
            ]
        )
        company.ds_onboarding_channel_ids = [Command.set(course.ids)]
        env.flush_all()

        started = time.perf_counter()
        joined = batch._ds_join_onboarding()
        env.flush_all()
        set_based = time.perf_counter() - started

        started = time.perf_counter()
        for distributor in sample:
            course._action_add_members(distributor.partner_id)
        env.flush_all()
        loop = time.perf_counter() - started

        page = batch[:50]
        started = time.perf_counter()
        page._ds_training_stats()
        stats = time.perf_counter() - started
        cr.rollback()

    per_row = loop / max(len(sample), 1)
    print(f"machine: {common.machine()}")
    print(
        f"{n:,} distributors created set-based in {created:.1f} s (not part of the figure)"
    )
    print(f"_ds_join_onboarding: {joined:,} attendees in {set_based:.2f} s")
    print(
        f"_action_add_members per distributor: {len(sample):,} in {loop:.2f} s "
        f"({per_row * 1000:.1f} ms each; {per_row * n:.0f} s extrapolated to {n:,})"
    )
    print(f"leader figures of a page of 50 members: {stats * 1000:.1f} ms")
    print("rolled back: nothing kept")


if __name__ == "__main__":
    main()
