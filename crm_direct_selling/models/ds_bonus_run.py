import base64
import io
import logging
import zlib

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.modules import module as odoo_module
from odoo.tools import SQL, format_amount, format_datetime

from .. import engine
from .ds_access import (
    DS_MANAGER,
    DS_USER,
    ds_check_manager,
    ds_check_user,
    ds_has_group,
)
from .ds_bonus_line import BONUS_TYPES

_logger = logging.getLogger(__name__)

# advisory lock namespace of bonus runs (pg_try_advisory_xact_lock(int, int))
LOCK_NAMESPACE = zlib.crc32(b"ds.bonus.run") & 0x7FFFFFFF
# company-wide figures of a run: never readable by portal users, who read the posted runs
# paying them (crm_direct_selling_portal) for their own lines only
FIGURES_GROUP = DS_USER
# advisory lock namespace of the background job computing a run: held by the job's
# transaction (pg_try_advisory_xact_lock(JOB_LOCK_NAMESPACE, run id)) while it works, so
# it is released the moment that transaction ends, however it ends (commit, rollback,
# the worker killed): the form tells a running job from an interrupted one by it
JOB_LOCK_NAMESPACE = zlib.crc32(b"ds.bonus.run.job") & 0x7FFFFFFF


class DsBonusRun(models.Model):
    _name = "ds.bonus.run"
    _description = "Bonus Run"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    period_id = fields.Many2one(
        "ds.period",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
        check_company=True,
    )
    plan_id = fields.Many2one(
        "ds.plan",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        index=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("computed", "Computed"),
            ("approved", "Approved"),
            ("posted", "Posted"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )
    simulation = fields.Boolean(
        help="What-if run: computed like a live run but never approved nor posted. "
        "Several simulations may exist for the same period and plan.",
    )
    date = fields.Date(
        "Accounting Date",
        default=fields.Date.context_today,
        required=True,
        help="Date of the vendor bills or journal entry created when posting.",
    )
    line_ids = fields.One2many("ds.bonus.line", "run_id", readonly=True)
    line_count = fields.Integer(readonly=True, copy=False, groups=FIGURES_GROUP)
    earner_count = fields.Integer(readonly=True, copy=False, groups=FIGURES_GROUP)
    paid_earner_count = fields.Integer(readonly=True, copy=False, groups=FIGURES_GROUP)
    amount_retail = fields.Monetary(
        "Retail Profit", readonly=True, copy=False, groups=FIGURES_GROUP
    )
    amount_fast_start = fields.Monetary(
        "Fast Start", readonly=True, copy=False, groups=FIGURES_GROUP
    )
    amount_unilevel = fields.Monetary(
        "Unilevel", readonly=True, copy=False, groups=FIGURES_GROUP
    )
    amount_rank_advancement = fields.Monetary(
        "Rank Advancement",
        readonly=True,
        copy=False,
        groups=FIGURES_GROUP,
    )
    amount_matching = fields.Monetary(
        "Leadership Matching", readonly=True, copy=False, groups=FIGURES_GROUP
    )
    amount_carry_forward = fields.Monetary(
        "Carried In",
        readonly=True,
        copy=False,
        help="Amounts carried forward from the previous run.",
        groups=FIGURES_GROUP,
    )
    amount_adjustment = fields.Monetary(
        "Adjustments",
        readonly=True,
        copy=False,
        help="Clawbacks of refunded volume paid in closed periods.",
        groups=FIGURES_GROUP,
    )
    amount_carried_out = fields.Monetary(
        "Carried Out",
        readonly=True,
        copy=False,
        help="Amounts below the minimum payout, carried forward to the next run.",
        groups=FIGURES_GROUP,
    )
    total_amount = fields.Monetary(
        readonly=True,
        copy=False,
        help="Amount paid by this run: sum of the bills / entry.",
        groups=FIGURES_GROUP,
    )
    raw_amount = fields.Monetary(
        "Amount Before Cap",
        readonly=True,
        copy=False,
        help="Capped bonus types before applying the payout cap.",
        groups=FIGURES_GROUP,
    )
    cap_amount = fields.Monetary(
        readonly=True,
        copy=False,
        help="Payout cap of the period.",
        groups=FIGURES_GROUP,
    )
    cap_factor = fields.Float(
        digits=(16, 8),
        readonly=True,
        copy=False,
        default=1.0,
        help="Factor applied to every capped amount (1 = the cap was not reached).",
        groups=FIGURES_GROUP,
    )
    period_bv = fields.Float(
        "Period BV", digits=(16, 2), readonly=True, copy=False, groups=FIGURES_GROUP
    )
    payout_ratio = fields.Float(
        "Payout Ratio (%)",
        aggregator=None,
        digits=(16, 2),
        readonly=True,
        copy=False,
        help="Total paid in percent of the period BV.",
        groups=FIGURES_GROUP,
    )
    move_ids = fields.Many2many(
        "account.move",
        "ds_bonus_run_account_move_rel",
        "run_id",
        "move_id",
        string="Journal Entries",
        readonly=True,
        copy=False,
        groups=FIGURES_GROUP,
    )
    move_count = fields.Integer(compute="_compute_move_count", groups=FIGURES_GROUP)
    job_state = fields.Selection(
        [
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        readonly=True,
        copy=False,
    )
    job_error = fields.Text(readonly=True, copy=False)
    job_user_id = fields.Many2one(
        "res.users",
        string="Queued By",
        readonly=True,
        copy=False,
        help="The user who queued the background computation: the job computes as them "
        "(in their language), so the run shows who computed it, never OdooBot.",
    )
    progress = fields.Float(
        compute="_compute_progress", help="Progress of the background job (%)."
    )
    job_status = fields.Selection(
        [
            ("queued", "Waiting to start"),
            ("running", "Running"),
            ("interrupted", "Interrupted, waiting to resume"),
        ],
        compute="_compute_progress",
        help="Live status of the background computation: running while a worker holds "
        "the run's job lock; interrupted when the job started (it reported progress) "
        "but no worker holds the lock any more (the worker died or was stopped): the "
        "background job resumes it from the start on its next call.",
    )
    job_heartbeat = fields.Datetime(
        "Last Progress Report",
        compute="_compute_progress",
        help="When the background job last reported its progress.",
    )
    job_status_message = fields.Char(compute="_compute_progress")
    computed_uid = fields.Many2one(
        "res.users", "Computed By", readonly=True, copy=False
    )
    computed_date = fields.Datetime("Computed On", readonly=True, copy=False)
    approved_uid = fields.Many2one(
        "res.users", "Approved By", readonly=True, copy=False
    )
    approved_date = fields.Datetime("Approved On", readonly=True, copy=False)
    posted_uid = fields.Many2one("res.users", "Posted By", readonly=True, copy=False)
    posted_date = fields.Datetime("Posted On", readonly=True, copy=False)

    _sql_constraints = [
        (
            "date_required",
            "CHECK(date IS NOT NULL)",
            "The accounting date is required.",
        ),
    ]

    # ------------------------------------------------------------------ computes
    @api.depends("plan_id.name", "period_id.name", "simulation")
    def _compute_name(self):
        for run in self:
            name = "{} / {}".format(
                run.plan_id.name or "",
                run.period_id.display_name or "",
            )
            if run.simulation:
                name = self.env._("%s (simulation)", name)
            run.name = name

    @api.depends("plan_id")
    def _compute_company_id(self):
        for run in self:
            run.company_id = (
                run.plan_id.company_id or run.company_id or self.env.company
            )

    def _compute_move_count(self):
        for run in self:
            run.move_count = len(run.move_ids)

    # ------------------------------------------------------------------ create / guards
    def _lock_key(self, period_id, plan_id):
        return zlib.crc32(b"%d-%d" % (period_id, plan_id)) & 0x7FFFFFFF

    def _try_lock_period_plan(self, period, plan):
        """Transaction-level advisory lock on (period, plan): two users starting the
        same run at once get one run and a clear message instead of a unique violation."""
        self.env.cr.execute(
            SQL(
                "SELECT pg_try_advisory_xact_lock(%s, %s)",
                LOCK_NAMESPACE,
                self._lock_key(period.id, plan.id),
            )
        )
        if not self.env.cr.fetchone()[0]:
            raise UserError(
                self.env._(
                    "A bonus run of plan %(plan)s for period %(period)s is being started or "
                    "computed by another user right now. Try again in a moment.",
                    plan=plan.name,
                    period=period.display_name,
                )
            )

    def _raise_if_live_run(self, period, plan, exclude_ids=()):
        other = self.search(
            [
                ("id", "not in", list(exclude_ids)),
                ("period_id", "=", period.id),
                ("plan_id", "=", plan.id),
                ("simulation", "=", False),
                ("state", "!=", "cancelled"),
            ],
            limit=1,
        )
        if other:
            raise UserError(
                self.env._(
                    "There is already a live bonus run of plan %(plan)s for period %(period)s: "
                    "%(run)s (%(state)s). Cancel it or use a simulation.",
                    plan=plan.name,
                    period=period.display_name,
                    run=other.name,
                    state=dict(other._fields["state"].selection)[other.state],
                )
            )

    def _check_live_unique(self):
        for run in self.filtered(lambda r: not r.simulation and r.state != "cancelled"):
            self._raise_if_live_run(run.period_id, run.plan_id, exclude_ids=run.ids)

    def _ds_check_user_vals(self, vals):
        """Direct Selling users create and edit draft runs (period, plan, simulation, date):
        state, figures, lines and payouts are written by the run's own methods only (which
        check their group and then write as superuser); managers may write any field."""
        if ds_has_group(self.env, DS_MANAGER):
            return
        ds_check_user(self.env, self.env._("create or change bonus runs"))
        editable = {
            name
            for name, field in self._fields.items()
            if not field.readonly or name.startswith("message_")
        }
        if refused := sorted(set(vals) - editable):
            raise AccessError(
                self.env._(
                    "Only Direct Selling managers can set %(fields)s on bonus runs: "
                    "they are written by the computation, approval and posting.",
                    fields=", ".join(refused),
                )
            )
        if locked := self.filtered(lambda r: r.state not in ("draft", "computed")):
            raise AccessError(
                self.env._(
                    "Bonus run %s is approved, posted or cancelled: only Direct Selling "
                    "managers can change it.",
                    locked[0].name,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._ds_check_user_vals(vals)
        Period, Plan = self.env["ds.period"], self.env["ds.plan"]
        for vals in vals_list:
            if (
                not vals.get("simulation")
                and vals.get("period_id")
                and vals.get("plan_id")
            ):
                period, plan = (
                    Period.browse(vals["period_id"]),
                    Plan.browse(vals["plan_id"]),
                )
                self._try_lock_period_plan(period, plan)
                self._raise_if_live_run(period, plan)
        runs = super().create(vals_list)
        runs._check_live_unique()
        return runs

    def write(self, vals):
        self._ds_check_user_vals(vals)
        if {"period_id", "plan_id", "simulation"} & set(vals):
            if self.filtered(lambda r: r.state not in ("draft", "computed")):
                raise UserError(
                    self.env._(
                        "Only draft or computed runs can change period, plan or type."
                    )
                )
            res = super().write(vals)
            for run in self.filtered(lambda r: not r.simulation):
                run._try_lock_period_plan(run.period_id, run.plan_id)
            self._check_live_unique()
            if self.filtered(lambda r: r.state == "computed"):
                self._reset_to_draft()
            return res
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        for run in self:
            if run.state in ("approved", "posted") or run.move_ids:
                raise UserError(
                    self.env._(
                        "Bonus run %s is approved or posted: cancel it instead of deleting it.",
                        run.name,
                    )
                )

    def unlink(self):
        runs = self.browse(self.ids)
        res = super().unlink()
        runs._ds_delete_lines()
        return res

    def _ds_delete_lines(self):
        """Delete the runs' lines (ds.bonus.line keeps no foreign keys, see derived_table.py:
        this is its ondelete='cascade'; adjustments pointing at them lose the link)."""
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE ds_bonus_line SET origin_line_id = NULL
                    WHERE origin_line_id IN (SELECT id FROM ds_bonus_line WHERE run_id = ANY(%(ids)s))
                      AND run_id <> ALL(%(ids)s);
                   DELETE FROM ds_bonus_line WHERE run_id = ANY(%(ids)s)""",
                ids=self.ids,
            )
        )
        self.env["ds.bonus.line"].invalidate_model()

    def _reset_to_draft(self):
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL("DELETE FROM ds_bonus_line WHERE run_id IN %s", tuple(self.ids))
        )
        self.env["ds.bonus.line"].invalidate_model()
        # state and figures: written by the run itself (users cannot write them, see write())
        self.sudo().write({"state": "draft", "line_count": 0, "total_amount": 0.0})

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group(
            "crm_direct_selling.group_ds_manager"
        ):
            raise AccessError(
                self.env._(
                    "Only Direct Selling managers can approve, post or cancel bonus runs."
                )
            )

    # ------------------------------------------------------------------ compute
    def _network_size(self):
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*) FROM ds_distributor WHERE company_id = %s",
                self.company_id.id,
            )
        )
        return self.env.cr.fetchone()[0]

    def action_compute(self):
        """Compute (or recompute) the lines of draft/computed runs. Runs the volume
        step of the period first when the period is open. Large networks (more
        distributors than the plan's background threshold) are queued to a
        background job; the method then returns immediately."""
        ds_check_user(self.env, self.env._("compute bonus runs"), self, "write")
        if not self.env.su:
            # the state and figures are written by the run, never by the user (see write())
            return self.sudo().action_compute()
        queued = self.env["ds.bonus.run"]
        for run in self:
            if run.state not in ("draft", "computed"):
                raise UserError(
                    self.env._(
                        "Run %s can only be computed in draft or computed state.",
                        run.name,
                    )
                )
            if run.job_state in ("queued", "running"):
                raise UserError(
                    self.env._(
                        "Run %s is already being computed in the background.", run.name
                    )
                )
            run._lock_run_row()
            threshold = run.plan_id.async_threshold
            if (
                not self.env.context.get("ds_bonus_inline")
                and threshold
                and run._network_size() > threshold
            ):
                run.write(
                    {
                        "job_state": "queued",
                        "job_error": False,
                        "job_user_id": self.env.uid,
                    }
                )
                # a new job: the progress of an earlier one is not its progress
                self.env.cr.execute(
                    SQL("DELETE FROM ds_bonus_run_progress WHERE run_id = %s", run.id)
                )
                run.message_post(
                    body=self.env._(
                        "Computation queued to a background job by %s.",
                        self.env.user.name,
                    )
                )
                queued |= run
            else:
                run._compute_now()
        if queued:
            self.env.ref("crm_direct_selling.ir_cron_ds_bonus_run_compute")._trigger()
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "info",
                    "message": self.env._(
                        "The run is computed in the background; its progress is "
                        "shown on the form."
                    ),
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        return True

    def _lock_run_row(self):
        """Row lock (NOWAIT) on the run: a second user computing the same run gets a
        clear message, and the (period, plan) advisory lock for live runs."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM ds_bonus_run WHERE id = %s FOR UPDATE NOWAIT",
                        self.id,
                    )
                )
        except Exception as e:  # psycopg2.errors.LockNotAvailable
            if getattr(e, "pgcode", None) == "55P03":
                raise UserError(
                    self.env._(
                        "Bonus run %s is being computed or changed by another user. Try again later.",
                        self.name,
                    )
                ) from None
            raise
        if not self.simulation:
            self._try_lock_period_plan(self.period_id, self.plan_id)

    @api.model
    def _cron_compute_runs(self):
        """Background computation of queued runs, one run per call (the cron framework
        commits after each call and calls again while runs remain). A failing run is
        rolled back to a savepoint and marked failed; the others go on."""
        runs = self.search([("job_state", "=", "queued")], order="id")
        if not runs:
            return
        progress = not (
            odoo_module.current_test
            or self.env.registry.in_test_mode()
            or self.env.context.get("ds_bonus_progress_same_cursor")
        )
        run = next((r for r in runs if r._try_lock_job()), None)
        if not run:
            return  # every queued run is being computed by another worker
        if progress:
            # a worker killed mid-query: PostgreSQL notices the lost client within a
            # second and rolls the job back (releasing its locks) instead of running the
            # statement to its end (PostgreSQL 14+; ignored where unavailable)
            try:
                with self.env.cr.savepoint(flush=False):
                    self.env.cr.execute(
                        SQL(
                            "SELECT set_config('client_connection_check_interval', '1000', true)"
                        )
                    )
            except Exception:  # noqa: BLE001 - an optional safeguard
                _logger.debug("client_connection_check_interval unavailable")
        # the job computes as the user who queued it, in their language: the run says who
        # computed it and its chatter reads in their language (not OdooBot's)
        job_user = run.job_user_id
        if job_user and job_user.active and not job_user._is_superuser():
            run = run.with_user(job_user).sudo().with_context(lang=job_user.lang)
        # started (the form tells an interrupted job from one not started yet by it)
        run._set_progress(0.0, progress)
        try:
            with self.env.cr.savepoint():
                run._compute_now(progress=progress)
            run.write({"job_state": "done"})
        except Exception as e:  # noqa: BLE001 - reported on the run, cron keeps going
            _logger.exception("Bonus run %s failed", run.id)
            run.write({"job_state": "failed", "job_error": str(e)})
            run.message_post(body=self.env._("Background computation failed: %s", e))
        run._set_progress(100.0, progress)
        self.env["ir.cron"]._notify_progress(done=1, remaining=len(runs) - 1)

    def init(self):
        # one live (non-simulation, non-cancelled) run per period and plan
        self.env.cr.execute(
            SQL(
                """CREATE UNIQUE INDEX IF NOT EXISTS ds_bonus_run_live_uniq
               ON ds_bonus_run (period_id, plan_id)
               WHERE NOT COALESCE(simulation, FALSE) AND state <> 'cancelled'"""
            )
        )
        # progress of background jobs: written by short separate transactions, so it
        # lives outside the run row the job's transaction updates at the end
        self.env.cr.execute(
            SQL(
                """CREATE TABLE IF NOT EXISTS ds_bonus_run_progress (
                   run_id integer PRIMARY KEY, progress double precision NOT NULL,
                   write_date timestamp NOT NULL DEFAULT (NOW() AT TIME ZONE 'UTC'))"""
            )
        )

    def _try_lock_job(self):
        """Take the job lock of the run for the current transaction; False when
        another worker holds it."""
        self.ensure_one()
        self.env.cr.execute(
            SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", JOB_LOCK_NAMESPACE, self.id)
        )
        return self.env.cr.fetchone()[0]

    @api.depends("job_state")
    def _compute_progress(self):
        data, running = {}, set()
        if self.ids:
            self.env.cr.execute(
                SQL(
                    """SELECT run_id, progress, write_date FROM ds_bonus_run_progress
                        WHERE run_id IN %s""",
                    tuple(self.ids),
                )
            )
            data = {row[0]: row[1:] for row in self.env.cr.fetchall()}
            # runs whose job lock a live transaction holds (pg_locks is not
            # transactional: it shows who holds what right now)
            self.env.cr.execute(
                SQL(
                    """SELECT objid::integer FROM pg_locks
                        WHERE locktype = 'advisory' AND granted AND objsubid = 2
                          AND database = (SELECT oid FROM pg_database
                                           WHERE datname = current_database())
                          AND classid = %s::oid AND objid::integer IN %s""",
                    JOB_LOCK_NAMESPACE,
                    tuple(self.ids),
                )
            )
            running = {row[0] for row in self.env.cr.fetchall()}
        for run in self:
            value, heartbeat = data.get(run.id, (0.0, False))
            run.progress = 100.0 if run.job_state == "done" else value
            run.job_heartbeat = heartbeat if run.id in data else False
            status = message = False
            # formatted outside the translated calls (the term extractor evaluates their
            # arguments)
            percent = f"{value:.0f}"
            if run.job_state in ("queued", "running"):
                if run.id in running:
                    status = "running"
                    message = self.env._(
                        "Computing in the background: %(progress)s %%",
                        progress=percent,
                    )
                elif run.id in data:
                    status = "interrupted"
                    message = self.env._(
                        "Interrupted at %(progress)s %% — waiting for the background job "
                        "to resume it (since %(since)s)",
                        progress=percent,
                        since=format_datetime(self.env, heartbeat),
                    )
                else:
                    status = "queued"
                    message = self.env._(
                        "Queued — waiting for the background job to start it."
                    )
            run.job_status = status
            run.job_status_message = message

    def _set_progress(self, value, progress):
        """Write the progress of a background job in a side table (never the run row):
        ``progress`` True = in a separate short transaction, so the form shows it while
        the job's transaction is still running; False = in the current transaction;
        None = not a background job, nothing to do."""
        if progress is None or not self.id:
            return
        query = SQL(
            """INSERT INTO ds_bonus_run_progress (run_id, progress) VALUES (%s, %s)
               ON CONFLICT (run_id) DO UPDATE SET progress = EXCLUDED.progress,
                   write_date = NOW() AT TIME ZONE 'UTC'""",
            self.id,
            value,
        )
        if progress:
            with self.env.registry.cursor() as cr:
                cr.execute(query)
        else:
            self.env.cr.execute(query)

    def _compute_now(self, progress=None):
        self.ensure_one()
        period = self.period_id
        if period.state == "open":
            period.sudo().action_compute_volumes()
        self._set_progress(20.0, progress)
        totals = self._compute_lines_sql(progress=progress)
        self._set_progress(90.0, progress)
        totals.update(
            {
                "state": "computed",
                "computed_uid": self.env.uid,
                "computed_date": fields.Datetime.now(),
                "approved_uid": False,
                "approved_date": False,
            }
        )
        self.write(totals)
        self.message_post(
            body=self._figures_message(
                self.env._("Computed by %s.", self.env.user.name)
            )
        )
        return True

    def _figures_message(self, title):
        self.ensure_one()
        fmt = lambda a: format_amount(self.env, a, self.currency_id)  # noqa: E731
        parts = [title]
        for btype, label in BONUS_TYPES:
            amount = (
                self["amount_" + btype]
                if btype != "carry_forward"
                else self.amount_carry_forward
            )
            if amount:
                parts.append(f"{label}: {fmt(amount)}")
        parts.append(
            self.env._(
                "Paid: %(total)s to %(n)s distributors",
                total=fmt(self.total_amount),
                n=self.paid_earner_count,
            )
        )
        if self.amount_carried_out:
            parts.append(self.env._("Carried out: %s", fmt(self.amount_carried_out)))
        parts.append(
            self.env._(
                "Period BV: %(bv)s, payout ratio %(ratio).2f%%, cap factor %(cap).6f",
                bv=self.period_bv,
                ratio=self.payout_ratio,
                cap=self.cap_factor,
            )
        )
        return " — ".join(str(p) for p in parts)

    def _previous_run(self):
        """The live posted run of the same plan for the latest period before this one."""
        self.ensure_one()
        runs = self.search(
            [
                ("plan_id", "=", self.plan_id.id),
                ("simulation", "=", False),
                ("state", "=", "posted"),
                ("period_id.date_to", "<", self.period_id.date_from),
            ]
        )
        return runs.sorted(lambda r: (r.period_id.date_to, r.id))[-1:]

    def _compute_lines_sql(self, progress=None):
        """Set-based computation of every bonus line of the run, inside PostgreSQL, by the
        bonus engine (../engine: one module per bonus type, see engine/registry.py).

        Returns the statistics of the run (period BV, cap, totals per type) to write on it."""
        self.ensure_one()
        for model in (
            "ds.volume",
            "ds.distributor",
            "ds.rank",
            "ds.plan",
            "ds.plan.level",
            "ds.plan.rank.bonus",
            "ds.plan.matching.generation",
            "ds.bonus.line",
            "ds.bonus.run",
            "account.move",
            "account.move.line",
            "ds.period",
        ):
            self.env[model].flush_model()
        ctx = engine.EngineContext(
            self.env,
            plan=self.plan_id,
            period=self.period_id,
            run_id=self.id,
            company_id=self.company_id.id,
            currency=self.currency_id,
            previous_run=self._previous_run(),
            progress=lambda value: self._set_progress(value, progress),
        )
        self._ds_delete_lines()
        vals = engine.compute(ctx)
        self.env["ds.bonus.line"].invalidate_model()
        self.invalidate_recordset(["line_ids"])
        by_type = vals.pop("by_type")
        # the run's total per type, for the types with an ``amount_<type>`` field (a type
        # added by another addon adds its own field to see its total on the run)
        for btype in self._bonus_type_codes():
            if "amount_" + btype in self._fields:
                vals["amount_" + btype] = by_type.get(btype, 0.0)
        return vals

    def _bonus_type_codes(self):
        """The bonus types of the lines, those added by other addons included."""
        return self.env["ds.bonus.line"]._fields["bonus_type"].get_values(self.env)

    # ------------------------------------------------------------------ workflow
    def action_approve(self):
        self._check_manager()
        for run in self:
            if run.simulation:
                raise UserError(
                    self.env._(
                        "Run %s is a simulation: simulations are never approved or posted.",
                        run.name,
                    )
                )
            if run.state != "computed":
                raise UserError(
                    self.env._(
                        "Run %s must be computed before it is approved.", run.name
                    )
                )
        self.write(
            {
                "state": "approved",
                "approved_uid": self.env.uid,
                "approved_date": fields.Datetime.now(),
            }
        )
        for run in self:
            run.message_post(
                body=run._figures_message(
                    self.env._("Approved by %s.", self.env.user.name)
                )
            )
        return True

    def action_post(self):
        """Create the payouts: one vendor bill per paid distributor with one line per
        bonus type (plan payout mode 'bills'), or one journal entry with a payable
        line per distributor (mode 'entry'); then post them."""
        self._check_manager()
        for run in self:
            if run.simulation:
                raise UserError(
                    self.env._(
                        "Run %s is a simulation: simulations are never posted.",
                        run.name,
                    )
                )
            if run.state != "approved":
                raise UserError(
                    self.env._("Run %s must be approved before it is posted.", run.name)
                )
            if run.period_id.state != "closed":
                raise UserError(
                    self.env._(
                        "Close the period %s before posting its bonus run.",
                        run.period_id.display_name,
                    )
                )
            plan = run.plan_id
            if not plan.journal_id or not plan.expense_account_id:
                raise UserError(
                    self.env._(
                        "Set the journal and the expense account of plan %s.", plan.name
                    )
                )
            if plan.payout_mode == "entry":
                moves = run._create_entry()
            else:
                moves = run._create_bills()
            run.write(
                {
                    "state": "posted",
                    "move_ids": [Command.set(moves.ids)],
                    "posted_uid": self.env.uid,
                    "posted_date": fields.Datetime.now(),
                }
            )
            run.message_post(
                body=run._figures_message(
                    self.env._(
                        "Posted by %(user)s: %(n)s journal entries, total %(total)s.",
                        user=self.env.user.name,
                        n=len(moves),
                        total=format_amount(
                            self.env, sum(moves.mapped("amount_total")), run.currency_id
                        ),
                    )
                )
            )
        return True

    def _paid_rows(self):
        """(distributor_id, partner_id, bonus_type, amount) of the paid lines, grouped."""
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT l.distributor_id, d.partner_id, l.bonus_type, SUM(l.amount)
               FROM ds_bonus_line l JOIN ds_distributor d ON d.id = l.distributor_id
               WHERE l.run_id = %s AND NOT l.carried_forward
               GROUP BY l.distributor_id, d.partner_id, l.bonus_type
               HAVING SUM(l.amount) <> 0
               ORDER BY l.distributor_id, l.bonus_type""",
                self.id,
            )
        )
        return self.env.cr.fetchall()

    def _type_labels(self):
        return dict(
            self.env["ds.bonus.line"]
            ._fields["bonus_type"]
            ._description_selection(self.env)
        )

    def _link_lines(self, distributor_ids, move_ids):
        self.env.cr.execute(
            SQL(
                """UPDATE ds_bonus_line l SET move_id = m.move_id
               FROM unnest(%s::int[], %s::int[]) AS m(distributor_id, move_id)
               WHERE l.run_id = %s AND NOT l.carried_forward
                 AND l.distributor_id = m.distributor_id""",
                distributor_ids,
                move_ids,
                self.id,
            )
        )
        self.env["ds.bonus.line"].invalidate_model(["move_id"])

    def _create_bills(self):
        self.ensure_one()
        plan = self.plan_id
        labels = self._type_labels()
        vals_list, distributors = [], []
        current = None
        for did, partner_id, btype, amount in self._paid_rows():
            if did != current:
                current = did
                distributors.append(did)
                vals_list.append(
                    {
                        "move_type": "in_invoice",
                        "partner_id": partner_id,
                        "journal_id": plan.journal_id.id,
                        "company_id": self.company_id.id,
                        "currency_id": self.currency_id.id,
                        "invoice_date": self.date,
                        "date": self.date,
                        "ref": self.name,
                        "invoice_origin": self.name,
                        "invoice_line_ids": [],
                    }
                )
            vals_list[-1]["invoice_line_ids"].append(
                Command.create(
                    {
                        "name": f"{labels[btype]} - {self.name}",
                        "quantity": 1.0,
                        "price_unit": float(amount),
                        "account_id": plan.expense_account_id.id,
                        "tax_ids": [Command.clear()],
                    }
                )
            )
        if not vals_list:
            return self.env["account.move"]
        Move = self.env["account.move"].with_context(
            default_move_type="in_invoice", tracking_disable=True
        )
        threshold = plan.fast_post_threshold
        if (
            not threshold
            or len(vals_list) <= threshold
            or plan.journal_id.restrict_mode_hash_table
        ):
            moves = Move.create(vals_list)
            moves.action_post()
            self._link_lines(distributors, moves.ids)
            return moves
        # large runs: per supplier payment term of the earners, the first bill through the
        # ORM and the others cloned from it in SQL (same term, so same due date); a term that
        # splits the amount into installments or grants an early-payment discount computes
        # amounts per bill, so its bills all go through the ORM
        moves = self.env["account.move"]
        for term, indexes in self._payment_term_groups(distributors):
            group = [distributors[i] for i in indexes]
            if term and (len(term.line_ids) > 1 or term.early_discount):
                bills = Move.create([vals_list[i] for i in indexes])
                bills.action_post()
                self._link_lines(group, bills.ids)
                moves |= bills
                continue
            template = Move.create([vals_list[indexes[0]]])
            template.action_post()
            self._link_lines(group[:1], template.ids)
            moves |= template | self._clone_bills_sql(template, group[1:])
        return moves

    def _payment_term_groups(self, distributor_ids):
        """[(supplier payment term, [positions in ``distributor_ids``])], in order of first
        appearance: the term each earner's vendor bill gets (their commercial partner's, else
        the company default)."""
        company = self.company_id
        partners = self.env["res.partner"].with_company(company)
        default = partners._fields[
            "property_supplier_payment_term_id"
        ].get_company_dependent_fallback(partners)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT (cp.property_supplier_payment_term_id ->> %s)::int
                   FROM unnest(%s::int[]) WITH ORDINALITY AS x(did, n)
                   JOIN ds_distributor d ON d.id = x.did
                   JOIN res_partner p ON p.id = d.partner_id
                   JOIN res_partner cp ON cp.id = p.commercial_partner_id
                   ORDER BY x.n""",
                str(company.id),
                list(distributor_ids),
            )
        )
        groups = {}
        for i, (term_id,) in enumerate(self.env.cr.fetchall()):
            groups.setdefault(term_id or default.id or None, []).append(i)
        Term = self.env["account.payment.term"]
        return [(Term.browse(t) if t else Term, idx) for t, idx in groups.items()]

    def _clone_bills_sql(self, template, distributor_ids):
        """Create and post the bills of ``distributor_ids`` set-based in SQL, as copies of
        the posted ORM bill ``template`` (same journal, date, accounts, payment term and
        every other column) with the partner, name, lines and amounts of each earner:
        one bill per earner and one expense line per bonus type, plus the payable line on
        the partner's payable account. Names continue the journal's sequence."""
        self.ensure_one()
        if not distributor_ids:
            return self.env["account.move"]
        cr = self.env.cr
        self.env.flush_all()
        company = self.company_id
        labels = self._type_labels()
        # lock the journal's numbering while names are given
        cr.execute(
            SQL(
                "SELECT id FROM account_journal WHERE id = %s FOR UPDATE",
                template.journal_id.id,
            )
        )
        fmt, fvals = template._get_sequence_format_param(template.name)
        cr.execute(
            SQL(
                "SELECT COALESCE(MAX(sequence_number), 0) FROM account_move "
                "WHERE journal_id = %s AND sequence_prefix = %s",
                template.journal_id.id,
                template.sequence_prefix,
            )
        )
        last = cr.fetchone()[0]
        names = [
            fmt.format(**{**fvals, "seq": last + i})
            for i in range(1, len(distributor_ids) + 1)
        ]
        partner_model = self.env["res.partner"].with_company(company)
        fallback = partner_model._fields[
            "property_account_payable_id"
        ].get_company_dependent_fallback(partner_model)
        payable_default = (
            fallback.id
            or template.line_ids.filtered(lambda ln: ln.display_type == "payment_term")[
                :1
            ].account_id.id
        )
        cr.execute(SQL("DROP TABLE IF EXISTS ds_bt_bill, ds_bt_bill_line"))
        cr.execute(
            SQL(
                """CREATE TEMP TABLE ds_bt_bill ON COMMIT DROP AS
               SELECT b.distributor_id, b.name, b.seq,
                      nextval(pg_get_serial_sequence('account_move', 'id'))::int AS move_id,
                      d.partner_id, p.commercial_partner_id, p.name AS partner_name,
                      COALESCE((cp.property_account_payable_id ->> %(company)s)::int,
                               %(payable)s) AS payable_id,
                      (SELECT bk.id FROM res_partner_bank bk
                        WHERE bk.partner_id = p.commercial_partner_id AND bk.active
                        ORDER BY bk.sequence, bk.id LIMIT 1) AS bank_id,
                      tot.total
               FROM unnest(%(dids)s::int[], %(names)s::varchar[]) WITH ORDINALITY
                    AS b(distributor_id, name, seq)
               JOIN (SELECT l.distributor_id, SUM(l.amount) AS total FROM ds_bonus_line l
                     WHERE l.run_id = %(run)s AND NOT l.carried_forward
                     GROUP BY l.distributor_id) tot ON tot.distributor_id = b.distributor_id
               JOIN ds_distributor d ON d.id = b.distributor_id
               JOIN res_partner p ON p.id = d.partner_id
               JOIN res_partner cp ON cp.id = p.commercial_partner_id
               ORDER BY b.seq""",
                company=str(company.id),
                payable=payable_default,
                run=self.id,
                dids=list(distributor_ids),
                names=names,
            )
        )
        cr.execute(
            SQL(
                """CREATE TEMP TABLE ds_bt_bill_line ON COMMIT DROP AS
               SELECT b.move_id, b.commercial_partner_id, l.bonus_type, SUM(l.amount) AS amount,
                      ROW_NUMBER() OVER (PARTITION BY b.move_id ORDER BY l.bonus_type) AS seq
               FROM ds_bt_bill b
               JOIN ds_bonus_line l ON l.run_id = %s AND l.distributor_id = b.distributor_id
                    AND NOT l.carried_forward
               GROUP BY b.move_id, b.commercial_partner_id, l.bonus_type
               HAVING SUM(l.amount) <> 0""",
                self.id,
            )
        )
        cr.execute(
            SQL(
                """UPDATE ds_bt_bill_line t SET bonus_type = v.label
               FROM unnest(%s::varchar[], %s::varchar[]) AS v(code, label)
               WHERE t.bonus_type = v.code""",
                list(labels),
                [f"{labels[c]} - {self.name}" for c in labels],
            )
        )

        columns, clone = self._sql_columns, self._sql_clone

        now = SQL("NOW() AT TIME ZONE 'UTC'")
        move_over = {
            "name": SQL("b.name"),
            "sequence_number": SQL("%s + b.seq", last),
            "partner_id": SQL("b.partner_id"),
            "commercial_partner_id": SQL("b.commercial_partner_id"),
            "invoice_partner_display_name": SQL("b.partner_name"),
            "partner_bank_id": SQL("b.bank_id"),
            "create_date": now,
            "write_date": now,
        }
        for col in columns("account_move"):
            if col.startswith("amount_"):
                if col.startswith("amount_tax"):
                    move_over[col] = SQL("0.0")
                elif col.endswith("_signed"):
                    move_over[col] = SQL("-b.total")
                else:
                    move_over[col] = SQL("b.total")
        cr.execute(
            SQL(
                "%s FROM ds_bt_bill b CROSS JOIN account_move t WHERE t.id = %s ORDER BY b.seq",
                clone("account_move", move_over, SQL("b.move_id")),
                template.id,
            )
        )
        tpl_product = template.line_ids.filtered(
            lambda ln: ln.display_type == "product"
        )[:1]
        tpl_payable = template.line_ids.filtered(
            lambda ln: ln.display_type == "payment_term"
        )[:1]
        amount = SQL("bl.amount")
        product_over = {
            "move_id": SQL("bl.move_id"),
            "partner_id": SQL("bl.commercial_partner_id"),
            "move_name": SQL("b.name"),
            "name": SQL("bl.bonus_type"),
            "sequence": SQL("9 + bl.seq"),
            "quantity": SQL("1.0"),
            "debit": SQL("GREATEST(%s, 0)", amount),
            "credit": SQL("GREATEST(-%s, 0)", amount),
            "balance": amount,
            "amount_currency": amount,
            "price_unit": amount,
            "price_subtotal": amount,
            "price_total": amount,
            "amount_residual": SQL("0.0"),
            "amount_residual_currency": SQL("0.0"),
            "create_date": now,
            "write_date": now,
        }
        cr.execute(
            SQL(
                """%s FROM ds_bt_bill_line bl JOIN ds_bt_bill b ON b.move_id = bl.move_id
               CROSS JOIN account_move_line t WHERE t.id = %s ORDER BY bl.move_id, bl.seq""",
                clone(
                    "account_move_line",
                    product_over,
                    SQL("nextval(pg_get_serial_sequence('account_move_line', 'id'))"),
                ),
                tpl_product.id,
            )
        )
        total = SQL("b.total")
        payable_over = {
            "move_id": SQL("b.move_id"),
            "partner_id": SQL("b.commercial_partner_id"),
            "move_name": SQL("b.name"),
            "account_id": SQL("b.payable_id"),
            "debit": SQL("0.0"),
            "credit": total,
            "balance": SQL("-%s", total),
            "amount_currency": SQL("-%s", total),
            "amount_residual": SQL("-%s", total),
            "amount_residual_currency": SQL("-%s", total),
            "price_unit": SQL("-%s", total),
            "price_subtotal": SQL("-%s", total),
            "price_total": SQL("-%s", total),
            "create_date": now,
            "write_date": now,
        }
        cr.execute(
            SQL(
                "%s FROM ds_bt_bill b CROSS JOIN account_move_line t WHERE t.id = %s ORDER BY b.seq",
                clone(
                    "account_move_line",
                    payable_over,
                    SQL("nextval(pg_get_serial_sequence('account_move_line', 'id'))"),
                ),
                tpl_payable.id,
            )
        )
        # followers as on the template: posting subscribed its vendor, so each clone is
        # followed by its own earner (the portal rule on bills reads message_partner_ids:
        # without it a distributor cannot open their bill), with the same subtypes
        self.env["mail.followers"].flush_model()
        cr.execute(
            SQL(
                """WITH src AS (
                   SELECT f.id AS follower_id, b.move_id,
                          CASE WHEN f.partner_id = %(vendor)s THEN b.partner_id
                               ELSE f.partner_id END AS partner_id
                     FROM ds_bt_bill b
               CROSS JOIN mail_followers f
                    WHERE f.res_model = 'account.move' AND f.res_id = %(template)s
                      AND f.partner_id IS NOT NULL
               ), ins AS (
                   INSERT INTO mail_followers (res_model, res_id, partner_id)
                   SELECT DISTINCT 'account.move', src.move_id, src.partner_id FROM src
                   ON CONFLICT DO NOTHING
                   RETURNING id, res_id, partner_id
               )
               INSERT INTO mail_followers_mail_message_subtype_rel
                      (mail_followers_id, mail_message_subtype_id)
               SELECT DISTINCT ins.id, r.mail_message_subtype_id
                 FROM ins
                 JOIN src ON src.move_id = ins.res_id AND src.partner_id = ins.partner_id
                 JOIN mail_followers_mail_message_subtype_rel r
                   ON r.mail_followers_id = src.follower_id
               ON CONFLICT DO NOTHING""",
                vendor=template.partner_id.id,
                template=template.id,
            )
        )
        cr.execute(
            SQL(
                """UPDATE ds_bonus_line l SET move_id = b.move_id FROM ds_bt_bill b
               WHERE l.run_id = %s AND NOT l.carried_forward AND l.distributor_id = b.distributor_id""",
                self.id,
            )
        )
        cr.execute(SQL("SELECT move_id FROM ds_bt_bill ORDER BY seq"))
        move_ids = [r[0] for r in cr.fetchall()]
        cr.execute(SQL("DROP TABLE IF EXISTS ds_bt_bill, ds_bt_bill_line"))
        self.env.invalidate_all()
        # Odoo keeps the journal's last number for the rest of the transaction: the next bill
        # posted through the ORM must read it again, past the numbers given here
        self.env["account.move"]._get_sequence_cache().clear()
        return self.env["account.move"].browse(move_ids)

    def _sql_columns(self, table):
        """Stored columns of ``table`` but ``id``, in table order."""
        self.env.cr.execute(
            SQL(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                table,
            )
        )
        return [r[0] for r in self.env.cr.fetchall() if r[0] != "id"]

    def _sql_clone(self, table, overrides, source):
        """``INSERT INTO table (id, cols) SELECT <source>, <t.col or override>`` prefix:
        copies the row aliased ``t`` with the columns of ``overrides`` replaced."""
        cols = self._sql_columns(table)
        exprs = [overrides.get(c, SQL("t.%s", SQL.identifier(c))) for c in cols]
        return SQL(
            "INSERT INTO %s (id, %s) SELECT %s",
            SQL.identifier(table),
            SQL(", ").join(SQL.identifier(c) for c in cols),
            SQL(", ").join([source] + exprs),
        )

    def _create_entry(self):
        self.ensure_one()
        plan = self.plan_id
        payable = plan._get_payable_account()
        if not payable:
            raise UserError(
                self.env._("Set the payable account of plan %s.", plan.name)
            )
        labels = self._type_labels()
        per_type, per_partner, distributors = {}, {}, []
        for did, partner_id, btype, amount in self._paid_rows():
            per_type[btype] = per_type.get(btype, 0.0) + float(amount)
            if (did, partner_id) not in per_partner:
                distributors.append(did)
            per_partner[(did, partner_id)] = per_partner.get(
                (did, partner_id), 0.0
            ) + float(amount)
        if not per_partner:
            return self.env["account.move"]
        cur = self.currency_id
        line_vals = [
            Command.create(
                {
                    "name": f"{labels[btype]} - {self.name}",
                    "account_id": plan.expense_account_id.id,
                    "balance": cur.round(amount),
                }
            )
            for btype, amount in sorted(per_type.items())
            if amount
        ]
        threshold = plan.fast_post_threshold
        fast = bool(threshold) and len(per_partner) > threshold
        payable_items = list(per_partner.items())
        if fast:
            # one payable line for everybody through the ORM (balanced entry), split per
            # distributor in SQL after posting (below)
            (first_did, first_partner), _amount = payable_items[0]
            payable_items = [((first_did, first_partner), sum(per_partner.values()))]
        line_vals += [
            Command.create(
                {
                    "name": self.name,
                    "account_id": payable.id,
                    "partner_id": partner_id,
                    "balance": -cur.round(amount),
                }
            )
            for (did, partner_id), amount in payable_items
        ]
        move = (
            self.env["account.move"]
            .with_context(tracking_disable=True)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": plan.journal_id.id,
                    "company_id": self.company_id.id,
                    "date": self.date,
                    "ref": self.name,
                    "line_ids": line_vals,
                }
            )
        )
        move.action_post()
        if fast:
            self._split_payable_sql(move, per_partner)
        self._link_lines(distributors, [move.id] * len(distributors))
        return move

    def _split_payable_sql(self, move, per_partner):
        """Replace the single payable line of the posted consolidated ``move`` by one
        payable line per distributor (copies of it), set-based: the entry stays balanced."""
        cr = self.env.cr
        self.env.flush_all()
        line = move.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "liability_payable"
        )
        line.ensure_one()
        cur = self.currency_id
        partners = [partner_id for (_did, partner_id) in per_partner]
        amounts = [cur.round(a) for a in per_partner.values()]
        cr.execute(SQL("DROP TABLE IF EXISTS ds_bt_pay"))
        cr.execute(
            SQL(
                """CREATE TEMP TABLE ds_bt_pay ON COMMIT DROP AS
               SELECT p.partner_id, p.amount::numeric AS amount, p.seq
               FROM unnest(%s::int[], %s::numeric[]) WITH ORDINALITY AS p(partner_id, amount, seq)""",
                partners,
                amounts,
            )
        )
        amount = SQL("p.amount")
        now = SQL("NOW() AT TIME ZONE 'UTC'")
        over = {
            "partner_id": SQL("p.partner_id"),
            "debit": SQL("0.0"),
            "credit": amount,
            "balance": SQL("-%s", amount),
            "amount_currency": SQL("-%s", amount),
            "amount_residual": SQL("-%s", amount),
            "amount_residual_currency": SQL("-%s", amount),
            "create_date": now,
            "write_date": now,
        }
        cr.execute(
            SQL(
                "%s FROM ds_bt_pay p CROSS JOIN account_move_line t WHERE t.id = %s AND p.seq > 1 ORDER BY p.seq",
                self._sql_clone(
                    "account_move_line",
                    over,
                    SQL("nextval(pg_get_serial_sequence('account_move_line', 'id'))"),
                ),
                line.id,
            )
        )
        cr.execute(
            SQL(
                """UPDATE account_move_line t SET debit = 0.0, credit = p.amount, balance = -p.amount,
                      amount_currency = -p.amount, amount_residual = -p.amount,
                      amount_residual_currency = -p.amount
               FROM ds_bt_pay p WHERE t.id = %s AND p.seq = 1""",
                line.id,
            )
        )
        cr.execute(SQL("DROP TABLE IF EXISTS ds_bt_pay"))
        self.env.invalidate_all()

    def action_cancel(self):
        """Cancel runs. A posted run's bills (or entry) are reversed; refused, naming
        them, when some are already paid."""
        self._check_manager()
        for run in self:
            if run.state == "cancelled":
                continue
            if run.state == "posted":
                moves = run.move_ids.filtered(
                    lambda m: m.state == "posted" and not m.reversed_entry_id
                )
                paid = moves.filtered(
                    lambda m: (
                        m.move_type == "in_invoice"
                        and m.payment_state in ("paid", "in_payment", "partial")
                    )
                )
                entries = moves.filtered(lambda m: m.move_type == "entry")
                paid_lines = entries.line_ids.filtered(
                    lambda ln: (
                        ln.account_id.account_type == "liability_payable"
                        and (
                            ln.reconciled
                            or ln.matched_debit_ids
                            or ln.matched_credit_ids
                        )
                    )
                )
                if paid or paid_lines:
                    names = paid.mapped(
                        lambda m: f"{m.name} ({m.partner_id.name})"
                    ) + paid_lines.mapped(
                        lambda ln: f"{ln.move_id.name} ({ln.partner_id.name})"
                    )
                    raise UserError(
                        self.env._(
                            "Run %(run)s cannot be cancelled: these payouts are already paid: "
                            "%(bills)s. Reverse the payments first.",
                            run=run.name,
                            bills=", ".join(names),
                        )
                    )
                today = fields.Date.context_today(self)
                reversals = moves._reverse_moves(
                    [
                        {
                            "date": today,
                            "ref": self.env._("Reversal of %s", run.name),
                            **({"invoice_date": today} if m.is_invoice() else {}),
                        }
                        for m in moves
                    ],
                    cancel=True,
                )
                run.write({"move_ids": [Command.link(m.id) for m in reversals]})
                msg = self.env._(
                    "Cancelled by %(user)s; %(n)s payouts reversed.",
                    user=self.env.user.name,
                    n=len(reversals),
                )
            else:
                msg = self.env._("Cancelled by %s.", self.env.user.name)
            run.write({"state": "cancelled", "job_state": False})
            run.message_post(body=msg)
        return True

    def action_reset_draft(self):
        ds_check_user(self.env, self.env._("reset bonus runs to draft"), self, "write")
        if self.filtered(lambda r: r.state == "cancelled"):
            ds_check_manager(self.env, self.env._("reopen cancelled bonus runs"), self)
        for run in self:
            if run.state not in ("computed", "cancelled") or (
                run.state == "cancelled" and run.move_ids
            ):
                raise UserError(
                    self.env._(
                        "Only computed runs or unposted cancelled runs go back to draft."
                    )
                )
        for run in self.filtered(lambda r: r.state == "cancelled" and not r.simulation):
            run._try_lock_period_plan(run.period_id, run.plan_id)
        self._reset_to_draft()
        self._check_live_unique()
        return True

    # ------------------------------------------------------------------ views / exports
    def action_view_moves(self):
        ds_check_user(self.env, self.env._("open the payouts of bonus runs"), self)
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_in_invoice_type"
        )
        action.update(
            {"domain": [("id", "in", self.move_ids.ids)], "context": {"create": False}}
        )
        return action

    def action_view_lines(self):
        ds_check_user(self.env, self.env._("open the lines of bonus runs"), self)
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_bonus_line"
        )
        action.update(
            {
                "domain": [("run_id", "=", self.id)],
                # one run: what each earner is paid (the statement); amounts add up per
                # earner, rates and levels are not summed (ds.bonus.line aggregators)
                "context": {"search_default_group_distributor": 1},
            }
        )
        return action

    @api.private  # returns recordsets: a Python API (PDF statement, portal), not RPC
    def get_statement_data(self, distributor_ids=None):
        """Statement rows per earner: {distributor: [(type label, source, level, base,
        rate, amount, carried)]}, used by the PDF statement and the portal (as superuser,
        for the portal user's own lines only)."""
        ds_check_user(self.env, self.env._("read the statements of bonus runs"), self)
        self.ensure_one()
        domain = [("run_id", "=", self.id)]
        if distributor_ids:
            domain.append(("distributor_id", "in", list(distributor_ids)))
        lines = self.env["ds.bonus.line"].search(domain)
        result = {}
        for line in lines:
            result.setdefault(line.distributor_id, self.env["ds.bonus.line"])
            result[line.distributor_id] |= line
        return result

    # ------------------------------------------------------------------ statements
    @api.private  # returns recordsets: a Python API (PDF statement, portal), not RPC
    def get_statement_summaries(self, distributor_ids=None):
        """One summary per (run, earner) of these runs, optionally only ``distributor_ids``:
        the figures of the one- or two-page statement, all from grouped queries (a top
        earner's hundreds of thousands of lines are never read one by one).

        Each summary is a dict: ``run``, ``distributor``, ``volume`` (ds.volume of the
        period or empty), ``types`` [(bonus_type, label, line count, amount)], ``levels``
        {bonus_type: [(level, line count, base, amount)]} (unilevel levels, matching
        generations), ``line_count``, ``carry_in`` (carry_forward lines), ``total`` (sum of
        all the earner's lines), ``carried_out`` (total carried to the next run when the
        earner is not paid), ``paid`` (sum of the paid lines: the bill's amount), ``moves``
        (the payout entries), ``bill_total`` (their total for this earner) and
        ``payment_state`` (of a vendor bill, else False)."""
        ds_check_user(self.env, self.env._("read the statements of bonus runs"), self)
        Line = self.env["ds.bonus.line"]
        domain = [("run_id", "in", self.ids)]
        if distributor_ids is not None:
            domain.append(("distributor_id", "in", list(distributor_ids)))
        groups = Line._read_group(
            domain,
            ["run_id", "distributor_id", "bonus_type", "level", "move_id"],
            ["__count", "base:sum", "amount:sum", "carried_forward:bool_or"],
            order="run_id, distributor_id",
        )
        labels = self._type_labels()
        order = {btype: i for i, (btype, _label) in enumerate(BONUS_TYPES)}
        summaries = {}
        for run, dist, btype, level, move, count, base, amount, carried in groups:
            cur = run.currency_id
            st = summaries.get((run.id, dist.id))
            if st is None:
                st = summaries[run.id, dist.id] = {
                    "run": run,
                    "distributor": dist,
                    "types": {},
                    "levels": {},
                    "line_count": 0,
                    "carry_in": 0.0,
                    "total": 0.0,
                    "carried_out": 0.0,
                    "paid": 0.0,
                    "moves": self.env["account.move"],
                }
            amount = float(amount or 0.0)
            st["line_count"] += count
            st["total"] += amount
            if carried:
                st["carried_out"] += amount
            else:
                st["paid"] += amount
            if move:
                st["moves"] |= move
            if btype == "carry_forward":
                st["carry_in"] += amount
            t_count, t_amount = st["types"].get(btype, (0, 0.0))
            st["types"][btype] = (t_count + count, t_amount + amount)
            if btype in ("unilevel", "matching"):
                per_level = st["levels"].setdefault(btype, {})
                l_count, l_base, l_amount = per_level.get(level, (0, 0.0, 0.0))
                per_level[level] = (
                    l_count + count,
                    l_base + float(base or 0.0),
                    l_amount + amount,
                )
            st["currency"] = cur
        # volumes of the period (PV, GV, legs, paid-as rank) of every earner at once
        volumes = {}
        for period, runs in self.grouped("period_id").items():
            earners = [d for (r, d) in summaries if r in runs.ids]
            for volume in self.env["ds.volume"].search(
                [("period_id", "=", period.id), ("distributor_id", "in", earners)]
            ):
                volumes[period.id, volume.distributor_id.id] = volume
        result = []
        for st in summaries.values():
            cur = st["currency"]
            for key in ("carry_in", "total", "carried_out", "paid"):
                st[key] = cur.round(st[key])
            st["types"] = [
                (btype, labels.get(btype, btype), count, cur.round(amount))
                for btype, (count, amount) in sorted(
                    st["types"].items(), key=lambda kv: order.get(kv[0], 99)
                )
            ]
            st["levels"] = {
                btype: [
                    (level, count, cur.round(base), cur.round(amount))
                    for level, (count, base, amount) in sorted(per_level.items())
                ]
                for btype, per_level in st["levels"].items()
            }
            st["volume"] = volumes.get(
                (st["run"].period_id.id, st["distributor"].id), self.env["ds.volume"]
            )
            # the earner's payout as the statement shows it (number, amount, payment status),
            # also to statement readers without accounting rights: the run was checked above
            moves = st["moves"] = st["moves"].sudo()
            bills = moves.filtered(lambda m: m.move_type == "in_invoice")
            if bills and bills == moves:
                st["bill_total"] = cur.round(sum(bills.mapped("amount_total")))
                st["payment_state"] = bills[:1].payment_state
            else:  # consolidated entry: the earner's payable line is the paid amount
                st["bill_total"] = st["paid"] if moves else 0.0
                st["payment_state"] = False
            result.append(st)
        return result

    def _statement_lines_query(self, distributor, after_id=0, limit=20000):
        """One page of an earner's lines for the XLSX detail, by id (keyset paging: a
        page reads the earner's rows through the (run_id, distributor_id) index)."""
        return SQL(
            """SELECT l.id, l.bonus_type, sd.code, sp.name, l.level, l.base, l.rate,
                      l.amount, l.carried_forward, m.name
               FROM ds_bonus_line l
               LEFT JOIN ds_distributor sd ON sd.id = l.source_distributor_id
               LEFT JOIN res_partner sp ON sp.id = sd.partner_id
               LEFT JOIN account_move m ON m.id = l.move_id
               WHERE l.run_id = %s AND l.distributor_id = %s AND l.id > %s
               ORDER BY l.id LIMIT %s""",
            self.id,
            distributor.id,
            after_id,
            limit,
        )

    def _statement_xlsx_bytes(self, distributor):
        """XLSX of one earner's statement: a summary sheet and every line (write-only
        workbook: rows go to a temporary file as they are read, a page of 20,000 rows at
        a time, so memory stays flat at hundreds of thousands of lines)."""
        self.ensure_one()
        ds_check_user(self.env, self.env._("export bonus statements"), self)
        import openpyxl  # external dependency declared in the manifest
        from openpyxl.styles import Font

        from ..tools.spreadsheet import append_row, xlsx_cell  # text cells, no formulas

        summaries = self.get_statement_summaries([distributor.id])
        st = summaries[0] if summaries else None
        _ = self.env._
        labels = self._type_labels()
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(_("Statement"))
        bold = Font(bold=True)
        append_row(ws, [_("Company"), self.company_id.name])
        append_row(ws, [_("Run"), self.name])
        append_row(ws, [_("Period"), self.period_id.display_name])
        append_row(ws, [_("Earner code"), distributor.code])
        append_row(ws, [_("Earner"), distributor.name])
        if st:
            ws.append([xlsx_cell(ws, _("Bonus type"), bold), xlsx_cell(ws, _("Lines"), bold),
                       xlsx_cell(ws, _("Amount"), bold)])  # fmt: skip
            for _btype, label, count, amount in st["types"]:
                append_row(ws, [label, count, amount])
            append_row(ws, [_("Total"), st["line_count"], st["total"]])
            append_row(ws, [_("Carried out"), None, st["carried_out"]])
            append_row(ws, [_("Paid in this run"), None, st["paid"]])
        ws = wb.create_sheet(_("Lines"))
        headers = [
            _("Bonus type"),
            _("Source code"),
            _("Source"),
            _("Level"),
            _("Base"),
            _("Rate (%)"),
            _("Amount"),
            _("Carried forward"),
            _("Journal entry"),
        ]
        ws.append([xlsx_cell(ws, h, bold) for h in headers])
        self.env["ds.bonus.line"].flush_model()
        last_id = 0
        while True:
            self.env.cr.execute(self._statement_lines_query(distributor, last_id))
            rows = self.env.cr.fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            for row in rows:
                _id, btype, scode, sname, level, base, rate, amount, carried, move = row
                append_row(
                    ws,
                    [
                        labels.get(btype, btype),
                        scode,
                        sname,
                        level,
                        float(base or 0),
                        float(rate or 0),
                        float(amount or 0),
                        bool(carried),
                        move,
                    ],
                )
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    def _export_xlsx_bytes(self):
        """XLSX export of the run (summary sheet + lines sheet), streamed from SQL."""
        self.ensure_one()
        import openpyxl  # external dependency declared in the manifest

        from ..tools.spreadsheet import append_row  # text cells, never formulas

        labels = self._type_labels()
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(self.env._("Summary"))
        append_row(ws, [self.env._("Run"), self.name])
        append_row(ws, [self.env._("Period"), self.period_id.display_name])
        append_row(ws, [self.env._("Plan"), self.plan_id.name])
        append_row(
            ws,
            [self.env._("Status"), dict(self._fields["state"].selection)[self.state]],
        )
        append_row(ws, [self.env._("Period BV"), self.period_bv])
        append_row(ws, [self.env._("Payout ratio (%)"), self.payout_ratio])
        append_row(ws, [self.env._("Cap factor"), self.cap_factor])
        for btype, label in BONUS_TYPES:
            append_row(ws, [label, self["amount_" + btype]])
        append_row(ws, [self.env._("Carried out"), self.amount_carried_out])
        append_row(ws, [self.env._("Total paid"), self.total_amount])
        ws = wb.create_sheet(self.env._("Lines"))
        append_row(
            ws,
            [
                self.env._("Earner code"),
                self.env._("Earner"),
                self.env._("Bonus type"),
                self.env._("Source code"),
                self.env._("Source"),
                self.env._("Level"),
                self.env._("Base"),
                self.env._("Rate (%)"),
                self.env._("Amount"),
                self.env._("Carried forward"),
                self.env._("Journal entry"),
            ],
        )
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT d.code, p.name, l.bonus_type, sd.code, sp.name, l.level, l.base, l.rate,
                      l.amount, l.carried_forward, m.name
               FROM ds_bonus_line l
               JOIN ds_distributor d ON d.id = l.distributor_id
               JOIN res_partner p ON p.id = d.partner_id
               LEFT JOIN ds_distributor sd ON sd.id = l.source_distributor_id
               LEFT JOIN res_partner sp ON sp.id = sd.partner_id
               LEFT JOIN account_move m ON m.id = l.move_id
               WHERE l.run_id = %s ORDER BY l.id""",
                self.id,
            )
        )
        while rows := self.env.cr.fetchmany(10000):
            for row in rows:
                row = list(row)
                row[2] = labels.get(row[2], row[2])
                row[6], row[7], row[8] = (
                    float(row[6] or 0),
                    float(row[7] or 0),
                    float(row[8] or 0),
                )
                append_row(ws, row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    def action_export_xlsx(self):
        ds_check_user(self.env, self.env._("export bonus runs"), self)
        self.ensure_one()
        attachment = self.env["ir.attachment"].create(
            {
                "name": "{}.xlsx".format(self.name.replace("/", "-")),
                "datas": base64.b64encode(self._export_xlsx_bytes()),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_open_statement(self):
        """The statement wizard of this run: pick an earner, print the summary PDF or
        download every line as XLSX."""
        ds_check_user(self.env, self.env._("read the statements of bonus runs"), self)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Bonus Statement"),
            "res_model": "ds.bonus.statement",
            "view_mode": "form",
            "target": "new",
            "context": {"default_run_id": self.id},
        }

    def action_compare(self):
        ds_check_user(self.env, self.env._("compare bonus runs"), self)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_bonus_run_compare"
        )
        action["context"] = {"default_run_ids": [Command.set(self.ids)]}
        return action

    def _top_earners(self, limit=10):
        self.ensure_one()
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT l.distributor_id, SUM(l.amount) AS total FROM ds_bonus_line l
               WHERE l.run_id = %s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s""",
                self.id,
                limit,
            )
        )
        rows = self.env.cr.fetchall()
        dists = self.env["ds.distributor"].browse([r[0] for r in rows])
        return [(d, float(t)) for d, (_i, t) in zip(dists, rows, strict=False)]
