"""Autoship: a subscriber's recurring order, turned into a confirmed sale order and a posted
invoice paid with the saved payment token by the job ``_cron_process_due``.

Why not OCA ``subscription_oca`` / ``contract`` (odoo-addon-* wheels for 18.0): see
readme/DESCRIPTION.md ("Autoship"). In short: AGPL-3 (these addons are LGPL-3), no payment
token charge, no skip / pause / retry, a per-record loop without idempotency per date, and
wheels that require the ``odoo`` pip distribution, which our source-tree setup does not have.

Never twice for one date: a ``ds.autoship.run`` row per autoship x scheduled date in state
``done`` or ``skipped`` is unique (partial unique index); the job claims due autoships with
``FOR UPDATE SKIP LOCKED``, so two workers never process the same autoship at once, and a
second run of the job finds the date already advanced.
"""

import logging

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, split_every

from .mail_thread import DsMessageBuffer

_logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


class DsChargeLog:
    """The charges a run of the autoship job has sent, kept outside the database: when a
    batch fails after its cards were charged, its savepoint rolls the transactions back, and
    the retry of each half must not charge those subscribers again. Hashable by identity
    (it sits in a context)."""

    __slots__ = ("charges", "error")

    def __init__(self):
        # autoship id -> (reference, provider reference, state, amount, currency id) of a
        # charge the provider confirmed (done)
        self.charges = {}
        self.error = None  # the last error that rolled a batch back

    def add(self, autoship, tx):
        self.charges[autoship.id] = (
            tx.reference,
            tx.provider_reference,
            tx.state,
            tx.amount,
            tx.currency_id.id,
        )


INTERVAL_UNITS = [
    ("day", "Days"),
    ("week", "Weeks"),
    ("month", "Months"),
    ("year", "Years"),
]
# SQL interval unit of each interval_unit (for the set-based date roll)
_SQL_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}


