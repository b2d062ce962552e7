"""Background work survives a crash of the worker, and a crashed job says so.

Real processes, real PostgreSQL, committed data: the test's own transaction cannot be
seen by another process, so the network is generated on a real connection and committed,
then deleted again at the end. A cron worker process (the code path of Odoo's cron
thread, ``ir.cron._acquire_one_job`` + ``_process_job``, for the bonus-run job only: the
test database's other due crons are none of this test's business) computes a queued
bonus run of a generated network and is killed with SIGKILL mid-way. Then:

* the committed state holds nothing of the dead job: no bonus line, no volume, the run
  still draft and queued; PostgreSQL has ended the job's transaction;
* a real Odoo server (HTTP, its own port) tells a manager over JSON-RPC that the run was
  interrupted at its last progress and since when;
* a second cron worker finishes the run, with exactly the lines of a clean compute.

Background jobs of the addons and what a crash leaves (see also the segment test below):

* bonus run compute (``ds.bonus.run._cron_compute_runs``): one transaction per run;
  only its progress is committed on the side; tested here;
* segment refresh (``ds.segment._cron_refresh``: RFM then every segment's members): one
  transaction; tested here;
* current-period volumes (``ds.period._cron_compute_current_periods``) and campaign
  measurement (``ds.campaign._cron_measure``): one transaction each;
* lifecycle automation (``ds.lifecycle.rule._cron_lifecycle``): commits per batch by
  design; each batch writes its ``ds.lifecycle.log`` rows (unique per rule, partner and
  occasion) with its messages, so a resumed run skips what was done;
* the distributor import and the campaign assignment run in the user's request (one
  transaction), not in the background.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import requests

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import format_datetime

from ..models.ds_bonus_run import JOB_LOCK_NAMESPACE
from .test_generator import load_generator

_logger = logging.getLogger(__name__)

NETWORK_SIZE = 20_000

# a cron worker: what Odoo's cron thread does for one job (ir_cron._process_jobs), for
# the job named on the command line only
CRON_WORKER = r"""
import sys
import odoo
conf, db, xmlid = sys.argv[1:4]
odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
from odoo import SUPERUSER_ID, api
from odoo.addons.base.models.ir_cron import ir_cron
from odoo.modules.registry import Registry
registry = Registry(db)
with registry.cursor() as cr:
    cron_id = api.Environment(cr, SUPERUSER_ID, {}).ref(xmlid).id
conn = odoo.sql_db.db_connect(db)
with conn.cursor() as cron_cr:
    job = ir_cron._acquire_one_job(cron_cr, cron_id)
    if not job:
        sys.exit(3)
    registry["ir.cron"]._process_job(conn, cron_cr, job)
