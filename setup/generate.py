"""Generate a realistic direct-selling network into an Odoo database.

Usage (see ``setup/generate --help``)::

    setup/generate --db ds_demo --config odoo.conf --distributors 3000 --months 6 --seed 42

The database must have ``crm_direct_selling`` installed. What is generated:

* a catalogue of products with PV/BV (``product.template`` ``ds_pv``/``ds_bv``), created
  through the ORM (found again by ``default_code`` on a second run);
* N distributors (``res.partner`` + ``ds.distributor``) on a preferential-attachment
  sponsor tree, plus a few deep one-legged chains (the longest 1,000 levels by default);
* retail customers (``res.partner`` with ``ds_referrer_id``);
* one ``ds.period`` per month (ORM);
* M months of *posted* customer invoices and some credit notes, written set-based in
  SQL (temporary tables + ``INSERT ... SELECT``); every move is balanced, numbered from
  its journal's sequence (``INV/2026/00001``, ``RINV/2026/00001``), with the same stored
  values the ORM would compute (amounts, residuals, signed amounts, payment state);
* optionally the volumes of every period (closing all past months), and a leader portal
  login when ``crm_direct_selling_portal`` is installed.

Everything random comes from ``--seed`` (Python/numpy generators for the tree and the
orders, PostgreSQL ``hashint8extended`` for the invoice lines), so the same seed and
the same ``--end-date`` build the same network.

The generator is importable (``NetworkGenerator``): the addon's tests and the benchmarks
in tests/benchmarks/ call it inside their own transaction.
"""

import argparse
import calendar
import contextlib
import datetime
import io
import random
import re
import sys
import time

import numpy as np

FIRST_NAMES = (
    "Ada Alan Alice Amir Ana Anna Ben Carla Chen Clara Daniel David Elena Emma Eva Farah Felix "
    "Grace Hana Hugo Ines Ivan Jana Jean Jorge Julia Karim Kenji Lara Laura Leo Li Lucas Luis "
    "Maria Mario Maya Mei Mia Nadia Noah Nora Olga Omar Paul Pedro Priya Rosa Sara Sofia Tom "
    "Victor Wei Yara Yusuf Zoe"
).split()
LAST_NAMES = (
    "Adams Alvarez Bauer Becker Brown Chen Costa Dubois Fischer Garcia Gomez Hansen Ito Jensen "
    "Kim Kowalski Lee Lopez Martin Meyer Moreau Muller Nguyen Novak Okafor Olsen Park Perez "
    "Rossi Santos Schmidt Silva Smith Suzuki Tanaka Taylor Wang Weber Wilson Wong Yilmaz Zhang"
).split()
CITIES = (
    ("US", "Austin"),
    ("US", "Denver"),
    ("US", "Miami"),
    ("US", "Seattle"),
    ("CA", "Toronto"),
    ("MX", "Monterrey"),
    ("GB", "Leeds"),
    ("DE", "Hamburg"),
    ("FR", "Lyon"),
    ("CN", "Shanghai"),
)
# (default_code, name, list_price, pv, bv)
CATALOGUE = (
    ("DS-NUT-001", "Daily Multivitamin (60 caps)", 29.90, 20.0, 18.0),
    ("DS-NUT-002", "Omega-3 Fish Oil (90 caps)", 34.50, 25.0, 22.0),
    ("DS-NUT-003", "Protein Shake Vanilla (750 g)", 49.00, 35.0, 30.0),
    ("DS-NUT-004", "Protein Shake Chocolate (750 g)", 49.00, 35.0, 30.0),
    ("DS-NUT-005", "Fibre Blend (300 g)", 24.75, 15.0, 13.5),
    ("DS-NUT-006", "Green Tea Extract (60 caps)", 19.99, 12.0, 10.0),
    ("DS-NUT-007", "Probiotic Complex (30 caps)", 39.00, 28.0, 25.0),
    ("DS-SKN-001", "Hydrating Day Cream (50 ml)", 42.00, 30.0, 27.0),
    ("DS-SKN-002", "Night Repair Serum (30 ml)", 64.50, 45.0, 40.0),
    ("DS-SKN-003", "Gentle Cleanser (150 ml)", 18.40, 10.0, 9.0),
    ("DS-SKN-004", "SPF 50 Sun Lotion (100 ml)", 27.30, 18.0, 16.0),
    ("DS-HOM-001", "Concentrated Dish Soap (1 l)", 9.95, 5.0, 4.5),
    ("DS-HOM-002", "Laundry Pods (40)", 21.60, 12.0, 11.0),
    ("DS-HOM-003", "Water Filter Cartridge", 55.00, 38.0, 33.0),
    ("DS-HOM-004", "Air Purifier", 349.00, 240.0, 210.0),
    ("DS-KIT-001", "Business Starter Kit", 99.00, 0.0, 0.0),
    ("DS-KIT-002", "Wellness Pack (monthly)", 119.00, 100.0, 90.0),
    ("DS-FRG-001", "Eau de Parfum Aurora (50 ml)", 58.20, 40.0, 36.0),
    ("DS-FRG-002", "Eau de Toilette Breeze (100 ml)", 44.10, 30.0, 27.0),
    ("DS-ACC-001", "Shaker Bottle", 7.50, 0.0, 0.0),
)

# catalogue index of the autoship product (the monthly wellness pack, 100 PV)
AUTOSHIP_PACK = next(i for i, c in enumerate(CATALOGUE) if c[0] == "DS-KIT-002")


def _log(msg):
    print(msg, flush=True)


def _copy(cr, table, columns, rows):
    """COPY an iterable of tuples (already text-safe values, None -> NULL) into table."""
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else str(v) for v in row))
        buf.write("\n")
    buf.seek(0)
    # fixed, internal table/column names only (never user input)
    cr._obj.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def _copy_text(cr, table, columns, text):
    cr._obj.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(text)
    )


class _TimedCursor:
    """Cursor proxy logging statements slower than a second (what to optimise at scale)."""

    def __init__(self, cr, log):
        self._cr = cr
        self._log = log

    def execute(self, query, params=None):
        t0 = time.perf_counter()
        self._cr.execute(query, params)
        dt = time.perf_counter() - t0
        if dt > 1.0:
            self._log(f"    {dt:6.1f} s  {' '.join(str(query).split())[:70]}")

    def __getattr__(self, name):
        return getattr(self._cr, name)


def _columns(cr, table):
    cr.execute(
        "SELECT column_name, is_nullable = 'NO' AND column_default IS NULL"
        " FROM information_schema.columns WHERE table_name = %s",
        [table],
    )
    return dict(cr.fetchall())