class DsAutoship(models.Model):
    _name = "ds.autoship"
    _description = "Autoship (recurring order)"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "next_date, id"

    name = fields.Char(
        required=True, copy=False, readonly=True, default=lambda self: _("New")
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Subscriber",
        required=True,
        index=True,
        tracking=True,
        ondelete="restrict",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.One2many("ds.autoship.line", "autoship_id", string="Products")
    interval_number = fields.Integer(
        string="Every", default=1, required=True, tracking=True
    )
    interval_unit = fields.Selection(
        INTERVAL_UNITS, default="month", required=True, tracking=True
    )
    next_date = fields.Date(
        required=True,
        index=True,
        tracking=True,
        default=lambda self: fields.Date.context_today(self) + relativedelta(months=1),
    )
    retry_date = fields.Date(
        readonly=True,
        copy=False,
        help="After a failed attempt: the day the job tries this date's order again.",
    )
    state = fields.Selection(
        [("active", "Active"), ("paused", "Paused"), ("cancelled", "Cancelled")],
        default="active",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    payment_token_id = fields.Many2one(
        "payment.token",
        string="Payment Method",
        domain="[('partner_id', '=', partner_id)]",
        tracking=True,
        ondelete="set null",
    )
    failure_count = fields.Integer(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    last_order_id = fields.Many2one("sale.order", readonly=True, copy=False)
    order_ids = fields.One2many("sale.order", "ds_autoship_id", string="Orders")
    run_ids = fields.One2many("ds.autoship.run", "autoship_id", string="History")
    reminder_date = fields.Date(
        readonly=True,
        copy=False,
        help="The scheduled date the last reminder mail was sent for.",
    )
    cancel_date = fields.Date(readonly=True, copy=False)
    pv_total = fields.Float(
        string="PV per Order", digits=(16, 2), compute="_compute_totals"
    )
    amount_estimate = fields.Monetary(
        string="Estimated Amount",
        compute="_compute_totals",
        help="At the current list price; the order takes the subscriber's pricelist price "
        "of the day it is created.",
    )

    _sql_constraints = [
        (
            "interval_positive",
            "CHECK(interval_number > 0)",
            "The interval of an autoship must be at least 1.",
        ),
    ]

    @api.depends("line_ids.quantity", "line_ids.product_id")
    def _compute_totals(self):
        for autoship in self:
            lines = autoship.line_ids
            autoship.pv_total = sum(
                line.quantity * line.product_id.ds_pv for line in lines
            )
            autoship.amount_estimate = sum(
                line.quantity * line.product_id.lst_price for line in lines
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("name") or vals["name"] == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("ds.autoship") or _(
                    "New"
                )
        return super().create(vals_list)

    @api.constrains("payment_token_id", "partner_id")
    def _check_token_partner(self):
        for autoship in self:
            token = autoship.payment_token_id
            if (
                token
                and token.sudo().partner_id.commercial_partner_id
                != autoship.partner_id.commercial_partner_id
            ):
                raise ValidationError(
                    _(
                        "Autoship %(name)s: the payment method %(token)s belongs to "
                        "another customer.",
                        name=autoship.name,
                        token=token.sudo().display_name,
                    )
                )

    # ------------------------------------------------------------------
    # Access for the subscriber (portal) and the back office
    # ------------------------------------------------------------------
    def _ds_check_owner(self):
        """Raise AccessError unless the current user may change these autoships: a Direct
        Selling user, or the subscriber themselves (record rules apply to the read)."""
        if self.env.su or self.env.user.has_group("crm_direct_selling.group_ds_user"):
            return self
        self.check_access("read")
        partner = self.env.user.partner_id.commercial_partner_id
        for autoship in self.sudo():
            if autoship.partner_id.commercial_partner_id != partner:
                raise AccessError(
                    _("Autoship %(name)s is not yours.", name=autoship.name)
                )
        return self

    # ------------------------------------------------------------------
    # Dates
    # ------------------------------------------------------------------
    def _ds_step(self):
        self.ensure_one()
        return relativedelta(**{_SQL_UNITS[self.interval_unit]: self.interval_number})

    def _ds_next_after(self, date, today=None):
        """The scheduled date after ``date`` (later than ``today`` when given)."""
        self.ensure_one()
        nxt = date + self._ds_step()
        while today and nxt <= today:
            nxt += self._ds_step()
        return nxt

    # ------------------------------------------------------------------
    # Buttons (also the portal's actions)
    # ------------------------------------------------------------------
    def _ds_check_state(self, allowed, action):
        for autoship in self:
            if autoship.state not in allowed:
                raise UserError(
                    _(
                        "Autoship %(name)s is %(state)s: it cannot be %(action)s.",
                        name=autoship.name,
                        state=dict(
                            self._fields["state"]._description_selection(self.env)
                        )[autoship.state],
                        action=action,
                    )
                )

    def action_skip_next(self):
        """Skip the next scheduled order: its date is recorded as skipped (so the job can
        never charge it) and the next date moves one interval on."""
        self._ds_check_owner()
        self._ds_check_state(("active", "paused"), _("skipped"))
        for autoship in self.sudo():
            skipped = autoship.next_date
            autoship.env["ds.autoship.run"].create(
                {"autoship_id": autoship.id, "date": skipped, "state": "skipped"}
            )
            autoship.write(
                {
                    "next_date": autoship._ds_next_after(skipped),
                    "retry_date": False,
                    "failure_count": 0,
                }
            )
            autoship.message_post(
                body=_(
                    "The order of %(date)s is skipped; next order on %(next)s.",
                    date=skipped,
                    next=autoship.next_date,
                )
            )
        return True

    def action_pause(self):
        self._ds_check_owner()
        self._ds_check_state(("active",), _("paused"))
        self.sudo().write({"state": "paused"})
        return True

    def action_resume(self):
        """Resume a paused autoship; a next date in the past becomes tomorrow (nothing is
        charged retroactively for the dates missed while paused)."""
        self._ds_check_owner()
        self._ds_check_state(("paused",), _("resumed"))
        today = fields.Date.context_today(self)
        for autoship in self.sudo():
            vals = {"state": "active", "failure_count": 0, "retry_date": False}
            if autoship.next_date <= today:
                vals["next_date"] = today + relativedelta(days=1)
            autoship.write(vals)
        return True

    def action_cancel(self):
        """Cancel in one step and send the subscriber a confirmation mail."""
        self._ds_check_owner()
        self._ds_check_state(("active", "paused"), _("cancelled"))
        autoships = self.sudo()
        autoships.write(
            {
                "state": "cancelled",
                "retry_date": False,
                "cancel_date": fields.Date.context_today(self),
            }
        )
        template = self.env.ref(
            "crm_direct_selling.mail_template_ds_autoship_cancelled",
            raise_if_not_found=False,
        )
        if template:
            template.sudo().send_mail_batch(autoships.ids)
        return True

    def action_view_orders(self):
        if not self.env.user.has_group("crm_direct_selling.group_ds_user"):
            raise AccessError(_("Only Direct Selling users open the autoship orders."))
        if len(self) != 1:
            raise UserError(_("Open the orders of one autoship at a time."))
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action["domain"] = [("ds_autoship_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_process_now(self):
        """Back office: run the job now for these autoships if due (same path as the cron)."""
        if not self.env.user.has_group("crm_direct_selling.group_ds_manager"):
            raise AccessError(_("Only Direct Selling managers run the autoship job."))
        today = fields.Date.context_today(self)
        due = self.filtered(
            lambda a: (
                a.state == "active"
                and (a.retry_date or a.next_date) <= today
                and a.next_date <= today
            )
        )
        if not due:
            raise UserError(
                _("None of these autoships is due today (%(today)s).", today=today)
            )
        return self._cron_process_due(today=today, autoships=due)

    # ------------------------------------------------------------------
    # Portal changes (the subscriber's own autoships; checked, then written as sudo)
    # ------------------------------------------------------------------
    @api.model
    def _ds_portal_products(self, product_ids):
        """Sudo products a subscriber may put on an autoship; UserError naming any other."""
        products = self.env["product.product"].sudo().browse(product_ids).exists()
        bad = [
            str(pid)
            for pid in product_ids
            if pid not in products.ids
            or not products.browse(pid).active
            or not products.browse(pid).sale_ok
        ]
        if bad:
            raise UserError(
                _(
                    "These products cannot be ordered on an autoship: %(ids)s.",
                    ids=", ".join(bad),
                )
            )
        return products

    @api.model
    def _ds_check_date(self, date):
        date = fields.Date.to_date(date)
        if not date or date <= fields.Date.context_today(self):
            raise UserError(_("The next order date must be after today."))
        return date

    @api.model
    def _ds_check_quantity(self, quantity):
        try:
            quantity = float(quantity)
        except (TypeError, ValueError):
            raise UserError(
                _("Quantity %(q)s is not a number.", q=str(quantity))
            ) from None
        if quantity <= 0 or quantity > 1000 or quantity != int(quantity):
            raise UserError(
                _(
                    "Quantity %(q)s must be a whole number from 1 to 1000.",
                    q=str(quantity),
                )
            )
        return quantity

    def _ds_check_token(self, token_id, partner):
        token = self.env["payment.token"].sudo().browse(int(token_id or 0)).exists()
        if (
            not token
            or not token.active
            or token.partner_id.commercial_partner_id != partner.commercial_partner_id
        ):
            raise UserError(_("Choose one of your saved payment methods."))
        return token

    @api.model
    def ds_portal_create(
        self,
        lines=None,
        interval_number=1,
        interval_unit="month",
        next_date=None,
        token_id=None,
    ):
        """Create an autoship for the current user. ``lines``: {product_id: quantity}."""
        user = self.env.user
        if not (
            user._is_portal() or user.has_group("crm_direct_selling.group_ds_user")
        ):
            raise AccessError(_("Autoships are set up by customers in their portal."))
        partner = self.env.user.partner_id
        if not lines:
            raise UserError(_("Choose at least one product."))
        qtys = {int(pid): self._ds_check_quantity(q) for pid, q in lines.items()}
        self._ds_portal_products(list(qtys))
        if interval_unit not in _SQL_UNITS:
            raise UserError(_("Choose a frequency."))
        interval_number = int(interval_number or 0)
        if not 1 <= interval_number <= 12:
            raise UserError(_("The frequency must be every 1 to 12 periods."))
        token = self._ds_check_token(token_id, partner)
        autoship = self.sudo().create(
            {
                "partner_id": partner.id,
                "company_id": self.env.company.id,
                "interval_number": interval_number,
                "interval_unit": interval_unit,
                "next_date": self._ds_check_date(next_date),
                "payment_token_id": token.id,
                "line_ids": [
                    Command.create({"product_id": pid, "quantity": q})
                    for pid, q in qtys.items()
                ],
            }
        )
        return autoship.with_env(self.env)

    def ds_portal_update(
        self, quantities=None, add=None, next_date=None, token_id=None
    ):
        """The subscriber's changes: ``quantities`` {line_id: qty} (0 removes the line),
        ``add`` {product_id: qty}, ``next_date``, ``token_id``."""
        self._ds_check_owner()
        if len(self) != 1:
            raise UserError(_("Change one autoship at a time."))
        self._ds_check_state(("active", "paused"), _("changed"))
        autoship = self.sudo()
        commands = []
        for line_id, qty in (quantities or {}).items():
            line = autoship.line_ids.filtered(lambda ln, i=int(line_id): ln.id == i)
            if not line:
                raise AccessError(
                    _(
                        "Line %(id)s is not on autoship %(name)s.",
                        id=line_id,
                        name=autoship.name,
                    )
                )
            if float(qty or 0) == 0:
                commands.append(Command.delete(line.id))
            else:
                commands.append(
                    Command.update(line.id, {"quantity": self._ds_check_quantity(qty)})
                )
        if add:
            qtys = {int(pid): self._ds_check_quantity(q) for pid, q in add.items()}
            self._ds_portal_products(list(qtys))
            for pid, q in qtys.items():
                existing = autoship.line_ids.filtered(
                    lambda ln, p=pid: ln.product_id.id == p
                )
                if existing:
                    commands.append(
                        Command.update(
                            existing[0].id, {"quantity": existing[0].quantity + q}
                        )
                    )
                else:
                    commands.append(Command.create({"product_id": pid, "quantity": q}))
        vals = {}
        if commands:
            vals["line_ids"] = commands
        if next_date:
            vals["next_date"] = self._ds_check_date(next_date)
            vals["retry_date"] = False
        if token_id:
            vals["payment_token_id"] = self._ds_check_token(
                token_id, autoship.partner_id
            ).id
        if vals:
            autoship.write(vals)
            if not autoship.line_ids:
                raise UserError(
                    _(
                        "Autoship %(name)s needs at least one product; cancel it to "
                        "stop it.",
                        name=autoship.name,
                    )
                )
        return True

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------
    @api.model
    def _ds_due_condition(self, today):
        return SQL(
            "a.state = 'active' AND a.next_date <= %(today)s"
            " AND (a.retry_date IS NULL OR a.retry_date <= %(today)s)",
            today=today,
        )

    @api.model
    def _cron_process_due(self, today=None, batch_size=None, autoships=None):
        """Turn every due autoship into a confirmed sale order and a posted invoice paid with
        its saved token. Batches of ``batch_size`` claimed with FOR UPDATE SKIP LOCKED,
        committed one by one in the cron worker (never in tests), progress reported."""
        today = fields.Date.to_date(today) if today else fields.Date.context_today(self)
        batch_size = batch_size or int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_direct_selling.autoship_batch_size", DEFAULT_BATCH_SIZE)
        )
        in_cron = bool(self.env.context.get("cron_id"))
        Autoship = self.sudo().with_context(
            tracking_disable=True,
            mail_notrack=True,
            mail_create_nolog=True,
            ds_charge_log=self.env.context.get("ds_charge_log") or DsChargeLog(),
        )
        self.env.flush_all()
        restrict = SQL("")
        if autoships is not None:
            restrict = SQL(" AND a.id = ANY(%s)", list(autoships.ids))
        remaining = self.env.execute_query(
            SQL(
                "SELECT count(*) FROM ds_autoship a WHERE %s%s",
                self._ds_due_condition(today),
                restrict,
            )
        )[0][0]
        self.env["ir.cron"]._notify_progress(done=0, remaining=remaining)
        done = last_id = 0
        stats = {"done": 0, "failed": 0}
        while True:
            ids = [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        "SELECT a.id FROM ds_autoship a WHERE %s%s AND a.id > %s"
                        " ORDER BY a.id LIMIT %s FOR UPDATE SKIP LOCKED",
                        self._ds_due_condition(today),
                        restrict,
                        last_id,
                        batch_size,
                    )
                )
            ]
            if not ids:
                break
            last_id = ids[-1]
            result = Autoship.browse(ids)._ds_process_batch(today)
            for key in stats:
                stats[key] += result[key]
            done += len(ids)
            remaining = max(remaining - len(ids), 0)
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            if in_cron:
                self.env.cr.commit()  # pylint: disable=invalid-commit
                self.env.invalidate_all()  # keep the worker's cache to one batch
        self._ds_send_reminders(today)
        _logger.info(
            "Autoship job %s: %s orders, %s failed",
            today,
            stats["done"],
            stats["failed"],
        )
        return stats

    def _ds_process_batch(self, today):
        """Process the batch in one savepoint; on an unexpected error, each half again
        (so one broken record never blocks the others)."""
        try:
            with self.env.cr.savepoint():
                return self._ds_generate(today)
        except Exception as error:  # noqa: BLE001
            self.env.invalidate_all()
            log = self.env.context.get("ds_charge_log")
            if log is not None:
                log.error = str(error) or error.__class__.__name__
            if len(self) == 1:
                _logger.exception("Autoship %s failed on %s", self.id, today)
                message = str(error) or error.__class__.__name__
                charge = log.charges.get(self.id) if log is not None else None
                with self.env.cr.savepoint():
                    if charge:
                        # charged, then not booked: never charged again for this date
                        self._ds_record_failures(
                            today,
                            {self: self._ds_unbooked_message(charge, message)},
                            pause=True,
                        )
                    else:
                        self._ds_record_failures(today, {self: message})
                return {"done": 0, "failed": 1}
            _logger.warning(
                "Autoship batch of %s failed on %s (%s): processing it in halves",
                len(self),
                today,
                error,
            )
        # halve until the broken autoships are alone: the others still get their order
        half = len(self) // 2
        stats = {"done": 0, "failed": 0}
        for part in (self[:half], self[half:]):
            result = part._ds_process_batch(today)
            for key in stats:
                stats[key] += result[key]
        return stats

    def _ds_claim_runs(self):
        """Insert this batch's ``pending`` runs (autoship x next_date) before anything is
        charged. The partial unique index refuses a second pending/done/skipped run for one
        date, so an autoship whose date was already ordered (or is being ordered by another
        worker) is not returned: {autoship id: run id} of the claimed ones."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                INSERT INTO ds_autoship_run
                       (autoship_id, date, state, create_uid, create_date, write_uid, write_date)
                SELECT a.id, a.next_date, 'pending', %(uid)s, now() AT TIME ZONE 'UTC',
                       %(uid)s, now() AT TIME ZONE 'UTC'
                  FROM ds_autoship a
                 WHERE a.id = ANY(%(ids)s)
                ON CONFLICT (autoship_id, date) WHERE state IN ('pending', 'done', 'skipped')
                DO NOTHING
                RETURNING autoship_id, id
                """,
                uid=self.env.uid,
                ids=self.ids,
            )
        )
        return dict(rows)

    def _ds_set_runs(self, values):
        """Set-based update of runs: ``values`` [(run id, state, order, invoice, tx, message)]."""
        if not values:
            return
        cols = list(zip(*values, strict=True))
        self.env.cr.execute(
            SQL(
                """
                UPDATE ds_autoship_run r
                   SET state = v.state, order_id = v.order_id, invoice_id = v.invoice_id,
                       transaction_id = v.tx_id, message = v.message,
                       write_date = now() AT TIME ZONE 'UTC'
                  FROM unnest(%s::int[], %s::varchar[], %s::int[], %s::int[], %s::int[],
                              %s::text[]) AS v(id, state, order_id, invoice_id, tx_id, message)
                 WHERE r.id = v.id
                """,
                *[list(c) for c in cols],
            )
        )
        self.env["ds.autoship.run"].invalidate_model()

    def _ds_orderable_lines(self, failures):
        """({autoship: lines to order}, {autoship: products left out}) of the autoships that
        can be ordered; the others get their reason in ``failures`` (expired token, nothing
        left to sell, out of stock)."""
        skipped_lines = {}  # autoship -> archived products left out
        lines_by_autoship = {}
        for autoship in self:
            token = autoship.payment_token_id
            if not token or not token.active:
                failures[autoship] = _(
                    "The saved payment method has expired or was removed: choose a "
                    "new one."
                )
                continue
            if (
                token.partner_id.commercial_partner_id
                != autoship.partner_id.commercial_partner_id
            ):
                failures[autoship] = _(
                    "The saved payment method belongs to another customer."
                )
                continue
            usable = autoship.line_ids.filtered(
                lambda ln: (
                    ln.product_id.active and ln.product_id.sale_ok and ln.quantity > 0
                )
            )
            gone = autoship.line_ids - usable
            if gone:
                skipped_lines[autoship] = gone.product_id
            if not usable:
                failures[autoship] = _(
                    "None of the products of this autoship can be ordered any more."
                )
                continue
            lines_by_autoship[autoship] = usable
        # stock: storable products must be free in the quantity of the whole batch
        all_lines = self.env["ds.autoship.line"].concat(*lines_by_autoship.values())
        storable = all_lines.product_id.filtered("is_storable")
        if storable:
            needed = {}
            for line in all_lines.filtered(lambda ln: ln.product_id.is_storable):
                needed[line.product_id] = (
                    needed.get(line.product_id, 0.0) + line.quantity
                )
            # stock moves of this very job (earlier batches) change it: read it fresh
            storable.invalidate_recordset(["free_qty"])
            free = {p: p.free_qty for p in storable.with_company(self.env.company)}
            short = {p for p, qty in needed.items() if free[p] < qty}
            for autoship, lines in list(lines_by_autoship.items()):
                missing = lines.product_id.filtered(lambda p: p in short)
                if missing:
                    failures[autoship] = _(
                        "Out of stock: %(products)s.",
                        products=", ".join(missing.mapped("display_name")),
                    )
                    del lines_by_autoship[autoship]
        return lines_by_autoship, skipped_lines

    def _ds_generate(self, today):
        """Order, charge, invoice and book the batch. The notes Odoo writes on each order,
        picking and invoice on the way are created together at the end (mail_thread.py)."""
        buffer = DsMessageBuffer()
        result = self.with_context(
            ds_message_buffer=buffer, ds_autoship_job=True
        )._ds_generate_orders(today)
        buffer.flush(self.env)
        return result

    def _ds_generate_orders(self, today):
        claimed = self._ds_claim_runs()
        already = self.filtered(lambda a: a.id not in claimed)
        if already:
            # this date has an order (or a skip) already: never again; move on
            _logger.warning(
                "Autoships %s: date already ordered or skipped, not charged again",
                already.ids,
            )
            for autoship in already:
                autoship.next_date = autoship._ds_next_after(autoship.next_date, today)
        self -= already
        failures = {}  # autoship -> message
        due_date = {autoship: autoship.next_date for autoship in self}
        lines_by_autoship, skipped_lines = self._ds_orderable_lines(failures)
        ready = list(lines_by_autoship)
        SaleOrder = self.env["sale.order"]
        orders = SaleOrder.create(
            [
                {
                    "partner_id": autoship.partner_id.id,
                    "company_id": autoship.company_id.id,
                    "ds_autoship_id": autoship.id,
                    "origin": autoship.name,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": line.product_id.id,
                                "product_uom_qty": line.quantity,
                            }
                        )
                        for line in lines_by_autoship[autoship]
                    ],
                }
                for autoship in ready
            ]
        )
        order_of = dict(zip(ready, orders, strict=True))
        Tx = self.env["payment.transaction"]
        # one create per transaction: payment's _check_token_is_active constraint reads
        # token_id.active on the whole batch (a singleton) and fails on a multi-token create
        txs = Tx.concat(
            *(
                Tx.create(
                    {
                        "provider_id": autoship.payment_token_id.provider_id.id,
                        "payment_method_id": autoship.payment_token_id.payment_method_id.id,
                        "reference": order.name,
                        "amount": order.amount_total,
                        "currency_id": order.currency_id.id,
                        "partner_id": order.partner_id.id,
                        "token_id": autoship.payment_token_id.id,
                        "operation": "offline",
                        "sale_order_ids": [Command.set(order.ids)],
                    }
                )
                for autoship, order in order_of.items()
            )
        )
        tx_of = dict(zip(ready, txs, strict=True))
        log = self.env.context.get("ds_charge_log")
        for autoship, tx in tx_of.items():
            charge = log.charges.get(autoship.id) if log is not None else None
            if charge:
                # charged by an attempt of this run that was rolled back afterwards: the
                # charge is booked as it was answered, the card is not charged again
                tx._ds_take_over_charge(charge)
                continue
            try:
                with self.env.cr.savepoint():
                    tx._send_payment_request()
                if log is not None and tx.state == "done":
                    log.add(autoship, tx)
            except UserError as error:
                failures[autoship] = _(
                    "The payment could not be sent: %(error)s", error=str(error)
                )
                continue
            if tx.state != "done":
                failures[autoship] = _(
                    "The payment was declined (%(state)s): %(message)s",
                    state=tx.state,
                    message=tx.state_message or "",
                )
        paid = [a for a in ready if a not in failures]
        declined = [a for a in ready if a in failures]
        paid_orders = SaleOrder.concat(*(order_of[a] for a in paid))
        if declined:
            SaleOrder.concat(*(order_of[a] for a in declined))._action_cancel()
        invoices = self.env["account.move"]
        if paid_orders:
            paid_orders.action_confirm()
            paid_orders._force_lines_to_invoice_policy_order()
            invoices = paid_orders._create_invoices(grouped=True, final=True)
            invoices.action_post()
            for autoship in paid:
                tx_of[autoship].invoice_ids = [
                    Command.set(order_of[autoship].invoice_ids.ids)
                ]
            paid_txs = Tx.concat(*(tx_of[a] for a in paid))
            self._ds_create_payments(paid_txs)
            paid_txs.is_post_processed = True
        self._ds_set_runs(
            [
                (
                    claimed[autoship.id],
                    "done",
                    order_of[autoship].id,
                    order_of[autoship].invoice_ids[:1].id,
                    tx_of[autoship].id,
                    None,
                )
                for autoship in paid
            ]
        )
        if paid:
            self._ds_advance(self.browse([a.id for a in paid]), today, order_of)
        if failures:
            self._ds_record_failures(
                today,
                failures,
                orders={a: order_of.get(a) for a in failures},
                txs={a: tx_of.get(a) for a in failures},
                runs={a: claimed[a.id] for a in failures},
            )
        for autoship, products in skipped_lines.items():
            if autoship in failures:
                continue
            autoship.message_post(
                body=_(
                    "Left out of the order of %(date)s because they are no longer sold: "
                    "%(products)s.",
                    date=due_date[autoship],
                    products=", ".join(products.mapped("display_name")),
                ),
                partner_ids=autoship.partner_id.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        return {"done": len(paid), "failed": len(failures) + len(already)}

    @api.model
    def _ds_create_payments(self, txs):
        """Account for the batch's done transactions: ONE posted payment (one journal entry)
        per provider journal and currency instead of Odoo's one payment and one entry per
        transaction (``_create_payment``). The entry debits the provider's outstanding
        receipts account with the batch total and credits each invoice's receivable with its
        transaction's amount (one line per transaction, named by its reference); each
        invoice's receivable line is then reconciled with its credit line in one
        reconciliation plan. Each transaction points to the batch payment (``payment_id``),
        so Odoo's post-processing never creates a second payment for it.

        Invoices with an early-payment discount (Odoo's discount lines), a transaction on
        invoices of several receivable accounts or of another currency than the
        transaction's, and negative amounts go through Odoo's own ``_create_payment``."""
        own = {}  # (provider, currency) -> [(tx, receivable lines)]
        for tx in txs:
            invoices = tx.invoice_ids.filtered(lambda m: m.state == "posted")
            receivable = invoices.line_ids.filtered(
                lambda line: (
                    line.account_id.account_type == "asset_receivable"
                    and not line.reconciled
                )
            )
            if (
                tx.amount <= 0
                or not receivable
                or len(receivable.account_id) != 1
                or invoices.currency_id != tx.currency_id
                or invoices.invoice_payment_term_id.early_discount
            ):
                tx.with_company(tx.company_id)._create_payment()
                continue
            own.setdefault((tx.provider_id, tx.currency_id), []).append(
                (tx, receivable)
            )
        Payment = self.env["account.payment"]
        plan = []
        for (provider, currency), rows in own.items():
            payment, credit_of = self._ds_batch_payment(provider, currency, rows)
            Tx = self.env["payment.transaction"]
            Tx.concat(*(tx for tx, _receivable in rows)).payment_id = payment
            Payment |= payment
            for tx, receivable in rows:
                plan.append(receivable | credit_of[tx.reference])
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        return Payment

    @api.model
    def _ds_batch_payment(self, provider, currency, rows):
        """The posted batch payment of ``rows`` [(tx, receivable lines)] of one provider and
        currency: (payment, {tx reference: its credit line})."""
        journal = provider.journal_id
        company = provider.company_id
        if not journal:
            raise UserError(
                _(
                    "The payment provider %(provider)s has no journal: set one to book "
                    "autoship payments.",
                    provider=provider.display_name,
                )
            )
        method_line = journal.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == provider
        )[:1]
        Payment = self.env["account.payment"].with_company(company)
        probe = Payment.new(
            {
                "journal_id": journal.id,
                "company_id": company.id,
                "payment_type": "inbound",
                "partner_type": "customer",
                "payment_method_line_id": method_line.id,
            }
        )
        outstanding = probe.outstanding_account_id or probe._get_outstanding_account(
            "inbound"
        )
        date = fields.Date.context_today(self)
        company_currency = company.currency_id
        credits = []
        for tx, receivable in rows:
            amount = currency.round(tx.amount)
            if currency == company_currency:
                balance = amount
            elif currency.compare_amounts(
                -sum(receivable.mapped("amount_residual_currency")), -amount
            ):
                balance = currency._convert(amount, company_currency, company, date)
            else:
                # the whole residual: no exchange difference on a full payment
                balance = sum(receivable.mapped("amount_residual"))
            credits.append(
                {
                    "name": tx.reference,
                    "account_id": receivable.account_id.id,
                    "partner_id": receivable.partner_id[:1].id
                    or tx.partner_id.commercial_partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": -amount,
                    "balance": -balance,
                    "date_maturity": date,
                }
            )
        total = currency.round(sum(-c["amount_currency"] for c in credits))
        memo = _(
            "Autoship payments of %(date)s: %(count)s transactions (%(provider)s)",
            date=date,
            count=len(rows),
            provider=provider.name,
        )
        debit = {
            "name": memo,
            "account_id": outstanding.id,
            "partner_id": False,
            "currency_id": currency.id,
            "amount_currency": total,
            "balance": company_currency.round(sum(-c["balance"] for c in credits)),
            "date_maturity": date,
        }
        payment = Payment.create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": False,
                "amount": total,
                "currency_id": currency.id,
                "date": date,
                "journal_id": journal.id,
                "company_id": company.id,
                "payment_method_line_id": method_line.id,
                "memo": memo,
                "invoice_ids": [
                    Command.set(list({m.id for _tx, rec in rows for m in rec.move_id}))
                ],
                "line_ids": [Command.create(debit)]
                + [Command.create(c) for c in credits],
            }
        )
        payment.action_post()
        credit_of = {
            line.name: line
            for line in payment.move_id.line_ids
            if line.account_id.account_type == "asset_receivable"
        }
        if len(credit_of) != len(rows):
            raise UserError(
                _(
                    "The autoship batch payment %(payment)s does not have one line per "
                    "transaction.",
                    payment=payment.display_name,
                )
            )
        return payment, credit_of

    def _ds_advance(self, autoships, today, order_of):
        """Set-based: next_date one interval on (later than today), failures reset."""
        self.env.flush_all()
        last = {a.id: order_of[a].id for a in order_of if a.id in autoships.ids}
        self.env.cr.execute(
            SQL(
                """
                UPDATE ds_autoship a
                   SET next_date = GREATEST(
                           (a.next_date + make_interval(
                               days => CASE a.interval_unit WHEN 'day' THEN a.interval_number
                                       WHEN 'week' THEN 7 * a.interval_number ELSE 0 END,
                               months => CASE a.interval_unit WHEN 'month' THEN a.interval_number
                                       ELSE 0 END,
                               years => CASE a.interval_unit WHEN 'year' THEN a.interval_number
                                       ELSE 0 END))::date,
                           %(tomorrow)s::date),
                       failure_count = 0,
                       retry_date = NULL,
                       last_error = NULL,
                       last_order_id = v.order_id,
                       write_date = now() AT TIME ZONE 'UTC',
                       write_uid = %(uid)s
                  FROM unnest(%(ids)s::int[], %(orders)s::int[]) AS v(id, order_id)
                 WHERE a.id = v.id
                """,
                tomorrow=today + relativedelta(days=1),
                uid=self.env.uid,
                ids=list(last),
                orders=list(last.values()),
            )
        )
        autoships.invalidate_recordset(
            ["next_date", "failure_count", "retry_date", "last_error", "last_order_id"]
        )

    def _ds_unbooked_message(self, charge, error):
        reference, provider_reference, _state, amount, currency_id = charge
        currency = self.env["res.currency"].browse(currency_id)
        return _(
            "The card was charged %(amount)s %(currency)s for the order of %(date)s "
            "(payment %(reference)s, provider reference %(provider)s), but the order could "
            "not be booked: %(error)s. It is not charged again: book the order or refund "
            "the payment, then resume the autoship.",
            amount=currency.round(amount),
            currency=currency.name,
            date=self.next_date,
            reference=reference,
            provider=provider_reference or "-",
            error=error,
        )

    def _ds_record_failures(
        self, today, failures, orders=None, txs=None, runs=None, pause=False
    ):
        """Count a failed attempt; retry after the company's delay; after the company's
        maximum (or at once with ``pause``: a charge that could not be booked must never
        be retried), pause the autoship and tell the subscriber and their sponsor."""
        orders = orders or {}
        txs = txs or {}
        runs = runs or {}
        self._ds_set_runs(
            [
                (
                    runs[autoship],
                    "failed",
                    orders.get(autoship) and orders[autoship].id,
                    None,
                    txs.get(autoship) and txs[autoship].id,
                    str(message),
                )
                for autoship, message in failures.items()
                if autoship in runs
            ]
        )
        self.env["ds.autoship.run"].create(
            [
                {
                    "autoship_id": autoship.id,
                    "date": autoship.next_date,
                    "state": "failed",
                    "message": message,
                }
                for autoship, message in failures.items()
                if autoship not in runs
            ]
        )
        for autoship, message in failures.items():
            company = autoship.company_id
            count = autoship.failure_count + 1
            vals = {
                "failure_count": count,
                "last_error": message,
                "retry_date": today
                + relativedelta(days=company.ds_autoship_retry_days or 1),
            }
            if pause or count >= (company.ds_autoship_max_failures or 1):
                vals.update(state="paused", retry_date=False)
            autoship.write(vals)
            if vals.get("state") == "paused":
                autoship._ds_notify_paused(message)

    def _ds_sponsor_partner(self):
        """The subscriber's sponsor (a distributor's sponsor, a customer's referrer)."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        distributor = (
            self.env["ds.distributor"]
            .sudo()
            .search([("partner_id", "=", partner.id)], limit=1)
        )
        if distributor:
            return distributor.sponsor_id.partner_id
        return partner.ds_referrer_id.partner_id

    def _ds_notify_paused(self, message):
        self.ensure_one()
        sponsor = self._ds_sponsor_partner()
        body = Markup("<p>%s</p><p>%s</p>") % (
            _(
                "Autoship %(name)s of %(partner)s was paused after %(count)s failed "
                "attempts for the order of %(date)s.",
                name=self.name,
                partner=self.partner_id.display_name,
                count=self.failure_count,
                date=self.next_date,
            ),
            message,
        )
        self.message_post(
            body=body,
            partner_ids=(self.partner_id | sponsor).ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        sponsor_user = sponsor.user_ids.filtered(lambda u: not u.share)[:1]
        responsible = sponsor_user or self.company_id.ds_responsible_user_id
        if responsible:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Autoship paused: payment or stock failed"),
                note=message,
                user_id=responsible.id,
            )

    @api.model
    def _ds_send_reminders(self, today):
        """Reminder mail ``ds_autoship_reminder_days`` before the next order (once per date)."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT a.id FROM ds_autoship a
                  JOIN res_company c ON c.id = a.company_id
                 WHERE a.state = 'active' AND c.ds_autoship_reminder_days > 0
                   AND a.next_date = %(today)s::date + c.ds_autoship_reminder_days
                   AND a.reminder_date IS DISTINCT FROM a.next_date
                """,
                today=today,
            )
        )
        template = self.env.ref(
            "crm_direct_selling.mail_template_ds_autoship_reminder",
            raise_if_not_found=False,
        )
        ids = [r[0] for r in rows]
        if not ids or not template:
            return 0
        for batch in split_every(DEFAULT_BATCH_SIZE, ids, list):
            template.sudo().send_mail_batch(batch)
        self.env.cr.execute(
            SQL(
                "UPDATE ds_autoship SET reminder_date = next_date WHERE id = ANY(%s)",
                ids,
            )
        )
        self.browse(ids).invalidate_recordset(["reminder_date"])
        return len(ids)


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _ds_take_over_charge(self, charge):
        """Book on this transaction (of the same autoship order, made again) a charge the
        provider confirmed in an attempt of the job rolled back since (DsChargeLog): its
        provider reference, done, without a new payment request."""
        self.ensure_one()
        _reference, provider_reference, _state, _amount, _currency = charge
        self.provider_reference = provider_reference
        self._set_done(
            state_message=_("Charged by an earlier attempt of the autoship job.")
        )


class DsAutoshipLine(models.Model):
    _name = "ds.autoship.line"
    _description = "Autoship Product"

    autoship_id = fields.Many2one(
        "ds.autoship", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one(
        "product.product",
        required=True,
        domain=[("sale_ok", "=", True)],
        ondelete="restrict",
        context={"active_test": False},
    )
    product_active = fields.Boolean(related="product_id.active", string="Still Sold")
    quantity = fields.Float(
        default=1.0, required=True, digits="Product Unit of Measure"
    )
    pv = fields.Float(string="PV", compute="_compute_pv", digits=(16, 2))

    _sql_constraints = [
        (
            "quantity_positive",
            "CHECK(quantity > 0)",
            "The quantity of an autoship product must be positive.",
        ),
    ]

    @api.depends("product_id", "quantity")
    def _compute_pv(self):
        for line in self:
            line.pv = line.quantity * line.product_id.ds_pv


class DsAutoshipRun(models.Model):
    """One attempt of the job for an autoship's scheduled date. ``pending`` (claimed before
    the charge), ``done`` and ``skipped`` are unique per autoship x date: the job can never
    charge one date twice."""

    _name = "ds.autoship.run"
    _description = "Autoship Run"
    _order = "id desc"

    autoship_id = fields.Many2one(
        "ds.autoship", required=True, ondelete="cascade", index=True
    )
    date = fields.Date(string="Scheduled Date", required=True)
    state = fields.Selection(
        [
            ("pending", "In Progress"),
            ("done", "Ordered"),
            ("skipped", "Skipped"),
            ("failed", "Failed"),
        ],
        required=True,
    )
    order_id = fields.Many2one("sale.order", ondelete="set null")
    invoice_id = fields.Many2one("account.move", ondelete="set null")
    transaction_id = fields.Many2one("payment.transaction", ondelete="set null")
    message = fields.Text()

    def init(self):
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS ds_autoship_run_once_per_date"
            " ON ds_autoship_run (autoship_id, date)"
            " WHERE state IN ('pending', 'done', 'skipped')"
        )


class SaleOrder(models.Model):
    _inherit = "sale.order"

    ds_autoship_id = fields.Many2one(
        "ds.autoship",
        string="Autoship",
        index="btree_not_null",
        readonly=True,
        copy=False,
    )

    def _prepare_invoice(self):
        """An autoship order's invoice is dated when it is created (the day posting would
        give it): the batch's invoices are then posted without setting each one's date
        (one recomputation per invoice in ``_post``)."""
        vals = super()._prepare_invoice()
        if self.ds_autoship_id and self.env.context.get("ds_autoship_job"):
            vals.setdefault("invoice_date", fields.Date.context_today(self))
        return vals


class ResCompany(models.Model):
    _inherit = "res.company"

    ds_autoship_reminder_days = fields.Integer(
        string="Autoship Reminder (days before)",
        default=3,
        help="A reminder mail is sent this many days before each autoship order (0: none).",
    )
    ds_autoship_retry_days = fields.Integer(
        string="Autoship Retry Delay (days)", default=2
    )
    ds_autoship_max_failures = fields.Integer(
        string="Autoship Attempts Before Pause",
        default=3,
        help="After this many failed attempts for one date the autoship is paused and the "
        "subscriber and their sponsor are told.",
    )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ds_autoship_reminder_days = fields.Integer(
        related="company_id.ds_autoship_reminder_days", readonly=False
    )
    ds_autoship_retry_days = fields.Integer(
        related="company_id.ds_autoship_retry_days", readonly=False
    )
    ds_autoship_max_failures = fields.Integer(
        related="company_id.ds_autoship_max_failures", readonly=False
    )
