#!/usr/bin/env python3
"""Benchmark: import distributors from XLSX through the ds.distributor.import wizard.

For each size N (default 100k): an XLSX file (openpyxl) of N distributors with code, name,
sponsor_code (a sponsor earlier *or later* in the file: the file is shuffled), email,
city, country_code, enrollment_date and birthday; a fresh database; then
``action_import()`` timed in a separate Odoo process (target: <= 120 s for 100,000).
A CSV of the same rows is timed too.

    .venv/bin/python tests/benchmarks/bench_import.py --config odoo.conf --sizes 100k
"""

import base64
import datetime
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

HEADERS = [
    "code",
    "name",
    "sponsor_code",
    "email",
    "city",
    "country_code",
    "enrollment_date",
    "birthday",
]


def make_rows(n, seed=42):
    gen = common.load_generator()
    rng = random.Random(seed)
    rows = []
    targets = [0]
    sponsor = [-1] * n
    for i in range(1, n):  # preferential attachment, as the generator
        s = targets[int(rng.random() * len(targets))]
        sponsor[i] = s
        targets += (s, i)
    start = datetime.date(2020, 1, 1)
    for i in range(n):
        first = rng.choice(gen.FIRST_NAMES)
        last = rng.choice(gen.LAST_NAMES)
        cc, city = rng.choice(gen.CITIES)
        code = f"IMP{i + 1:07d}"
        rows.append([
            code, f"{first} {last}", f"IMP{sponsor[i] + 1:07d}" if sponsor[i] >= 0 else "",
            f"{first}.{last}.{code}@example.com".lower(), city, cc,
            (start + datetime.timedelta(days=i * 2000 // max(n, 1))).isoformat(),
            (datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(15000))).isoformat(),
        ])  # fmt: skip
    rng.shuffle(rows)  # sponsors appear before and after their recruits
    return rows


def write_xlsx(rows, path):
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    wb.save(path)


def write_csv(rows, path):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        w.writerows(rows)


def phase_import(args):
    arg = json.loads(args.phase_arg)
    path = Path(arg["file"])
    res = {}
    with common.odoo_env(args.config, args.phase_db) as env:
        data = base64.b64encode(path.read_bytes())
        wizard = env["ds.distributor.import"].create(
            {"file_data": data, "file_name": path.name}
        )
        t0 = time.perf_counter()
        wizard.action_import()
        env.flush_all()
        res["seconds"] = time.perf_counter() - t0
        env.cr.execute(
            "SELECT COUNT(*), MAX(depth) FROM ds_distributor WHERE code LIKE 'IMP%%'"
        )
        res["imported"], res["max_depth"] = env.cr.fetchone()
        res["peak_rss_mb"] = common.peak_rss_mb()
    common.emit(res)


def main():
    parser = common.base_parser(__doc__.split("\n\n")[0], "100k")
    parser.add_argument("--no-csv", action="store_true", help="time the XLSX file only")
    args = parser.parse_args()
    if args.phase == "import":
        return phase_import(args)
    print(f"bench_import on {common.machine()}", flush=True)
    template = common.ensure_template(args)
    tmp = Path(tempfile.mkdtemp(prefix="ds_bench_import_"))
    for n in common.sizes(args):
        t0 = time.perf_counter()
        rows = make_rows(n)
        xlsx = tmp / f"distributors_{n}.xlsx"
        write_xlsx(rows, xlsx)
        files = [xlsx]
        if not args.no_csv:
            csv_path = tmp / f"distributors_{n}.csv"
            write_csv(rows, csv_path)
            files.append(csv_path)
        print(f"{common.human(n):>5} rows: files written in {time.perf_counter() - t0:.1f} s "
              f"(XLSX {xlsx.stat().st_size / 2**20:.1f} MB)", flush=True)  # fmt: skip
        for path in files:
            db = f"{args.db}_import_{common.human(n).lower()}"
            common.clone_db(args.config, template, db)
            res = common.run_phase(
                Path(__file__), args, "import", db, {"file": str(path)}
            )
            print(
                f"{common.human(n):>5} rows {path.suffix[1:].upper():4}: import {res['seconds']:.1f} s "
                f"({n / res['seconds']:.0f} rows/s), {res['imported']} distributors, depth {res['max_depth']}, "
                f"peak RSS {res['peak_rss_mb']:.0f} MB",
                flush=True,
            )
            if not args.keep:
                common.drop_db(args.config, db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
