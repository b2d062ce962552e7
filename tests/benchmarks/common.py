"""Shared helpers of the benchmark scripts (not tests: they print figures).

Each benchmark creates its own databases from scratch: a template database with
crm_direct_selling installed (built once with odoo-bin, reused while it exists), one clone
per size, filled by the data generator (setup/generate.py), then measured. Measurements
that report memory run in a subprocess so that the peak RSS is the measured step's, not
the generator's.
"""

import argparse
import contextlib
import datetime
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "setup" / "generate.py"
ADDON = "crm_direct_selling"


def parse_size(text):
    text = text.strip().lower().replace("_", "")
    mult = 1
    if text.endswith("k"):
        mult, text = 1000, text[:-1]
    elif text.endswith("m"):
        mult, text = 1_000_000, text[:-1]
    return int(float(text) * mult)


def base_parser(description, default_sizes="10k,100k"):
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--db",
        default="ds_bench",
        help="prefix of the databases created (default ds_bench)",
    )
    p.add_argument(
        "--config",
        "-c",
        default=os.environ.get("ODOO_RC"),
        help="Odoo configuration file",
    )
    p.add_argument(
        "--sizes",
        default=default_sizes,
        help=f"comma separated, e.g. 10k,100k,1M (default {default_sizes})",
    )
    p.add_argument("--template", help="existing database with crm_direct_selling installed to clone "
                   "(default: <db>_template, built with odoo-bin when missing)")  # fmt: skip
    p.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    p.add_argument(
        "--phase", help=argparse.SUPPRESS
    )  # internal: subprocess measurement
    p.add_argument("--phase-db", help=argparse.SUPPRESS)
    p.add_argument("--phase-arg", help=argparse.SUPPRESS)
    return p


def sizes(args):
    return [parse_size(s) for s in args.sizes.split(",") if s.strip()]


