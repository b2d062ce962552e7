"""Decision-model training in the background (issue 16), as the core computes large bonus
runs (crm_direct_selling ``ds.bonus.run``): the Train button of a model whose data is
larger than the company's threshold queues a job and returns at once; a cron trains the
queued models one per call, as the user who queued them, and reports its progress from
short separate transactions into a side table the form reads live."""

import logging
import zlib

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module
from odoo.tools import SQL, format_datetime

_logger = logging.getLogger(__name__)

PROGRESS_TABLE = "ds_decision_job_progress"


def _lock_namespace(model_name):
    return zlib.crc32(f"{model_name}.job".encode()) & 0x7FFFFFFF


class DsDecisionJobMixin(models.AbstractModel):
    _name = "ds.decision.job.mixin"
    _description = "Decision Model Background Training"

    # the ir.cron (xml id) that trains queued records of the inheriting model
    _job_cron = None

    job_state = fields.Selection(
        [("queued", "Queued"), ("done", "Done"), ("failed", "Failed")],
        string="Background Job",
        readonly=True,
        copy=False,
    )
    job_error = fields.Text(readonly=True, copy=False)
    job_user_id = fields.Many2one(
        "res.users",
        string="Queued By",
        readonly=True,
        copy=False,
        help="The user who queued the training: the background job trains as them.",
    )
    progress = fields.Float(
        compute="_compute_job_progress", help="Progress of the background job (%)."
    )
    job_status_message = fields.Char(compute="_compute_job_progress")

    def init(self):
        if self._abstract:
            return
        self.env.cr.execute(
            SQL(
                """CREATE TABLE IF NOT EXISTS ds_decision_job_progress (
                   res_model varchar NOT NULL, res_id integer NOT NULL,
                   progress double precision NOT NULL,
                   write_date timestamp NOT NULL DEFAULT (NOW() AT TIME ZONE 'UTC'),
                   PRIMARY KEY (res_model, res_id))"""
            )
        )

    # ------------------------------------------------------------ queueing
    def _job_size(self):
        """Partners the training reads and scores, estimated cheaply: the company's RFM
        rows (one per partner who bought in the RFM window)."""
        self.ensure_one()
        return self.env.execute_query(
            SQL(
                "SELECT COUNT(*) FROM ds_partner_rfm WHERE company_id = %s",
                self.company_id.id,
            )
        )[0][0]

    def _check_trainable(self):
        """Cheap checks run before queueing (a clear error at once, not a failed job)."""
        return True

    def _train_or_queue(self):
        """Train inline, or queue the training when its data is larger than the company's
        background threshold. Returns the button's action."""
        queued = self.browse()
        for record in self:
            if record.job_state == "queued":
                raise UserError(
                    self.env._(
                        "%(model)s is already queued for training in the background.",
                        model=record.display_name,
                    )
                )
            record._check_trainable()
            threshold = record.company_id.ds_decision_async_threshold
            if (
                not self.env.context.get("ds_decision_inline")
                and threshold >= 0
                and record._job_size() >= threshold
            ):
                record.write(
                    {
                        "job_state": "queued",
                        "job_error": False,
                        "job_user_id": self.env.context.get("ds_job_uid")
                        or self.env.uid,
                    }
                )
                self.env.cr.execute(
                    SQL(
                        "DELETE FROM ds_decision_job_progress WHERE res_model = %s AND res_id = %s",
                        record._name,
                        record.id,
                    )
                )
                record.message_post(
                    body=self.env._(
                        "Training queued to a background job by %s.",
                        record.job_user_id.name,
                    )
                )
                queued |= record
            else:
                record._train()
        if not queued:
            return True
        self.env.ref(self._job_cron)._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "The model is trained in the background; its progress is shown on "
                    "the form."
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------ the job
    @api.model
    def _cron_train_queued(self):
        """Train the oldest queued record whose job no other worker holds, one per call
        (the cron framework commits after each call and calls again while some remain). A
        failing training is rolled back to a savepoint and reported on the record."""
        records = self.search([("job_state", "=", "queued")], order="id")
        if not records:
            return
        progress = not (
            odoo_module.current_test
            or self.env.registry.in_test_mode()
            or self.env.context.get("ds_decision_progress_same_cursor")
        )
        record = next((r for r in records if r._try_lock_job()), None)
        if not record:
            return
        job_user = record.job_user_id
        if job_user and job_user.active and not job_user._is_superuser():
            record = record.with_user(job_user).sudo().with_context(lang=job_user.lang)
        record._set_progress(0.0, progress)
        try:
            with self.env.cr.savepoint():
                record._train(progress=progress)
            record.write({"job_state": "done"})
        except Exception as e:  # noqa: BLE001 - reported on the record, cron keeps going
            _logger.info("Training of %s failed: %s", record, e)
            record.write({"job_state": "failed", "job_error": str(e)})
            record.message_post(body=self.env._("Background training failed: %s", e))
        record._set_progress(100.0, progress)
        self.env["ir.cron"]._notify_progress(done=1, remaining=len(records) - 1)

    def _try_lock_job(self):
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT pg_try_advisory_xact_lock(%s, %s)",
                _lock_namespace(self._name),
                self.id,
            )
        )
        return self.env.cr.fetchone()[0]

    def _set_progress(self, value, progress=None):
        """Progress of a background job, in the side table: ``progress`` True = in a
        separate short transaction (the form sees it while the job runs), False = in the
        current transaction, None = not a background job."""
        if progress is None or not self.id:
            return
        query = SQL(
            """INSERT INTO ds_decision_job_progress (res_model, res_id, progress)
               VALUES (%s, %s, %s)
               ON CONFLICT (res_model, res_id) DO UPDATE SET progress = EXCLUDED.progress,
                   write_date = NOW() AT TIME ZONE 'UTC'""",
            self._name,
            self.id,
            value,
        )
        if progress:
            with self.env.registry.cursor() as cr:
                cr.execute(query)
        else:
            self.env.cr.execute(query)

    @api.depends("job_state")
    def _compute_job_progress(self):
        data, running = {}, set()
        ids = tuple(self.ids)
        if ids:
            data = {
                row[0]: row[1:]
                for row in self.env.execute_query(
                    SQL(
                        """SELECT res_id, progress, write_date FROM ds_decision_job_progress
                            WHERE res_model = %s AND res_id IN %s""",
                        self._name,
                        ids,
                    )
                )
            }
            # records whose job lock a live transaction holds right now
            running = {
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """SELECT objid::integer FROM pg_locks
                            WHERE locktype = 'advisory' AND granted AND objsubid = 2
                              AND database = (SELECT oid FROM pg_database
                                               WHERE datname = current_database())
                              AND classid = %s::oid AND objid::integer IN %s""",
                        _lock_namespace(self._name),
                        ids,
                    )
                )
            }
        for record in self:
            value, heartbeat = data.get(record.id, (0.0, False))
            record.progress = 100.0 if record.job_state == "done" else value
            percent = f"{value:.0f}"
            message = False
            if record.job_state == "queued":
                if record.id in running:
                    message = self.env._(
                        "Training in the background: %(progress)s %%", progress=percent
                    )
                elif record.id in data:
                    message = self.env._(
                        "Interrupted at %(progress)s %% — waiting for the background job "
                        "to resume it (since %(since)s)",
                        progress=percent,
                        since=format_datetime(self.env, heartbeat),
                    )
                else:
                    message = self.env._(
                        "Queued — waiting for the background job to start it."
                    )
            elif record.job_state == "failed":
                message = self.env._(
                    "The background training failed: %s", record.job_error or ""
                )
            record.job_status_message = message