"""


def wait_for(predicate, timeout, message, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(step)


class CrashCase(TransactionCase):
    """Real processes on committed data (see the module docstring); shared with the
    crash tests of the other addons."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dbname = cls.env.cr.dbname
        cls.rcfile = odoo.tools.config.rcfile
        cls.odoo_bin = Path(odoo.__file__).resolve().parents[1] / "odoo-bin"
        cls.child_env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                [str(Path(odoo.__file__).resolve().parents[1])]
                + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
            ),
        )

    def setUp(self):
        super().setUp()
        self.extra_cleanups = []  # callables(cr) run first by _cleanup_network

    # ------------------------------------------------------------------ helpers
    def _delete_mail(self, cr, model, ids):
        cr.execute(
            "DELETE FROM mail_message WHERE model = %s AND res_id = ANY(%s)",
            [model, list(ids)],
        )
        cr.execute(
            "DELETE FROM mail_followers WHERE res_model = %s AND res_id = ANY(%s)",
            [model, list(ids)],
        )

    def _real_cursor(self):
        cr = odoo.sql_db.db_connect(self.dbname).cursor()
        self.addCleanup(cr.close)
        return cr

    def _spawn(self, args, name):
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the cleanup
            prefix=f"ds-crash-{name}-", suffix=".log", delete=False
        )
        self.addCleanup(os.unlink, log.name)
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=self.child_env
        )

        def stop():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

        self.addCleanup(stop)
        proc.log_name = log.name
        return proc

    def _log(self, proc):
        with open(proc.log_name, encoding="utf-8", errors="replace") as f:
            return f.read()[-4000:]

    def _cron_worker(
        self, name, xmlid="crm_direct_selling.ir_cron_ds_bonus_run_compute"
    ):
        return self._spawn(
            [sys.executable, "-c", CRON_WORKER, self.rcfile, self.dbname, xmlid], name
        )

    def _job_backends(self, cr, run_id):
        cr.execute(
            """SELECT pid FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 2
                  AND classid = %s::oid AND objid = %s::oid""",
            [JOB_LOCK_NAMESPACE, run_id],
        )
        return [row[0] for row in cr.fetchall()]

    def _wait_blocked(self, watch, lock_cr, worker, timeout=120):
        """Wait until a backend waits for a lock ``lock_cr`` holds; its pid."""
        lock_cr.execute("SELECT pg_backend_pid()")
        holder = lock_cr.fetchone()[0]

        def blocked():
            if worker.poll() is not None:
                self.fail(f"the worker ended:\n{self._log(worker)}")
            watch.rollback()
            watch.execute(
                "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                [holder],
            )
            row = watch.fetchone()
            return row and row[0]

        return wait_for(blocked, timeout, "the job never reached the locked row")

    def _written_tables(self, watch, pid):
        """Tables a backend holds a write lock on (what its transaction has written)."""
        watch.rollback()
        watch.execute(
            """SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                WHERE l.pid = %s AND l.granted AND l.mode = 'RowExclusiveLock'""",
            [pid],
        )
        return {row[0] for row in watch.fetchall()}

    def _max_ids(self, cr, tables):
        res = {}
        for table in tables:
            cr.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            res[table] = cr.fetchone()[0]
        return res

    def _cleanup_network(self, before, plan_id, user_id):
        """Delete every committed row this test made (ids above those found before)."""
        with odoo.sql_db.db_connect(self.dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for extra in self.extra_cleanups:
                extra(cr)
            cr.execute(
                "SELECT id FROM ds_bonus_run WHERE id > %s", [before["ds_bonus_run"]]
            )
            run_ids = [r[0] for r in cr.fetchall()] or [0]
            cr.execute("DELETE FROM ds_bonus_line WHERE run_id = ANY(%s)", [run_ids])
            cr.execute(
                "DELETE FROM ds_bonus_run_progress WHERE run_id = ANY(%s)", [run_ids]
            )
            self._delete_mail(cr, "ds.bonus.run", run_ids)
            self._delete_mail(cr, "ds.plan", [plan_id])
            cr.execute("DELETE FROM ds_bonus_run WHERE id = ANY(%s)", [run_ids])
            cr.execute("DELETE FROM ds_plan WHERE id = %s", [plan_id])
            cr.execute(
                "DELETE FROM ds_volume WHERE period_id > %s", [before["ds_period"]]
            )
            # the rows below were written by the generator (and the jobs) only, every
            # row referring to them is deleted here too: no foreign-key trigger per row
            # (a minute for 20,000 partners otherwise), as the generator writes them
            try:
                with cr.savepoint(flush=False):
                    cr.execute("SET LOCAL session_replication_role = replica")
                fast = True
            except Exception:  # noqa: BLE001 - not a superuser: slower, same result
                fast = False
            cr.execute(
                "DELETE FROM account_move_line WHERE move_id > %s",
                [before["account_move"]],
            )
            cr.execute(
                "DELETE FROM account_move WHERE id > %s", [before["account_move"]]
            )
            cr.execute("DELETE FROM ds_period WHERE id > %s", [before["ds_period"]])
            cr.execute(
                "DELETE FROM ds_sponsor_change WHERE id > %s",
                [before["ds_sponsor_change"]],
            )
            cr.execute(
                "DELETE FROM ds_distributor WHERE id > %s", [before["ds_distributor"]]
            )
            cr.execute(
                """DELETE FROM res_partner WHERE id > %s
                    AND id NOT IN (SELECT partner_id FROM res_users)
                    AND id NOT IN (SELECT partner_id FROM res_company)""",
                [before["res_partner"]],
            )
            if fast:
                cr.execute("SET LOCAL session_replication_role = origin")
            env["product.template"].browse(
                range(before["product_template"] + 1, before["product_template"] + 100)
            ).exists().unlink()
            user = env["res.users"].browse(user_id).exists()
            partner = user.partner_id
            try:
                with cr.savepoint():
                    user.unlink()
                    partner.unlink()
            except Exception:  # noqa: BLE001 - a user who logged in may be referenced
                user.active = False
            env.flush_all()
            cr.commit()  # pylint: disable=invalid-commit

    def _make_plan(self, env):
        company = env.company
        journal = env["account.journal"].search(
            [("type", "=", "purchase"), ("company_id", "=", company.id)], limit=1
        )
        expense = env["account.account"].search(
            [
                ("account_type", "=", "expense"),
                *env["account.account"]._check_company_domain(company),
            ],
            limit=1,
        )
        ranks = env["ds.rank"].search([], order="sequence")
        return env["ds.plan"].create(
            {
                "name": "Crash test plan",
                "company_id": company.id,
                "retail_rate": 5.0,
                "fast_start_rate": 10.0,
                "fast_start_days": 30,
                "compression": True,
                "payout_cap_pct": 45.0,
                "min_payout": 5.0,
                "journal_id": journal.id,
                "expense_account_id": expense.id,
                # every network above 1 distributor is computed in the background
                "async_threshold": 1,
                "level_ids": [
                    (0, 0, {"level": lvl, "rate": rate})
                    for lvl, rate in ((1, 5), (2, 4), (3, 3), (4, 2), (5, 1))
                ],
                "rank_bonus_ids": [
                    (0, 0, {"rank_id": r.id, "amount": 50.0 * (i + 1)})
                    for i, r in enumerate(ranks[1:])
                ],
                "matching_generation_ids": [
                    (0, 0, {"generation": 1, "rate": 10.0}),
                    (0, 0, {"generation": 2, "rate": 5.0}),
                ],
            }
        )

    def _rpc(self, session, url, model, method, args, kwargs=None):
        resp = session.post(
            f"{url}/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {
                    "model": model,
                    "method": method,
                    "args": args,
                    "kwargs": kwargs or {},
                },
            },
            timeout=60,
        )
        resp.raise_for_status()
        body = resp.json()
        self.assertNotIn("error", body, body.get("error"))
        return body["result"]

    def _start_server(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = self._spawn(
            [
                sys.executable,
                str(self.odoo_bin),
                "-c",
                self.rcfile,
                "-d",
                self.dbname,
                f"--db-filter=^{self.dbname}$",
                "--http-interface=127.0.0.1",
                f"--http-port={port}",
                "--max-cron-threads=0",
                "--workers=0",
                "--log-level=warn",
            ],
            "server",
        )
        url = f"http://127.0.0.1:{port}"

        def up():
            if proc.poll() is not None:
                raise AssertionError(f"the server died:\n{self._log(proc)}")
            try:
                return requests.get(f"{url}/web/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(up, 90, "the Odoo server did not come up", step=0.2)
        return proc, url

    def _committed_network(self, size, end, seed=11):
        """Generate a network of ``size`` distributors (one posted invoice each in the
        month ending on ``end``) and commit it; deleted again after the test.
        Returns (env on a real cursor, generator, ids found before, cleanup ids)."""
        with odoo.sql_db.db_connect(self.dbname).cursor() as cr0:
            before = self._max_ids(
                cr0,
                (
                    "ds_bonus_run",
                    "ds_period",
                    "account_move",
                    "ds_distributor",
                    "ds_sponsor_change",
                    "res_partner",
                    "product_template",
                ),
            )
        made = {"plan_id": 0, "user_id": 0}
        # registered first, so it runs last: after the cursors below are closed and
        # the worker processes stopped
        self.addCleanup(
            lambda: self._cleanup_network(before, made["plan_id"], made["user_id"])
        )
        cr = self._real_cursor()
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        gen = load_generator().NetworkGenerator(
            env,
            distributors=size,
            months=1,
            seed=seed,
            customers=0,
            end_date=end,
            distributor_buy_rate=1.0,
            lines_per_invoice=3,
            refund_rate=0.0,
            compute_volumes=False,
            leader=False,
            log=lambda m: None,
        )
        gen.run()
        self.assertGreater(gen.periods[-1].id, before["ds_period"], "a new period")
        cr.commit()  # pylint: disable=invalid-commit
        return env, gen, before, made


@tagged("post_install", "-at_install")
class TestCrashResume(CrashCase):
    def test_bonus_run_crash_resume(self):
        started = time.monotonic()
        # a committed network: NETWORK_SIZE distributors, one posted invoice each
        end = date.today().replace(day=1) - timedelta(days=1)
        env, gen, _before, made = self._committed_network(NETWORK_SIZE, end)
        cr = env.cr
        period = gen.periods[-1]
        plan = self._make_plan(env)
        made["plan_id"] = plan.id
        manager = env["res.users"].create(
            {
                "name": "Crash Manager",
                "login": f"crash_manager_{plan.id}",
                "password": "crash-manager-pw",
                "tz": "Asia/Tokyo",
                "groups_id": [
                    (4, env.ref("crm_direct_selling.group_ds_manager").id),
                    (4, env.ref("base.group_user").id),
                ],
            }
        )
        made["user_id"] = manager.id
        run = env["ds.bonus.run"].create({"period_id": period.id, "plan_id": plan.id})
        action = run.action_compute()
        self.assertEqual(action["tag"], "display_notification", "queued, not inline")
        cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(
            (run.job_state, run.job_status, run.state), ("queued", "queued", "draft")
        )
        setup_seconds = time.monotonic() - started

        # a safety net: a share lock on the run row stops the job at its very last
        # write (after every line is inserted): it cannot commit before it is killed
        lock_cr = self._real_cursor()
        lock_cr.execute("SELECT id FROM ds_bonus_run WHERE id = %s FOR SHARE", [run.id])
        watch = self._real_cursor()

        def progress():
            watch.rollback()  # a fresh snapshot
            watch.execute(
                "SELECT progress FROM ds_bonus_run_progress WHERE run_id = %s", [run.id]
            )
            row = watch.fetchone()
            return row[0] if row else None

        worker = self._cron_worker("worker1")
        t0 = time.monotonic()
        blocked = self._wait_blocked(watch, lock_cr, worker)
        backends = self._job_backends(watch, run.id)
        self.assertEqual(backends, [blocked], "the job holds its lock while it works")
        # the dead transaction will have written every line of the run
        self.assertIn("ds_bonus_line", self._written_tables(watch, blocked))
        # the form, read now from another transaction, sees a running job
        cr.rollback()
        run.invalidate_recordset()
        self.assertEqual(run.job_status, "running")
        self.assertIn("Computing in the background", run.job_status_message)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        compute_seconds = time.monotonic() - t0
        killed_at = progress()
        self.assertEqual(killed_at, 90.0, "killed after the lines, before the end")

        # PostgreSQL notices the dead client (client_connection_check_interval set by
        # the job) and rolls the job back, although it still waits for the row lock
        t1 = time.monotonic()

        def backend_gone():
            watch.rollback()
            watch.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", [backends[0]]
            )
            return watch.fetchone()[0] == 0

        wait_for(backend_gone, 20, "the dead worker's transaction is still open")
        gone_seconds = time.monotonic() - t1
        lock_cr.rollback()

        # committed state: nothing of the dead job
        cr.rollback()
        env.invalidate_all()
        cr.execute("SELECT COUNT(*) FROM ds_bonus_line WHERE run_id = %s", [run.id])
        self.assertEqual(cr.fetchone()[0], 0, "no line of the killed job")
        cr.execute("SELECT COUNT(*) FROM ds_volume WHERE period_id = %s", [period.id])
        self.assertEqual(cr.fetchone()[0], 0, "no volume of the killed job")
        self.assertEqual(
            (run.state, run.job_state, run.line_count), ("draft", "queued", 0)
        )
        watch.rollback()
        self.assertEqual(self._job_backends(watch, run.id), [])
        self.assertEqual(run.job_status, "interrupted")
        self.assertEqual(run.progress, killed_at)
        heartbeat = run.job_heartbeat
        self.assertTrue(heartbeat)

        # a manager reads the run over JSON-RPC from a real server
        server, url = self._start_server()
        session = requests.Session()
        resp = session.post(
            f"{url}/web/session/authenticate",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "db": self.dbname,
                    "login": manager.login,
                    "password": "crash-manager-pw",
                },
            },
            timeout=60,
        )
        self.assertEqual(resp.json()["result"]["uid"], manager.id)
        [data] = self._rpc(
            session,
            url,
            "ds.bonus.run",
            "read",
            [[run.id]],
            {
                "fields": [
                    "state",
                    "job_state",
                    "job_status",
                    "job_status_message",
                    "progress",
                    "job_heartbeat",
                ]
            },
        )
        since = format_datetime(env(user=manager.id), heartbeat)
        self.assertEqual(data["job_status"], "interrupted")
        self.assertEqual(data["progress"], killed_at)
        self.assertEqual(
            data["job_status_message"],
            f"Interrupted at {killed_at:.0f} % — waiting for the background job to "
            f"resume it (since {since})",
        )
        self.assertEqual(data["job_heartbeat"], heartbeat.strftime("%Y-%m-%d %H:%M:%S"))
        self.assertEqual((data["state"], data["job_state"]), ("draft", "queued"))
        server.terminate()
        server.wait(30)

        # a new worker resumes the job (the cron job is still due: its trigger is pending)
        t2 = time.monotonic()
        worker2 = self._cron_worker("worker2")
        self.assertEqual(worker2.wait(180), 0, self._log(worker2))
        resume_seconds = time.monotonic() - t2
        cr.rollback()
        env.invalidate_all()
        self.assertEqual((run.state, run.job_state), ("computed", "done"))
        self.assertFalse(run.job_status)
        self.assertEqual(run.progress, 100.0)
        cr.execute("SELECT COUNT(*) FROM ds_bonus_line WHERE run_id = %s", [run.id])
        lines = cr.fetchone()[0]
        self.assertEqual(lines, run.line_count)
        self.assertGreater(lines, NETWORK_SIZE, "a run of a real size")

        # exactly the lines of a clean compute (a simulation of the same period, inline)
        sim = (
            env["ds.bonus.run"]
            .with_context(ds_bonus_inline=True)
            .create({"period_id": period.id, "plan_id": plan.id, "simulation": True})
        )
        sim.action_compute()
        env.flush_all()
        cols = (
            "distributor_id, bonus_type, source_distributor_id, level, base, rate, "
            "amount, carried_forward"
        )
        cr.execute(
            f"""SELECT COUNT(*) FROM (
                    (SELECT {cols} FROM ds_bonus_line WHERE run_id = %(a)s
                     EXCEPT ALL SELECT {cols} FROM ds_bonus_line WHERE run_id = %(b)s)
                    UNION ALL
                    (SELECT {cols} FROM ds_bonus_line WHERE run_id = %(b)s
                     EXCEPT ALL SELECT {cols} FROM ds_bonus_line WHERE run_id = %(a)s)
                ) d""",  # noqa: S608 - constant column list
            {"a": run.id, "b": sim.id},
        )
        self.assertEqual(cr.fetchone()[0], 0, "the resumed run = a clean compute")
        self.assertEqual(sim.line_count, lines)
        self.assertEqual(sim.total_amount, run.total_amount)
        cr.rollback()
        _logger.info(
            f"\ncrash test: {NETWORK_SIZE} distributors, {lines} lines; setup "
            f"{setup_seconds:.1f} s; killed at {killed_at:.0f} % after "
            f"{compute_seconds:.1f} s; dead transaction gone {gone_seconds:.1f} s "
            f"after the kill; resume {resume_seconds:.1f} s"
        )