def _reserve_ids(cr, table, count):
    """Reserve `count` consecutive ids of table's id sequence; return the first."""
    cr.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    seq = cr.fetchone()[0]
    cr.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    cr.execute(
        f"SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), nextval(%s))",
        [seq],
    )
    first = cr.fetchone()[0] + 1
    cr.execute("SELECT setval(%s, %s)", [seq, first + max(count, 1) - 1])
    return first


class NetworkGenerator:
    """Builds a network set-based. All heavy tables are written with COPY/INSERT..SELECT."""

    def __init__(
        self,
        env,
        distributors=1000,
        months=6,
        seed=42,
        customers=None,
        end_date=None,
        distributor_buy_rate=0.6,
        customer_buy_rate=0.3,
        lines_per_invoice=None,
        max_lines=3,
        refund_rate=0.02,
        deep_chain=None,
        compute_volumes=True,
        leader=True,
        tree="preferential",
        depth_range=None,
        autoship_min_downline=None,
        log=_log,
    ):
        self.env = env(su=True)  # an admin tool: writes whatever the network needs
        self.cr = _TimedCursor(env.cr, log)
        self.n = int(distributors)
        self.months = int(months)
        self.seed = int(seed)
        self.n_customers = self.n // 2 if customers is None else int(customers)
        self.end_date = end_date or datetime.date.today()
        self.dist_rate = distributor_buy_rate
        self.cust_rate = customer_buy_rate
        self.lines_per_invoice = lines_per_invoice
        self.max_lines = max_lines
        self.refund_rate = refund_rate
        if deep_chain is None:
            deep_chain = 1000 if self.n >= 5000 else self.n // 5
        self.deep_chain = max(0, min(int(deep_chain), self.n - 1))
        if tree not in self.TREE_SHAPES:
            raise ValueError(f"tree must be one of {self.TREE_SHAPES}, not {tree!r}")
        self.tree = tree
        self.depth_range = depth_range
        # distributors with at least this many people below them are on autoship: one
        # monthly wellness pack (100 PV) on the first day of each month they are enrolled
        self.autoship_min_downline = autoship_min_downline
        self.compute_volumes = compute_volumes
        self.bulk = False
        self.leader = leader
        self.log = log
        self.company = env.company
        self.timings = {}
        self.summary = {}

    # ------------------------------------------------------------------ utils
    def _step(self, name, t0):
        dt = time.perf_counter() - t0
        self.timings[name] = dt
        self.log(f"  {name}: {dt:.1f} s")

    def _month_ranges(self):
        end = self.end_date
        res = []
        y, m = end.year, end.month
        for _i in range(self.months):
            first = datetime.date(y, m, 1)
            last = datetime.date(y, m, calendar.monthrange(y, m)[1])
            res.append((first, last))
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        return list(reversed(res))

    # ------------------------------------------------------------------- main
    def run(self):
        t_all = time.perf_counter()
        env = self.env
        env.flush_all()
        self.log(
            f"Generating {self.n} distributors, {self.n_customers} customers, "
            f"{self.months} months (seed {self.seed}, up to {self.end_date})"
        )
        self.dist_cols = _columns(self.cr, "ds_distributor")
        self.partner_cols = _columns(self.cr, "res_partner")
        self.aml_cols = _columns(self.cr, "account_move_line")
        self.move_cols = _columns(self.cr, "account_move")
        if not self.dist_cols:
            raise RuntimeError(
                "table ds_distributor not found: is crm_direct_selling installed?"
            )

        t0 = time.perf_counter()
        self._prepare_orm()
        self._step("catalogue, periods, accounts (ORM)", t0)
        bulk = self.bulk = self._bulk_mode(True)
        dropped = (
            self._drop_indexes() if bulk and self.n >= self.DROP_INDEXES_FROM else []
        )
        t0 = time.perf_counter()
        self._build_tree()
        self._step("sponsor tree (Python)", t0)
        t0 = time.perf_counter()
        self._write_distributors()
        self._step("partners + distributors (COPY)", t0)
        t0 = time.perf_counter()
        self._write_customers()
        self._step("retail customers (COPY)", t0)
        t0 = time.perf_counter()
        self._build_orders()
        self._step("orders (numpy + COPY)", t0)
        t0 = time.perf_counter()
        self._write_moves()
        self._step("invoices, refunds and lines (SQL)", t0)
        if dropped:
            t0 = time.perf_counter()
            for _name, definition in dropped:
                self.cr.execute(definition)
            self._step(f"{len(dropped)} indexes rebuilt", t0)
        if bulk:
            self._bulk_mode(False)
        env.invalidate_all()
        if self.compute_volumes:
            t0 = time.perf_counter()
            self._compute_volumes()
            self._step("volumes per period (ds.period)", t0)
        if self.leader:
            t0 = time.perf_counter()
            self._create_leader()
            self._step("leader portal login", t0)
        self.summary["seconds"] = time.perf_counter() - t_all
        self._print_summary()
        return self.summary

    # preferential: sponsors picked in proportion to their frontline (a shallow, very wide
    # tree, ~8 levels at 3,000); organic: half of the recruits join a recent distributor
    # (who is still building), which gives a network 15-30 levels deep with long active legs
    TREE_SHAPES = ("preferential", "organic")

    BULK_TABLES = ("res_partner", "ds_distributor", "account_move", "account_move_line")
    DROP_INDEXES_FROM = 200_000

    def _drop_indexes(self):
        """Big loads: drop the plain (non-unique) indexes of the loaded tables; the caller
        recreates them from their saved definitions at the end, in the same transaction."""
        cr = self.cr
        cr.execute(
            """
            SELECT c.relname, pg_get_indexdef(x.indexrelid)
              FROM pg_index x
              JOIN pg_class c ON c.oid = x.indexrelid
              JOIN pg_class t ON t.oid = x.indrelid
             WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
               AND NOT x.indisunique AND NOT x.indisprimary
             ORDER BY c.relname
            """,
            [list(self.BULK_TABLES)],
        )
        indexes = cr.fetchall()
        for name, _definition in indexes:
            cr.execute(f'DROP INDEX "{name}"')
        cr.execute("SET LOCAL maintenance_work_mem = '512MB'")
        self.log(f"  {len(indexes)} plain indexes dropped during the load")
        return indexes

    def _bulk_mode(self, on):
        """Skip per-row foreign-key triggers while bulk loading (superuser only).

        Every id written is taken from rows created here or read from the database just
        before, so referential integrity holds by construction; 4 million rows x 10 FK
        checks is most of the load time otherwise. Falls back silently without the right.
        """
        if not on:
            self.cr.execute("SET LOCAL session_replication_role = origin")
            return True
        try:
            with self.env.cr.savepoint():
                self.cr.execute("SET LOCAL session_replication_role = replica")
            return True
        except Exception:  # noqa: BLE001 - not a superuser: keep the triggers
            self.log("  (no superuser: foreign keys checked row by row, slower)")
            return False

    # -------------------------------------------------------------------- ORM
    def _prepare_orm(self):
        env = self.env
        company = self.company
        Product = env["product.product"].with_company(company)
        existing = {
            p.default_code: p
            for p in Product.search([("default_code", "in", [c[0] for c in CATALOGUE])])
        }
        to_create = []
        for code, name, price, pv, bv in CATALOGUE:
            if code not in existing:
                to_create.append(
                    {
                        "default_code": code,
                        "name": name,
                        "list_price": price,
                        "ds_pv": pv,
                        "ds_bv": bv,
                        "taxes_id": [(5, 0, 0)],
                        "type": "consu",
                    }
                )
        if to_create:
            for p in Product.create(to_create):
                existing[p.default_code] = p
        self.products = [existing[c[0]] for c in CATALOGUE]

        self.journal = env["account.journal"].search(
            [
                ("type", "=", "sale"),
                *env["account.journal"]._check_company_domain(company),
            ],
            limit=1,
        )
        if not self.journal:
            raise RuntimeError("no sales journal: install a chart of accounts first")
        partner = company.partner_id.with_company(company)
        self.receivable = partner.property_account_receivable_id
        if not self.receivable:
            raise RuntimeError("no receivable account configured")
        self.currency = company.currency_id
        admin = env.ref("base.user_admin", raise_if_not_found=False)
        self.salesperson_id = admin.id if admin else env.uid
        self.uom_id = env.ref("uom.product_uom_unit").id

        # periods, one per month (found or created through the ORM)
        Period = env["ds.period"].with_company(company)
        self.periods = []
        for first, last in self._month_ranges():
            period = Period.search(
                [
                    ("company_id", "=", company.id),
                    ("date_from", "<=", last),
                    ("date_to", ">=", first),
                ],
                limit=1,
            )
            if not period:
                vals = {"date_from": first, "date_to": last, "company_id": company.id}
                if "name" in Period._fields:
                    vals["name"] = first.strftime("%Y-%m")
                period = Period.create(vals)
            self.periods.append(period)
        env.flush_all()

        # distributor code sequence
        self.code_seq = env["ir.sequence"].search(
            [
                ("code", "=", "ds.distributor"),
                ("company_id", "in", [company.id, False]),
            ],
            limit=1,
        )

    # ------------------------------------------------------------------- tree
    def _build_tree(self):
        n = self.n
        rng = random.Random(self.seed)
        chain = self.deep_chain
        n_main = n - chain - 2 * (chain // 10)
        sponsor = [-1] * n
        depth = [0] * n
        targets = [0]
        rand = rng.random
        organic = self.tree == "organic"
        lo, hi = self.depth_range or (0, 0)
        for i in range(1, max(n_main, 1)):
            if organic and rand() >= 0.6:
                # a recent recruit (the last 2% to join) sponsors
                s = i - 1 - int(rand() * min(max(5, i // 50), i))
            else:
                s = targets[int(rand() * len(targets))]
            while hi and depth[s] >= hi:  # too deep: another preferential pick
                s = targets[int(rand() * len(targets))]
            sponsor[i] = s
            depth[i] = depth[s] + 1
            targets.append(s)
            targets.append(i)
        if lo and n_main > 1:
            # too shallow: the last recruits (leaves or sponsors of later ones only) form
            # a one-legged line under the deepest distributor until the depth is reached
            deepest = max(range(n_main), key=depth.__getitem__)
            short = lo - depth[deepest]
            first = n_main - short
            if short > 0 and first > deepest:
                for i in range(first, n_main):
                    sponsor[i] = deepest if i == first else i - 1
                    depth[i] = depth[sponsor[i]] + 1
        # deep one-legged chains hanging from random members of the main tree
        i = max(n_main, 1)
        for length in (chain, chain // 10, chain // 10):
            if length <= 0 or i >= n:
                continue
            parent = int(rand() * max(n_main, 1))
            for _k in range(length):
                if i >= n:
                    break
                sponsor[i] = parent
                depth[i] = depth[parent] + 1
                parent = i
                i += 1
        while i < n:  # rounding leftovers: attach to the root
            sponsor[i] = 0
            depth[i] = 1
            i += 1
        self.sponsor = sponsor
        self.depth = depth
        # subtree sizes (children always have a higher index than their sponsor)
        size = [1] * n
        for i in range(n - 1, 0, -1):
            size[sponsor[i]] += size[i]
        self.subtree = size
        # enrollment: the older the node, the earlier; the last 25% join during the months
        months = self._month_ranges()
        start = months[0][0]
        horizon_start = start - datetime.timedelta(days=3 * 365)
        end = self.end_date
        np_rng = np.random.default_rng(self.seed)
        frac = np.sort(np_rng.random(n)) if n else np.zeros(0)
        split = 0.75
        days_before = (start - horizon_start).days
        days_during = max((end - start).days, 1)
        offs = np.where(
            frac < split,
            (frac / split) * days_before,
            days_before + (frac - split) / (1 - split) * days_during,
        ).astype(np.int64)
        self.enroll = np.datetime64(horizon_start) + offs.astype("timedelta64[D]")
        if n:
            self.enroll[0] = np.datetime64(horizon_start)

    def _write_distributors(self):
        cr = self.cr
        n = self.n
        if not n:
            self.dist_first = self.partner_first = 0
            return
        company = self.company
        rng = random.Random(self.seed + 1)
        p0 = _reserve_ids(cr, "res_partner", n)
        d0 = _reserve_ids(cr, "ds_distributor", n)
        self.partner_first, self.dist_first = p0, d0
        uid = self.env.uid
        now = datetime.datetime.now().replace(microsecond=0).isoformat(" ")
        countries = self._countries()
        pcols = self.partner_cols
        dcols = self.dist_cols
        own_company = "company_id" in dcols

        # partners
        p_columns = [
            "id", "name", "complete_name", "email", "email_normalized", "lang", "type", "active",
            "is_company", "partner_share", "commercial_partner_id", "customer_rank",
            "supplier_rank", "autopost_bills", "invoice_warn", "sale_warn", "picking_warn",
            "color", "message_bounce", "country_id", "city", "company_id",
            "create_uid", "write_uid", "create_date", "write_date",
        ]  # fmt: skip
        if "ds_birthday" in pcols:
            p_columns.append("ds_birthday")
        # partner.ds_distributor_id <-> distributor.partner_id is a circular foreign key:
        # written with the partners when the FK triggers are off (bulk), else updated after
        has_pdist = "ds_distributor_id" in pcols
        if has_pdist and self.bulk:
            p_columns.append("ds_distributor_id")
        p_columns = [c for c in p_columns if c in pcols]
        prefix, padding = self._code_format()
        self.codes = []
        lines = []
        for i in range(n):
            first = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))]
            last = LAST_NAMES[int(rng.random() * len(LAST_NAMES))]
            cc, city = CITIES[int(rng.random() * len(CITIES))]
            bday = datetime.date(
                1950 + int(rng.random() * 54), 1, 1
            ) + datetime.timedelta(days=int(rng.random() * 365))
            code = f"{prefix}{self.code_start + i:0{padding}d}"
            self.codes.append(code)
            name = f"{first} {last}"
            email = f"{first}.{last}.{code}@example.com".lower()
            vals = {
                "id": p0 + i, "name": name, "complete_name": name, "email": email,
                "email_normalized": email, "lang": "en_US", "type": "contact", "active": "t",
                "is_company": "f", "partner_share": "t", "commercial_partner_id": p0 + i,
                "customer_rank": 1, "supplier_rank": 0, "autopost_bills": "ask",
                "invoice_warn": "no-message", "sale_warn": "no-message",
                "picking_warn": "no-message", "color": 0, "message_bounce": 0,
                "country_id": countries.get(cc), "city": city,
                "company_id": None if own_company else company.id,
                "create_uid": uid, "write_uid": uid, "create_date": now, "write_date": now,
                "ds_birthday": bday.isoformat(), "ds_distributor_id": d0 + i,
            }  # fmt: skip
            lines.append(
                "\t".join("\\N" if vals[c] is None else str(vals[c]) for c in p_columns)
            )
        _copy_text(cr, "res_partner", p_columns, "\n".join(lines) + "\n")
        lines = None

        # distributors
        d_columns = [
            "id", "partner_id", "code", "sponsor_id", "enrollment_date", "state", "company_id",
            "parent_path", "depth", "active", "create_uid", "write_uid", "create_date",
            "write_date",
        ]  # fmt: skip
        d_columns = [c for c in d_columns if c in dcols]
        missing = [
            c
            for c, required in dcols.items()
            if required and c not in d_columns and c != "id"
        ]
        if missing:
            raise RuntimeError(
                f"ds_distributor has required columns the generator does not fill: {missing}"
            )
        enroll = np.datetime_as_string(self.enroll).tolist()
        sponsor, depth = self.sponsor, self.depth
        paths = [None] * n
        buf = io.StringIO()
        for i in range(n):
            s = sponsor[i]
            did = d0 + i
            paths[i] = f"{did}/" if s < 0 else f"{paths[s]}{did}/"
            vals = {
                "id": did, "partner_id": p0 + i, "code": self.codes[i],
                "sponsor_id": None if s < 0 else d0 + s, "enrollment_date": enroll[i],
                "state": "active", "company_id": company.id, "parent_path": paths[i],
                "depth": depth[i], "active": "t", "create_uid": uid, "write_uid": uid,
                "create_date": now, "write_date": now,
            }  # fmt: skip
            buf.write(
                "\t".join("\\N" if vals[c] is None else str(vals[c]) for c in d_columns)
            )
            buf.write("\n")
        paths = None
        buf.seek(0)
        cr._obj.copy_expert(
            f"COPY ds_distributor ({', '.join(d_columns)}) FROM STDIN", buf
        )
        if has_pdist and not self.bulk:
            cr.execute(
                "UPDATE res_partner SET ds_distributor_id = id - %s + %s WHERE id >= %s AND id < %s",
                [p0, d0, p0, p0 + n],
            )
        if self.code_seq:
            self.code_seq.sudo().write({"number_next": self.code_start + n})
        self.summary.update(
            distributors=n, max_depth=max(depth), first_distributor_id=d0
        )

    def _code_format(self):
        """Prefix, padding and first number for distributor codes."""
        seq = self.code_seq
        if seq:
            d = (
                seq._get_prefix_suffix()
                if hasattr(seq, "_get_prefix_suffix")
                else (seq.prefix or "", "")
            )
            prefix = d[0] or ""
            padding = seq.padding or 6
            start = seq.number_next_actual or seq.number_next or 1
        else:
            prefix, padding, start = "GEN", 7, 1
        # never collide with existing codes
        self.cr.execute(
            "SELECT code FROM ds_distributor WHERE code LIKE %s",
            [prefix.replace("%", r"\%") + "%"],
        )
        used = [
            int(c[len(prefix) :])
            for (c,) in self.cr.fetchall()
            if c[len(prefix) :].isdigit()
        ]
        self.code_start = max([start, *[u + 1 for u in used]])
        return prefix, padding

    def _countries(self):
        codes = sorted({c for c, _city in CITIES})
        countries = self.env["res.country"].search([("code", "in", codes)])
        return {c.code: c.id for c in countries}

    def _write_customers(self):
        cr = self.cr
        m = self.n_customers
        self.customer_first = 0
        if not m or not self.n:
            self.n_customers = 0
            return
        rng = np.random.default_rng(self.seed + 2)
        c0 = _reserve_ids(cr, "res_partner", m)
        self.customer_first = c0
        # referrers: preferential to older distributors (more customers upstream)
        self.cust_referrer = (rng.random(m) ** 1.5 * self.n).astype(np.int64)
        first = rng.integers(0, len(FIRST_NAMES), m)
        last = rng.integers(0, len(LAST_NAMES), m)
        city = rng.integers(0, len(CITIES), m)
        uid = self.env.uid
        now = datetime.datetime.now().replace(microsecond=0).isoformat(" ")
        countries = self._countries()
        pcols = self.partner_cols
        cols = [
            "id", "name", "complete_name", "email", "email_normalized", "lang", "type", "active",
            "is_company", "partner_share", "commercial_partner_id", "customer_rank",
            "supplier_rank", "autopost_bills", "invoice_warn", "sale_warn", "picking_warn",
            "color", "message_bounce", "country_id", "city", "ds_referrer_id",
            "create_uid", "write_uid", "create_date", "write_date",
        ]  # fmt: skip
        if "ds_referrer_id" not in pcols:
            raise RuntimeError(
                "res_partner.ds_referrer_id missing: is crm_direct_selling up to date?"
            )
        cols = [c for c in cols if c in pcols]
        d0 = self.dist_first
        out = []
        for k in range(m):
            fn, ln = FIRST_NAMES[first[k]], LAST_NAMES[last[k]]
            cc, cy = CITIES[city[k]]
            pid = c0 + k
            name = f"{fn} {ln}"
            email = f"{fn}.{ln}.c{pid}@example.org".lower()
            vals = {
                "id": pid, "name": name, "complete_name": name, "email": email,
                "email_normalized": email, "lang": "en_US", "type": "contact", "active": "t",
                "is_company": "f", "partner_share": "t", "commercial_partner_id": pid,
                "customer_rank": 1, "supplier_rank": 0, "autopost_bills": "ask",
                "invoice_warn": "no-message", "sale_warn": "no-message",
                "picking_warn": "no-message", "color": 0, "message_bounce": 0,
                "country_id": countries.get(cc), "city": cy,
                "ds_referrer_id": d0 + int(self.cust_referrer[k]),
                "create_uid": uid, "write_uid": uid, "create_date": now, "write_date": now,
            }  # fmt: skip
            out.append(
                "\t".join("\\N" if vals[c] is None else str(vals[c]) for c in cols)
            )
        _copy_text(cr, "res_partner", cols, "\n".join(out) + "\n")
        self.summary["customers"] = m

    # ----------------------------------------------------------------- orders
    def _build_orders(self):
        """Decide who buys when (numpy), COPY into a temporary table gen_move."""
        cr = self.cr
        rng = np.random.default_rng(self.seed + 3)
        n, m = self.n, self.n_customers
        dist_pid = np.arange(n, dtype=np.int64) + self.partner_first
        dist_did = np.arange(n, dtype=np.int64) + self.dist_first
        cust_pid = np.arange(m, dtype=np.int64) + self.customer_first
        cust_did = (
            (self.cust_referrer + self.dist_first) if m else np.zeros(0, np.int64)
        )
        end = np.datetime64(self.end_date)
        parts = []
        autoship = (
            np.asarray(self.subtree, dtype=np.int64) - 1 >= self.autoship_min_downline
            if self.autoship_min_downline is not None and n
            else np.zeros(n, bool)
        )
        for first, last in self._month_ranges():
            f = np.datetime64(first)
            la = min(np.datetime64(last), end)
            ndays = int((la - f).astype(int)) + 1
            # distributors enrolled by the end of the month
            buy = (rng.random(n) < self.dist_rate) & (self.enroll <= la)
            idx = np.nonzero(buy)[0]
            lo = np.maximum(self.enroll[idx], f)
            span = ((la - lo).astype(np.int64) + 1).clip(min=1)
            d = lo + (rng.random(len(idx)) * span).astype(np.int64).astype(
                "timedelta64[D]"
            )
            parts.append((dist_pid[idx], dist_did[idx], d, np.zeros(len(idx), bool)))
            auto = np.nonzero(autoship & (self.enroll <= la))[0]
            if len(auto):
                d = np.maximum(self.enroll[auto], f)
                parts.append(
                    (dist_pid[auto], dist_did[auto], d, np.ones(len(auto), bool))
                )
            if m:
                cbuy = np.nonzero(rng.random(m) < self.cust_rate)[0]
                d = f + (rng.random(len(cbuy)) * ndays).astype(np.int64).astype(
                    "timedelta64[D]"
                )
                parts.append(
                    (cust_pid[cbuy], cust_did[cbuy], d, np.zeros(len(cbuy), bool))
                )
        pid = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        did = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        dates = (
            np.concatenate([p[2] for p in parts])
            if parts
            else np.zeros(0, "datetime64[D]")
        )
        auto = np.concatenate([p[3] for p in parts]) if parts else np.zeros(0, bool)
        n_inv = len(pid)
        if self.lines_per_invoice:
            nlines = np.full(n_inv, int(self.lines_per_invoice), np.int64)
        else:
            nlines = rng.integers(1, self.max_lines + 1, n_inv)
        nlines[auto] = 1
        # refunds: the first line of some invoices comes back 0-20 days later
        ref = np.nonzero(rng.random(n_inv) < self.refund_rate)[0]
        rdates = np.minimum(
            dates[ref] + rng.integers(0, 21, len(ref)).astype("timedelta64[D]"), end
        )
        n_ref = len(ref)
        total = n_inv + n_ref
        keys = np.arange(total, dtype=np.int64)
        all_pid = np.concatenate([pid, pid[ref]])
        all_did = np.concatenate([did, did[ref]])
        all_dates = np.concatenate([dates, rdates])
        all_nlines = np.concatenate([nlines, np.ones(n_ref, np.int64)])
        is_ref = np.concatenate([np.zeros(n_inv, bool), np.ones(n_ref, bool)])
        all_auto = np.concatenate([auto, auto[ref]])
        src_key = np.concatenate([keys[:n_inv], ref])
        # ids in (date, key) order so ids, names and dates grow together
        order = np.lexsort((keys, all_dates))
        m0 = _reserve_ids(cr, "account_move", total)
        ids = np.empty(total, np.int64)
        ids[order] = np.arange(total, dtype=np.int64) + m0
        orig_id = np.full(total, -1, np.int64)
        orig_id[n_inv:] = ids[ref]
        self.move_first, self.move_count = m0, total
        self.summary.update(invoices=n_inv, refunds=n_ref, first_move_id=m0)
        cr.execute(
            """CREATE TEMP TABLE gen_move (
                key bigint, id integer, partner_id integer, dist_id integer, date date,
                nlines integer, is_refund boolean, src_key bigint, orig_id integer,
                autoship boolean)"""
        )
        date_s = np.datetime_as_string(all_dates).tolist()
        cols = zip(
            keys.tolist(), ids.tolist(), all_pid.tolist(), all_did.tolist(), date_s,
            all_nlines.tolist(), np.where(is_ref, "t", "f").tolist(), src_key.tolist(),
            orig_id.tolist(), np.where(all_auto, "t", "f").tolist(), strict=True,
        )  # fmt: skip
        text = "".join(
            f"{k}\t{i}\t{p}\t{d}\t{dt}\t{nl}\t{r}\t{s}\t{o if o >= 0 else chr(92) + 'N'}\t{a}\n"
            for k, i, p, d, dt, nl, r, s, o, a in cols
        )
        _copy_text(cr, "gen_move", ["key", "id", "partner_id", "dist_id", "date", "nlines",
                                     "is_refund", "src_key", "orig_id", "autoship"], text)  # fmt: skip
        cr.execute("CREATE UNIQUE INDEX ON gen_move (id)")
        cr.execute("ANALYZE gen_move")

    # ------------------------------------------------------------------ moves
    def _write_moves(self):
        cr = self.cr
        env = self.env
        company = self.company
        journal = self.journal
        digits = self.currency.decimal_places
        uid = env.uid
        # catalogue
        cr.execute(
            "CREATE TEMP TABLE gen_product (idx integer, product_id integer, name varchar,"
            " price numeric, pv numeric, bv numeric, account_id integer)"
        )
        rows = []
        for idx, p in enumerate(self.products):
            accounts = p.product_tmpl_id.with_company(company)._get_product_accounts()
            account = accounts["income"] or journal.default_account_id
            label = p.display_name
            rows.append((idx, p.id, label, p.lst_price, p.ds_pv, p.ds_bv, account.id))
        _copy(
            cr,
            "gen_product",
            ["idx", "product_id", "name", "price", "pv", "bv", "account_id"],
            rows,
        )
        n_prod = len(rows)

        # periods and sequence prefixes per month
        cr.execute(
            "CREATE TEMP TABLE gen_month (date_from date, date_to date, period_id integer,"
            " inv_prefix varchar, ref_prefix varchar)"
        )
        rows = []
        Move = env["account.move"].with_company(company)
        for (first, last), period in zip(
            self._month_ranges(), self.periods, strict=True
        ):
            prefixes = []
            for move_type in ("out_invoice", "out_refund"):
                draft = Move.new({"move_type": move_type, "journal_id": journal.id, "date": first,
                                  "invoice_date": first, "company_id": company.id})  # fmt: skip
                start = draft._get_starting_sequence()
                prefixes.append(re.match(r"^(.*?)(\d+)$", start).group(1))
            if period.state == "closed":
                # as for an invoice posted now: its volume counts in the next open period
                period = self.env["ds.period"]._ds_period_for_date(first, company)
                self.log(f"  period of {first:%Y-%m} is closed: volumes go to "
                         f"{period.name or 'no period'}")  # fmt: skip
            rows.append((first, last, period.id or None, *prefixes))
        _copy(
            cr,
            "gen_month",
            ["date_from", "date_to", "period_id", "inv_prefix", "ref_prefix"],
            rows,
        )

        # lines: product and quantity are a hash of (seed, source invoice, line number);
        # a refund returns line 1 of its source invoice.
        cr.execute(
            """
            CREATE TEMP TABLE gen_line AS
            SELECT g.id AS move_id, g.partner_id, g.date, g.is_refund, k AS seq, p.product_id,
                   p.name, p.price, p.account_id, q.qty,
                   ROUND(q.qty * p.price, %(digits)s) AS subtotal,
                   q.qty * p.pv * (CASE WHEN g.is_refund THEN -1 ELSE 1 END) AS pv,
                   q.qty * p.bv * (CASE WHEN g.is_refund THEN -1 ELSE 1 END) AS bv
              FROM gen_move g
              CROSS JOIN LATERAL generate_series(1, g.nlines) k
              CROSS JOIN LATERAL (
                  SELECT CASE WHEN g.autoship THEN %(pack)s
                              ELSE MOD(ABS(hashint8extended(g.src_key * 16 + k, %(seed)s)), %(nprod)s)::int
                         END AS pidx,
                         CASE WHEN g.autoship THEN 1
                              ELSE 1 + MOD(ABS(hashint8extended(g.src_key * 16 + k, %(seed)s + 1)), 3)
                         END AS qty
              ) q
              JOIN gen_product p ON p.idx = q.pidx
            """,
            {
                "digits": digits,
                "seed": self.seed,
                "nprod": n_prod,
                "pack": AUTOSHIP_PACK,
            },
        )
        cr.execute(
            """
            CREATE TEMP TABLE gen_total AS
            SELECT move_id, SUM(subtotal) AS total, SUM(pv) AS pv, SUM(bv) AS bv
              FROM gen_line GROUP BY move_id
            """
        )
        cr.execute("CREATE UNIQUE INDEX ON gen_total (move_id)")
        cr.execute("ANALYZE gen_total")
        # names: continue each prefix after what the journal already holds
        cr.execute(
            """
            CREATE TEMP TABLE gen_name AS
            WITH pre AS (
                SELECT g.id, g.date, CASE WHEN g.is_refund THEN mo.ref_prefix ELSE mo.inv_prefix END AS prefix,
                       mo.period_id
                  FROM gen_move g JOIN gen_month mo ON g.date BETWEEN mo.date_from AND mo.date_to
            ), last AS (
                SELECT sequence_prefix AS prefix, MAX(sequence_number) AS n
                  FROM account_move WHERE journal_id = %(journal)s
                   AND sequence_prefix IN (SELECT DISTINCT prefix FROM pre)
                 GROUP BY 1
            )
            SELECT pre.id, pre.prefix, pre.period_id,
                   COALESCE(last.n, 0) + ROW_NUMBER() OVER (PARTITION BY pre.prefix ORDER BY pre.date, pre.id) AS number
              FROM pre LEFT JOIN last ON last.prefix = pre.prefix
            """,
            {"journal": journal.id},
        )
        cr.execute("CREATE UNIQUE INDEX ON gen_name (id)")
        cr.execute("ANALYZE gen_name")

        ds_move = [c for c in ("ds_distributor_id", "ds_period_id", "ds_pv_total", "ds_bv_total")
                   if c in self.move_cols]  # fmt: skip
        ds_move_sql = {
            "ds_distributor_id": "g.dist_id",
            "ds_period_id": "n.period_id",
            "ds_pv_total": "t.pv",
            "ds_bv_total": "t.bv",
        }
        extra_cols = "".join(f", {c}" for c in ds_move)
        extra_vals = "".join(f", {ds_move_sql[c]}" for c in ds_move)
        # the partner display name: invoice_partner_display_name
        cr.execute(
            f"""
            INSERT INTO account_move (
                id, name, sequence_prefix, sequence_number, journal_id, company_id, partner_id,
                commercial_partner_id, partner_shipping_id, currency_id, reversed_entry_id, ref,
                state, move_type, auto_post, payment_reference, payment_state,
                invoice_partner_display_name, date, invoice_date, invoice_date_due,
                invoice_currency_rate, amount_untaxed, amount_tax, amount_total, amount_residual,
                amount_untaxed_signed, amount_untaxed_in_currency_signed, amount_tax_signed,
                amount_total_signed, amount_total_in_currency_signed, amount_residual_signed,
                is_storno, always_tax_exigible, checked, posted_before, made_sequence_gap,
                is_manually_modified, is_move_sent, invoice_user_id,
                create_uid, write_uid, create_date, write_date{extra_cols})
            SELECT g.id, nm.name, n.prefix, n.number, %(journal)s, %(company)s, g.partner_id,
                   g.partner_id, g.partner_id, %(currency)s, g.orig_id,
                   CASE WHEN g.is_refund THEN 'Reversal of: ' || o.name END,
                   'posted', CASE WHEN g.is_refund THEN 'out_refund' ELSE 'out_invoice' END, 'no',
                   CASE WHEN g.is_refund THEN NULL ELSE nm.name END, 'not_paid',
                   rp.name, g.date, g.date, g.date + 30,
                   1.0, t.total, 0.0, t.total, t.total,
                   t.total * s.sign, t.total * s.sign, 0.0,
                   t.total * s.sign, t.total * s.sign, t.total * s.sign,
                   false, false, true, true, false,
                   false, false, %(salesperson)s,
                   %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'{extra_vals}
              FROM gen_move g
              JOIN gen_name n ON n.id = g.id
              JOIN gen_total t ON t.move_id = g.id
              JOIN res_partner rp ON rp.id = g.partner_id
              CROSS JOIN LATERAL (
                  SELECT n.prefix || LPAD(n.number::text, GREATEST(5, LENGTH(n.number::text)), '0') AS name
              ) nm
              CROSS JOIN LATERAL (SELECT CASE WHEN g.is_refund THEN -1 ELSE 1 END AS sign) s
              LEFT JOIN gen_move go ON go.id = g.orig_id
              LEFT JOIN gen_name gn ON gn.id = go.id
              LEFT JOIN LATERAL (
                  SELECT gn.prefix || LPAD(gn.number::text, GREATEST(5, LENGTH(gn.number::text)), '0') AS name
              ) o ON true
             ORDER BY g.id
            """,
            {
                "journal": journal.id,
                "company": company.id,
                "currency": self.currency.id,
                "uid": uid,
                "salesperson": self.salesperson_id,
            },
        )
        aml_ds = [c for c in ("ds_pv", "ds_bv") if c in self.aml_cols]
        aml_ds_cols = "".join(f", {c}" for c in aml_ds)
        aml_ds_vals = "".join(f", l.{c[3:]}" for c in aml_ds)
        aml_ds_zero = "".join(", 0.0" for _c in aml_ds)
        common = """move_id, journal_id, company_id, company_currency_id, currency_id, partner_id,
                    move_name, parent_state, date, invoice_date, sequence, display_type,
                    account_id, name, debit, credit, balance, amount_currency, amount_residual,
                    amount_residual_currency, quantity, price_unit, price_subtotal, price_total,
                    discount, tax_tag_invert, reconciled, create_uid, write_uid, create_date,
                    write_date"""
        # product lines (income: credit on invoices, debit on refunds)
        cr.execute(
            f"""
            INSERT INTO account_move_line ({common}, product_id, product_uom_id{aml_ds_cols})
            SELECT l.move_id, %(journal)s, %(company)s, %(currency)s, %(currency)s, l.partner_id,
                   m.name, 'posted', l.date, l.date, 9 + l.seq, 'product',
                   l.account_id, l.name,
                   CASE WHEN l.is_refund THEN l.subtotal ELSE 0 END,
                   CASE WHEN l.is_refund THEN 0 ELSE l.subtotal END,
                   CASE WHEN l.is_refund THEN l.subtotal ELSE -l.subtotal END,
                   CASE WHEN l.is_refund THEN l.subtotal ELSE -l.subtotal END,
                   0.0, 0.0, l.qty, l.price, l.subtotal, l.subtotal,
                   0.0, false, false, %(uid)s, %(uid)s, m.create_date, m.create_date,
                   l.product_id, %(uom)s{aml_ds_vals}
              FROM gen_line l JOIN account_move m ON m.id = l.move_id
             ORDER BY l.move_id, l.seq
            """,
            {"journal": journal.id, "company": company.id, "currency": self.currency.id,
             "uid": uid, "uom": self.uom_id},
        )  # fmt: skip
        # receivable (payment term) lines
        cr.execute(
            f"""
            INSERT INTO account_move_line ({common}, date_maturity, discount_amount_currency,
                                           discount_balance{aml_ds_cols})
            SELECT m.id, %(journal)s, %(company)s, %(currency)s, %(currency)s, m.partner_id,
                   m.name, 'posted', m.date, m.invoice_date, 10000, 'payment_term',
                   %(receivable)s, COALESCE(m.payment_reference, ''),
                   GREATEST(m.amount_total_signed, 0), GREATEST(-m.amount_total_signed, 0),
                   m.amount_total_signed, m.amount_total_signed, m.amount_total_signed,
                   m.amount_total_signed, 0.0, 0.0, 0.0, 0.0,
                   0.0, false, false, %(uid)s, %(uid)s, m.create_date, m.create_date,
                   m.invoice_date_due, 0.0, 0.0{aml_ds_zero}
              FROM account_move m
             WHERE m.id >= %(first)s AND m.id < %(stop)s
             ORDER BY m.id
            """,
            {"journal": journal.id, "company": company.id, "currency": self.currency.id,
             "uid": uid, "receivable": self.receivable.id, "first": self.move_first,
             "stop": self.move_first + self.move_count},
        )  # fmt: skip
        self._reconcile_refunds()
        cr.execute("SELECT COUNT(*), COALESCE(SUM(subtotal), 0) FROM gen_line")
        n_lines, amount = cr.fetchone()
        self.summary.update(invoice_lines=n_lines, revenue_net=None)
        cr.execute(
            "SELECT COALESCE(SUM(amount_total_signed), 0) FROM account_move WHERE id >= %s AND id < %s",
            [self.move_first, self.move_first + self.move_count],
        )
        self.summary["revenue_net"] = cr.fetchone()[0]
        for t in (
            "gen_line",
            "gen_total",
            "gen_name",
            "gen_move",
            "gen_product",
            "gen_month",
        ):
            cr.execute(f"DROP TABLE {t}")
        cr.execute("ANALYZE account_move")
        cr.execute("ANALYZE account_move_line")
        cr.execute("ANALYZE ds_distributor")
        cr.execute("ANALYZE res_partner")

    def _reconcile_refunds(self):
        """Reconcile each credit note with its invoice, as posting a reversal does in Odoo.

        A refund returns part of its invoice (partial reconcile, invoice 'partial') or all
        of it (full reconcile, invoice 'reversed'); the credit note itself is then 'paid'.
        """
        cr = self.cr
        uid = self.env.uid
        # the moves and lines were just bulk-loaded: without fresh statistics the planner
        # takes account_move_line for empty and joins it row by row (minutes at 20k invoices)
        cr.execute("ANALYZE account_move")
        cr.execute("ANALYZE account_move_line")
        cr.execute(
            """
            CREATE TEMP TABLE gen_rec AS
            SELECT g.id AS refund_id, g.orig_id AS invoice_id, il.id AS inv_line, rl.id AS ref_line,
                   rm.amount_total AS amount, im.amount_total - rm.amount_total AS inv_residual,
                   GREATEST(im.date, rm.date) AS max_date,
                   nextval(pg_get_serial_sequence('account_partial_reconcile', 'id')) AS partial_id,
                   CASE WHEN rm.amount_total = im.amount_total
                        THEN nextval(pg_get_serial_sequence('account_full_reconcile', 'id')) END AS full_id
              FROM gen_move g
              JOIN account_move rm ON rm.id = g.id
              JOIN account_move im ON im.id = g.orig_id
              JOIN account_move_line rl ON rl.move_id = g.id AND rl.display_type = 'payment_term'
              JOIN account_move_line il ON il.move_id = g.orig_id AND il.display_type = 'payment_term'
             WHERE g.is_refund
             ORDER BY g.id
            """
        )
        params = {"uid": uid, "company": self.company.id, "currency": self.currency.id}
        cr.execute(
            """
            INSERT INTO account_full_reconcile (id, create_uid, write_uid, create_date, write_date)
            SELECT full_id, %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM gen_rec WHERE full_id IS NOT NULL
            """,
            params,
        )
        cr.execute(
            """
            INSERT INTO account_partial_reconcile (
                id, debit_move_id, credit_move_id, full_reconcile_id, debit_currency_id,
                credit_currency_id, company_id, max_date, amount, debit_amount_currency,
                credit_amount_currency, create_uid, write_uid, create_date, write_date)
            SELECT partial_id, inv_line, ref_line, full_id, %(currency)s, %(currency)s, %(company)s,
                   max_date, amount, amount, amount, %(uid)s, %(uid)s,
                   now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM gen_rec
            """,
            params,
        )
        cr.execute(
            """
            UPDATE account_move_line l
               SET amount_residual = CASE WHEN l.id = r.inv_line THEN r.inv_residual ELSE 0 END,
                   amount_residual_currency = CASE WHEN l.id = r.inv_line THEN r.inv_residual ELSE 0 END,
                   reconciled = l.id = r.ref_line OR r.inv_residual = 0,
                   full_reconcile_id = r.full_id,
                   matching_number = COALESCE(r.full_id::text, 'P' || r.partial_id)
              FROM gen_rec r
             WHERE l.id IN (r.inv_line, r.ref_line)
            """
        )
        cr.execute(
            """
            UPDATE account_move m
               SET amount_residual = CASE WHEN m.id = r.invoice_id THEN r.inv_residual ELSE 0 END,
                   amount_residual_signed = CASE WHEN m.id = r.invoice_id THEN r.inv_residual ELSE 0 END,
                   payment_state = CASE WHEN m.id = r.refund_id THEN 'paid'
                                        WHEN r.inv_residual = 0 THEN 'reversed'
                                        ELSE 'partial' END
              FROM gen_rec r
             WHERE m.id IN (r.invoice_id, r.refund_id)
            """
        )
        cr.execute("SELECT COUNT(*), COUNT(full_id) FROM gen_rec")
        partials, fulls = cr.fetchone()
        self.summary.update(reconciled_refunds=partials, full_reversals=fulls)
        cr.execute("DROP TABLE gen_rec")

    # ---------------------------------------------------------------- volumes
    def _compute_volumes(self):
        today = self.end_date
        for period in self.periods:
            if "state" in period._fields and period.state != "open":
                continue
            if period.date_to < today and hasattr(period, "action_close"):
                period.action_close()  # computes the volumes, then closes and assigns ranks
            elif hasattr(period, "action_compute_volumes"):
                period.action_compute_volumes()
        self.env.flush_all()

    def _create_leader(self):
        env = self.env
        module = (
            env["ir.module.module"]
            .sudo()
            .search(
                [
                    ("name", "=", "crm_direct_selling_portal"),
                    ("state", "=", "installed"),
                ]
            )
        )
        if not module or not self.n:
            return
        if (
            env["res.users"]
            .with_context(active_test=False)
            .search([("login", "=", "leader@example.com")])
        ):
            self.summary["leader"] = "leader@example.com (existing)"
            return
        # the frontline member of the root with the biggest downline (or the root)
        root_children = [i for i in range(1, self.n) if self.sponsor[i] == 0]
        best = max(root_children, key=lambda i: self.subtree[i]) if root_children else 0
        distributor = env["ds.distributor"].browse(self.dist_first + best)
        env["res.users"].with_context(no_reset_password=True).create(
            {
                "partner_id": distributor.partner_id.id,
                "login": "leader@example.com",
                "password": "leader",
                "groups_id": [(6, 0, [env.ref("base.group_portal").id])],
            }
        )
        self.summary["leader"] = "leader@example.com"
        self.summary["leader_downline"] = self.subtree[best] - 1
        self.summary["leader_code"] = distributor.code

    def _print_summary(self):
        s = self.summary
        self.log("Summary:")
        for key in ("distributors", "max_depth", "customers", "invoices", "refunds", "invoice_lines",
                    "revenue_net", "leader_code", "leader_downline"):  # fmt: skip
            if key in s:
                self.log(f"  {key.replace('_', ' ')}: {s[key]}")
        self.log(f"  total time: {s['seconds']:.1f} s")
        if s.get("leader"):
            self.log("Leader portal login: leader@example.com / leader")


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="setup/generate", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--db", required=True, help="database (crm_direct_selling installed)"
    )
    p.add_argument("--config", "-c", help="Odoo configuration file")
    p.add_argument("--distributors", type=int, default=3000)
    p.add_argument("--months", type=int, default=6)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--customers", type=int, help="retail customers (default: distributors / 2)"
    )
    p.add_argument(
        "--end-date",
        type=datetime.date.fromisoformat,
        help="last invoice date (default today)",
    )
    p.add_argument(
        "--distributor-buy-rate",
        type=float,
        default=0.6,
        help="share buying each month",
    )
    p.add_argument("--customer-buy-rate", type=float, default=0.3)
    p.add_argument(
        "--lines-per-invoice", type=int, help="fixed lines per invoice (default 1-3)"
    )
    p.add_argument("--refund-rate", type=float, default=0.02)
    p.add_argument(
        "--deep-chain", type=int, help="length of the longest one-legged chain"
    )
    p.add_argument(
        "--no-volumes", action="store_true", help="don't compute/close the periods"
    )
    p.add_argument(
        "--no-leader", action="store_true", help="don't create the leader portal login"
    )
    return p.parse_args(argv)


@contextlib.contextmanager
def superuser_env(db, config=None):
    """An environment of the superuser on ``db`` (Odoo configured from ``config``),
    for the command-line tools of setup/ (this one and demo.py); the caller commits."""
    import odoo
    from odoo import SUPERUSER_ID, api

    cfg = ["-d", db]
    if config:
        cfg = ["-c", config, *cfg]
    odoo.tools.config.parse_config(cfg)
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with superuser_env(args.db, args.config) as env:
        gen = NetworkGenerator(
            env,
            distributors=args.distributors,
            months=args.months,
            seed=args.seed,
            customers=args.customers,
            end_date=args.end_date,
            distributor_buy_rate=args.distributor_buy_rate,
            customer_buy_rate=args.customer_buy_rate,
            lines_per_invoice=args.lines_per_invoice,
            refund_rate=args.refund_rate,
            deep_chain=args.deep_chain,
            compute_volumes=not args.no_volumes,
            leader=not args.no_leader,
        )
        gen.run()
        env.cr.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
