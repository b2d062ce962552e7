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
        fresh = period.state == "open"
        if fresh:
            period.sudo().action_compute_volumes()
        self._set_progress(20.0, progress)
        totals = self._compute_lines_sql(progress=progress, volumes_fresh=fresh)
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

    def _compute_lines_sql(self, progress=None, volumes_fresh=False):
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
            volumes_fresh=volumes_fresh,
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