def human(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def peak_rss_mb():
    """Peak resident memory of this process since it started (VmHWM).

    Not getrusage(): on Linux its ru_maxrss survives exec, so a measuring subprocess started by
    a big parent (the data generator) would report the parent's size at fork time."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine():
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0
    return f"{os.cpu_count()} cores, {mem:.0f} GB RAM, load average {os.getloadavg()[0]:.1f}"


def load_generator():
    spec = importlib.util.spec_from_file_location("ds_setup_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------- odoo
_CONFIGURED = False


def odoo_setup(config):
    global _CONFIGURED  # noqa: PLW0603
    import odoo

    if not _CONFIGURED:
        odoo.tools.config.parse_config(["-c", config] if config else [])
        _CONFIGURED = True
    return odoo


@contextlib.contextmanager
def odoo_env(config, db):
    """An environment (superuser) on db; commits when the block succeeds."""
    odoo = odoo_setup(config)
    from odoo import SUPERUSER_ID, api

    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})
        cr.commit()


def _admin_cursor(config):
    odoo = odoo_setup(config)
    return odoo.sql_db.db_connect("postgres").cursor()


def db_exists(config, name):
    with contextlib.closing(_admin_cursor(config)) as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return bool(cr.fetchone())


def drop_db(config, name):
    odoo = odoo_setup(config)
    odoo.sql_db.close_db(name)
    if name in odoo.modules.registry.Registry.registries:
        odoo.modules.registry.Registry.delete(name)
    with contextlib.closing(_admin_cursor(config)) as cr:
        cr._cnx.autocommit = True
        cr.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clone_db(config, template, name):
    drop_db(config, name)
    odoo = odoo_setup(config)
    odoo.sql_db.close_db(template)
    with contextlib.closing(_admin_cursor(config)) as cr:
        cr._cnx.autocommit = True
        cr.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def ensure_template(args):
    """A database with crm_direct_selling installed (no demo data)."""
    name = args.template or f"{args.db}_template"
    if db_exists(args.config, name):
        return name
    if args.template:
        raise SystemExit(f"template database {name} does not exist")
    print(
        f"building template database {name} (odoo-bin -i {ADDON}, a few minutes)",
        flush=True,
    )
    odoo = odoo_setup(args.config)
    odoo_bin = Path(odoo.__file__).resolve().parents[1] / "odoo-bin"
    cmd = [sys.executable, str(odoo_bin)]
    if args.config:
        cmd += ["-c", args.config]
    cmd += [
        "-d",
        name,
        "-i",
        ADDON,
        "--stop-after-init",
        "--without-demo=all",
        "--no-http",
        "--log-level=warn",
    ]
    subprocess.run(cmd, check=True)
    return name


def generate(config, db, n, seed=42, **kw):
    """Generate n distributors, each with one posted invoice of 3 lines in one past month."""
    gen_mod = load_generator()
    today = datetime.date.today()
    end = today.replace(day=1) - datetime.timedelta(
        days=1
    )  # last day of the previous month
    opts = dict(
        distributors=n, months=1, seed=seed, customers=0, end_date=end, distributor_buy_rate=1.0,
        lines_per_invoice=3, refund_rate=0.0, compute_volumes=False, leader=False,
        log=lambda m: None,
    )  # fmt: skip
    opts.update(kw)
    t0 = time.perf_counter()
    with odoo_env(config, db) as env:
        gen = gen_mod.NetworkGenerator(env, **opts)
        summary = gen.run()
        summary["period_id"] = gen.periods[-1].id
        # the member whose downline is the biggest not above 100,000 (downline page benchmark)
        best = max(
            range(gen.n),
            key=lambda i: gen.subtree[i] if gen.subtree[i] - 1 <= 100_000 else -1,
        )
        summary["leader_id"] = gen.dist_first + best
        summary["leader_downline"] = gen.subtree[best] - 1
        summary["timings"] = gen.timings
    summary["generate_seconds"] = time.perf_counter() - t0
    # A month of invoices in a live database has long been vacuumed; rows bulk-loaded a second
    # ago have not: their first reader would set every hint bit (rewriting the tables) while
    # autovacuum competes for the 2 cores. Vacuum before measuring (not counted above), then
    # checkpoint: the generator's gigabytes of dirty pages are written back now, not by the
    # first statements measured.
    t0 = time.perf_counter()
    vacuum(
        config,
        db,
        ("account_move", "account_move_line", "ds_distributor", "res_partner"),
    )
    summary["vacuum_seconds"] = time.perf_counter() - t0
    return summary


def vacuum(config, db, tables):
    odoo = odoo_setup(config)
    cnx = odoo.sql_db.db_connect(db)
    with contextlib.closing(cnx.cursor()) as cr:
        cr._cnx.autocommit = True  # VACUUM cannot run inside a transaction
        for table in tables:
            cr.execute(f'VACUUM (ANALYZE) "{table}"')
        try:
            cr.execute("CHECKPOINT")  # superuser or pg_checkpoint
        except Exception as exc:  # noqa: BLE001 - only a measurement aid
            print(f"(no checkpoint before measuring: {exc})", flush=True)


def run_phase(script, args, phase, db, arg=None):
    """Run `script --phase phase` in a fresh interpreter; return the JSON it prints last."""
    cmd = [sys.executable, str(script), "--phase", phase, "--phase-db", db]
    if args.config:
        cmd += ["--config", args.config]
    if arg is not None:
        cmd += ["--phase-arg", json.dumps(arg)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


def emit(result):
    """Print the phase result as the last JSON line (read by run_phase)."""
    print(json.dumps(result, default=str), flush=True)


def place_binary_tree(env):
    """Every distributor of the company placed set-based in a complete binary tree
    (breadth-first order of the sponsor tree: depth, then id): one UPDATE of
    placement_parent_id / placement_slot, then the paths by the model's bulk method.
    Returns the depth of the placement tree."""
    company = env.company.id
    env.cr.execute(
        """
        WITH o AS (
            SELECT id, row_number() OVER (ORDER BY depth, id) - 1 AS k
              FROM ds_distributor WHERE company_id = %s
        )
        UPDATE ds_distributor d
           SET placement_parent_id = p.id, placement_slot = 1 + (o.k - 1) %% 2
          FROM o JOIN o p ON p.k = (o.k - 1) / 2
         WHERE d.id = o.id AND o.k > 0
        """,
        [company],
    )
    env.cr.execute("SELECT id FROM ds_distributor WHERE company_id = %s", [company])
    env["ds.distributor"]._ds_update_placement_paths([r[0] for r in env.cr.fetchall()])
    env.cr.execute("ANALYZE ds_distributor")
    env.cr.execute("SELECT max(placement_depth) FROM ds_distributor")
    return env.cr.fetchone()[0]
