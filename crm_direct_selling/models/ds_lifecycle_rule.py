import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from lxml import html
from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, split_every
from odoo.tools.safe_eval import safe_eval

from .ds_access import ds_check_manager, ds_check_user

_logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
DEFAULT_CATCHUP_DAYS = 1
RANK_WINDOW_DAYS = 60

TRIGGERS = [
    ("birthday", "Customer birthday"),
    ("purchase_anniversary", "First-purchase anniversary"),
    ("enrollment_anniversary", "Distributor enrollment anniversary"),
    ("welcome", "Welcome series (days after enrollment)"),
    ("rank_advancement", "Rank advancement"),
    ("at_risk", "Inactive frontline distributor (activity for the upline)"),
    ("period_close_reminder", "Reminder before period close (close to next rank)"),
]
MAIL_TRIGGERS = {t for t, _label in TRIGGERS if t != "at_risk"}


def next_occurrence_sql(base, ref):
    """SQL expression: first yearly recurrence of date ``base`` on or after
    date ``ref``. PostgreSQL clamps ``date + interval 'n years'`` to the end
    of the month, so 29 February falls on 28 February in non-leap years."""
    years = SQL("(EXTRACT(YEAR FROM %s)::int - EXTRACT(YEAR FROM %s)::int)", ref, base)
    this_year = SQL("(%s + make_interval(years => %s))::date", base, years)
    next_year = SQL("(%s + make_interval(years => %s + 1))::date", base, years)
    return SQL(
        "CASE WHEN %(base)s IS NULL THEN NULL WHEN %(this)s >= %(ref)s THEN %(this)s ELSE %(next)s END",
        base=base,
        this=this_year,
        ref=ref,
        next=next_year,
    )


class DsLifecycleRule(models.Model):
    """A lifecycle automation: an occasion (trigger), an audience filter and
    a mail template (or an activity for ``at_risk``). The daily cron
    ``_cron_lifecycle`` finds due occasions set-based in SQL, logs them in
    ``ds.lifecycle.log`` (unique per rule, partner and occasion) and queues
    the messages in batches."""

    _name = "ds.lifecycle.rule"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Lifecycle Automation Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    trigger = fields.Selection(TRIGGERS, required=True, default="birthday")
    template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "res.partner")],
        help="Rendered on the recipient (res.partner).",
    )
    domain = fields.Char(
        string="Audience Filter",
        default="[]",
        help="Extra filter on the recipients (contacts), as an Odoo domain.",
    )
    delay_days = fields.Integer(
        string="Days",
        help="Welcome series: days after enrollment (0, 7, 30...). "
        "Period reminder: days before the period ends.",
    )
    inactive_periods = fields.Integer(
        default=2, help="At risk: consecutive closed periods without activity."
    )
    close_to_rank_pct = fields.Float(
        aggregator=None,
        string="Close to Next Rank (%)",
        default=80.0,
        help="Period reminder: a distributor is close when their PV and GV reach this "
        "percentage of the next rank's requirements without meeting them.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        default=lambda self: self.env.ref("mail.mail_activity_data_todo", False),
    )
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        domain=[("share", "=", False)],
        help="At risk: receives the alerts of distributors whose sponsor has no internal "
        "user (default: the responsible in Settings).",
    )
    log_count = fields.Integer(compute="_compute_log_count", string="Sent")

    _sql_constraints = [
        ("delay_days_positive", "CHECK(delay_days >= 0)", "Days cannot be negative."),
        (
            "inactive_periods_positive",
            "CHECK(inactive_periods >= 0)",
            "Periods cannot be negative.",
        ),
    ]

    def _compute_log_count(self):
        groups = self.env["ds.lifecycle.log"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]
        )
        counts = {rule.id: count for rule, count in groups}
        for rule in self:
            rule.log_count = counts.get(rule.id, 0)

    @api.constrains("domain")
    def _check_domain(self):
        for rule in self:
            try:
                domain = safe_eval(rule.domain or "[]")
                self.env["res.partner"]._search(domain)
            except Exception as exc:
                raise ValidationError(
                    _(
                        "Rule %(rule)s: invalid audience filter: %(error)s",
                        rule=rule.name,
                        error=exc,
                    )
                ) from exc

    @api.constrains("trigger", "template_id", "inactive_periods")
    def _check_trigger(self):
        for rule in self:
            if rule.trigger in MAIL_TRIGGERS and not rule.template_id:
                raise ValidationError(_("Rule %s needs an email template.", rule.name))
            if rule.trigger == "at_risk" and rule.inactive_periods < 1:
                raise ValidationError(
                    _("Rule %s: at least one inactive period.", rule.name)
                )

    def action_view_logs(self):
        ds_check_user(self.env, _("open the messages sent by lifecycle rules"), self)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Sent"),
            "res_model": "ds.lifecycle.log",
            "view_mode": "list,form",
            "domain": [("rule_id", "=", self.id)],
        }

    def action_run_now(self):
        ds_check_manager(self.env, _("run lifecycle rules"), self)
        self.env["ds.lifecycle.rule"]._cron_lifecycle(rules=self)
        return True

    # ------------------------------------------------------------------
    # Next occurrences (set-based)
    # ------------------------------------------------------------------
    @api.model
    def _get_catchup_days(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "crm_direct_selling.lifecycle_catchup_days", DEFAULT_CATCHUP_DAYS
            )
        )
        try:
            return max(int(value), 0)
        except (TypeError, ValueError):
            return DEFAULT_CATCHUP_DAYS

    @api.model
    def _roll_next_occurrences(self, today):
        """Daily: fill first-purchase dates and roll the stored next birthday /
        purchase / enrollment anniversaries forward, set-based. The stored date
        is the first occurrence on or after ``today - catch-up days``, so a
        missed cron day is caught up the next day (the log prevents double
        sending). Only stale rows (empty, or before that date) are computed and
        written; ORM edits of the base dates recompute at once (see the write
        overrides), raw SQL edits must clear the stored next date."""
        ref = today - timedelta(days=self._get_catchup_days())
        self.env["res.partner"].flush_model()
        self.env["ds.distributor"].flush_model()
        self._fill_first_purchase_dates()
        self._roll_partner_occurrences(ref)
        self._roll_enrollment_anniversaries(ref)
        return ref

    @api.model
    def _lifecycle_ref_date(self):
        today = fields.Date.context_today(self)
        return today - timedelta(days=self._get_catchup_days())

    @api.model
    def _fill_first_purchase_dates(self):
        """Earliest posted customer invoice of each commercial partner; a new
        or earlier first purchase clears the next anniversary (recomputed)."""
        self.env["account.move"].flush_model(
            ["move_type", "state", "invoice_date", "commercial_partner_id"]
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET ds_first_purchase_date = m.first_date,
                       ds_next_purchase_anniversary = NULL
                  FROM (SELECT commercial_partner_id AS partner_id, MIN(invoice_date) AS first_date
                          FROM account_move
                         WHERE move_type = 'out_invoice' AND state = 'posted'
                           AND invoice_date IS NOT NULL
                      GROUP BY commercial_partner_id) m
                 WHERE p.id = m.partner_id
                   AND (p.ds_first_purchase_date IS NULL OR p.ds_first_purchase_date > m.first_date)
                """
            )
        )
        self.env["res.partner"].invalidate_model(
            ["ds_first_purchase_date", "ds_next_purchase_anniversary"]
        )

    @api.model
    def _roll_partner_occurrences(self, ref, partner_ids=None):
        """Next birthday and next first-purchase anniversary. With
        ``partner_ids``: recompute those partners; else only the stale rows."""
        self.env["res.partner"].flush_model(
            [
                "ds_birthday",
                "ds_next_birthday",
                "ds_first_purchase_date",
                "ds_next_purchase_anniversary",
            ]
        )
        specs = (
            ("ds_birthday", "ds_next_birthday", SQL("%s::date", ref)),
            # anniversaries start one year after the event itself
            (
                "ds_first_purchase_date",
                "ds_next_purchase_anniversary",
                SQL("GREATEST(%s::date, p.ds_first_purchase_date + 1)", ref),
            ),
        )
        for base_name, next_name, ref_sql in specs:
            base, nxt = SQL.identifier("p", base_name), SQL.identifier("p", next_name)
            expr = next_occurrence_sql(base, ref_sql)
            if partner_ids is not None:
                scope = SQL(
                    "p.id = ANY(%s) AND %s IS DISTINCT FROM %s",
                    list(partner_ids),
                    nxt,
                    expr,
                )
            else:
                scope = SQL(
                    "((%(base)s IS NOT NULL AND (%(nxt)s IS NULL OR %(nxt)s < %(ref)s))"
                    " OR (%(base)s IS NULL AND %(nxt)s IS NOT NULL))",
                    base=base,
                    nxt=nxt,
                    ref=ref,
                )
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner p SET %s = %s WHERE %s",
                    SQL.identifier(next_name),
                    expr,
                    scope,
                )
            )
        self.env["res.partner"].invalidate_model(
            ["ds_next_birthday", "ds_next_purchase_anniversary"]
        )

    @api.model
    def _roll_enrollment_anniversaries(self, ref, distributor_ids=None):
        self.env["ds.distributor"].flush_model(
            ["enrollment_date", "ds_next_enrollment_anniversary"]
        )
        expr = next_occurrence_sql(
            SQL("d.enrollment_date"),
            SQL("GREATEST(%s::date, d.enrollment_date + 1)", ref),
        )
        if distributor_ids is not None:
            scope = SQL(
                "d.id = ANY(%s) AND d.ds_next_enrollment_anniversary IS DISTINCT FROM %s",
                list(distributor_ids),
                expr,
            )
        else:
            scope = SQL(
                "((d.enrollment_date IS NOT NULL AND (d.ds_next_enrollment_anniversary IS NULL"
                " OR d.ds_next_enrollment_anniversary < %s))"
                " OR (d.enrollment_date IS NULL AND d.ds_next_enrollment_anniversary IS NOT NULL))",
                ref,
            )
        self.env.cr.execute(
            SQL(
                "UPDATE ds_distributor d SET ds_next_enrollment_anniversary = %s WHERE %s",
                expr,
                scope,
            )
        )
        self.env["ds.distributor"].invalidate_model(["ds_next_enrollment_anniversary"])

    # ------------------------------------------------------------------
    # Due occasions (set-based)
    # ------------------------------------------------------------------
    def _audience_sql(self):
        """Conditions on alias ``p`` (res_partner) shared by mail rules:
        audience filter, opt-out, blacklist, an email address."""
        self.ensure_one()
        conditions = [
            SQL("p.active"),
            SQL("NOT COALESCE(p.ds_lifecycle_opt_out, FALSE)"),
            SQL("p.email_normalized IS NOT NULL"),
            SQL(
                "NOT EXISTS (SELECT 1 FROM mail_blacklist bl WHERE bl.active AND bl.email = p.email_normalized)"
            ),
        ]
        domain = safe_eval(self.domain or "[]")
        if domain:
            query = (
                self.env["res.partner"].with_context(active_test=False)._search(domain)
            )
            conditions.append(SQL("p.id IN %s", query.subselect()))
        return SQL(" AND ").join(conditions)

    def _get_due(self, today, ref):
        """Rows (partner_id, occasion_key, occasion_date, distributor_id)
        due for this rule today and not logged yet."""
        self.ensure_one()
        method = getattr(self, f"_due_sql_{self.trigger}")
        query = method(today, ref)
        if query is None:
            return []
        return self.env.execute_query(
            SQL(
                """
                SELECT due.partner_id, due.occasion_key, due.occasion_date, due.distributor_id
                  FROM (%(query)s) due
                 WHERE NOT EXISTS (SELECT 1 FROM ds_lifecycle_log l
                                    WHERE l.rule_id = %(rule_id)s
                                      AND l.partner_id = due.partner_id
                                      AND l.occasion_key = due.occasion_key)
              ORDER BY due.partner_id
                """,
                query=query,
                rule_id=self.id,
            )
        )

    def _partner_company_sql(self):
        return SQL("(p.company_id IS NULL OR p.company_id = %s)", self.company_id.id)

    def _due_sql_partner_date(self, column, today, ref):
        """Partners whose stored next-occurrence date ``column`` falls in [ref, today]."""
        date = SQL.identifier("p", column)
        return SQL(
            """
            SELECT p.id AS partner_id, %(date)s::text AS occasion_key,
                   %(date)s AS occasion_date, NULL::int AS distributor_id
              FROM res_partner p
             WHERE %(date)s BETWEEN %(ref)s AND %(today)s AND %(company)s AND %(audience)s
            """,
            date=date,
            ref=ref,
            today=today,
            company=self._partner_company_sql(),
            audience=self._audience_sql(),
        )

    def _due_sql_birthday(self, today, ref):
        return self._due_sql_partner_date("ds_next_birthday", today, ref)

    def _due_sql_purchase_anniversary(self, today, ref):
        return self._due_sql_partner_date("ds_next_purchase_anniversary", today, ref)

    def _due_sql_enrollment_anniversary(self, today, ref):
        return SQL(
            """
            SELECT p.id AS partner_id, d.ds_next_enrollment_anniversary::text AS occasion_key,
                   d.ds_next_enrollment_anniversary AS occasion_date, d.id AS distributor_id
              FROM ds_distributor d
              JOIN res_partner p ON p.id = d.partner_id
             WHERE d.ds_next_enrollment_anniversary BETWEEN %s AND %s
               AND d.state = 'active' AND d.company_id = %s AND %s
            """,
            ref,
            today,
            self.company_id.id,
            self._audience_sql(),
        )

    def _due_sql_welcome(self, today, ref):
        delay = self.delay_days or 0
        return SQL(
            """
            SELECT p.id AS partner_id, 'welcome' AS occasion_key,
                   d.enrollment_date + %s AS occasion_date, d.id AS distributor_id
              FROM ds_distributor d
              JOIN res_partner p ON p.id = d.partner_id
             WHERE d.enrollment_date BETWEEN %s AND %s
               AND d.state = 'active' AND d.company_id = %s AND %s
            """,
            delay,
            ref - timedelta(days=delay),
            today - timedelta(days=delay),
            self.company_id.id,
            self._audience_sql(),
        )

    def _due_sql_rank_advancement(self, today, ref):
        return SQL(
            """
            SELECT DISTINCT ON (p.id, v.paid_rank_id)
                   p.id AS partner_id, 'rank-' || v.paid_rank_id AS occasion_key,
                   per.date_to AS occasion_date, d.id AS distributor_id
              FROM ds_volume v
              JOIN ds_period per ON per.id = v.period_id
              JOIN ds_distributor d ON d.id = v.distributor_id
              JOIN res_partner p ON p.id = d.partner_id
             WHERE v.new_rank AND v.paid_rank_id IS NOT NULL
               AND per.state = 'closed' AND per.date_to BETWEEN %s AND %s
               AND d.state = 'active' AND d.company_id = %s AND %s
          ORDER BY p.id, v.paid_rank_id, per.date_to DESC
            """,
            today - timedelta(days=RANK_WINDOW_DAYS),
            today,
            self.company_id.id,
            self._audience_sql(),
        )

    def _due_sql_period_close_reminder(self, today, ref):
        pct = (self.close_to_rank_pct or 0.0) / 100.0
        return SQL(
            """
            SELECT p.id AS partner_id, 'period-' || per.id AS occasion_key,
                   per.date_to AS occasion_date, d.id AS distributor_id
              FROM ds_period per
              JOIN ds_volume v ON v.period_id = per.id
              JOIN ds_distributor d ON d.id = v.distributor_id
              JOIN res_partner p ON p.id = d.partner_id
         LEFT JOIN ds_rank cur ON cur.id = d.rank_id
              JOIN LATERAL (
                    SELECT nr.min_pv, nr.min_gv FROM ds_rank nr
                     WHERE nr.active AND nr.sequence > COALESCE(cur.sequence, -2147483648)
                       AND (nr.company_id IS NULL OR nr.company_id = per.company_id)
                  ORDER BY nr.sequence, nr.id LIMIT 1) nxt ON TRUE
             WHERE per.state = 'open' AND per.company_id = %(company)s
               AND %(today)s BETWEEN per.date_to - %(days)s AND per.date_to
               AND d.state = 'active'
               AND (COALESCE(nxt.min_pv, 0) > 0 OR COALESCE(nxt.min_gv, 0) > 0)
               AND COALESCE(v.pv, 0) >= %(pct)s * COALESCE(nxt.min_pv, 0)
               AND COALESCE(v.gv, 0) >= %(pct)s * COALESCE(nxt.min_gv, 0)
               AND (COALESCE(v.pv, 0) < COALESCE(nxt.min_pv, 0) OR COALESCE(v.gv, 0) < COALESCE(nxt.min_gv, 0))
               AND %(audience)s
            """,
            company=self.company_id.id,
            today=today,
            days=self.delay_days or 0,
            pct=pct,
            audience=self._audience_sql(),
        )

    def _due_sql_at_risk(self, today, ref):
        periods = (
            self.env["ds.period"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("state", "=", "closed"),
                    ("date_to", "<=", today),
                ],
                order="date_to desc",
                limit=self.inactive_periods,
            )
        )
        if len(periods) < self.inactive_periods or not periods:
            return None
        first_start = min(periods.mapped("date_from"))
        latest = periods[0]
        return SQL(
            """
            SELECT p.id AS partner_id, 'at-risk-' || %(latest)s AS occasion_key,
                   %(latest_date)s::date AS occasion_date, d.id AS distributor_id
              FROM ds_distributor d
              JOIN res_partner p ON p.id = d.partner_id
              JOIN ds_distributor s ON s.id = d.sponsor_id
             WHERE d.state = 'active' AND d.company_id = %(company)s AND s.state = 'active'
               AND (d.enrollment_date IS NULL OR d.enrollment_date <= %(first_start)s)
               AND NOT EXISTS (SELECT 1 FROM ds_volume v
                                WHERE v.distributor_id = d.id AND v.period_id = ANY(%(period_ids)s)
                                  AND v.is_active)
            """,
            latest=latest.id,
            latest_date=latest.date_to,
            company=self.company_id.id,
            first_start=first_start,
            period_ids=periods.ids,
        )

    # ------------------------------------------------------------------
    # Execution
    # ------------------------------------------------------------------
    def _insert_logs(self, rows):
        """Insert the logs of a batch; returns the rows actually inserted
        (a concurrent or previous run may have logged some already)."""
        self.ensure_one()
        if not rows:
            return []
        inserted = self.env.execute_query(
            SQL(
                """
                INSERT INTO ds_lifecycle_log (rule_id, company_id, partner_id, occasion_key, occasion_date,
                                              create_uid, create_date, write_uid, write_date)
                SELECT %(rule)s, %(company)s, v.partner_id, v.occasion_key, v.occasion_date,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM (SELECT UNNEST(%(partners)s::int[]) AS partner_id,
                               UNNEST(%(keys)s::varchar[]) AS occasion_key,
                               UNNEST(%(dates)s::date[]) AS occasion_date) v
                ON CONFLICT (rule_id, partner_id, occasion_key) DO NOTHING
             RETURNING id, partner_id
                """,
                rule=self.id,
                company=self.company_id.id,
                uid=self.env.uid,
                partners=[row[0] for row in rows],
                keys=[row[1] for row in rows],
                dates=[row[2] for row in rows],
            )
        )
        log_by_partner = {partner_id: log_id for log_id, partner_id in inserted}
        return [
            row + (log_by_partner[row[0]],) for row in rows if row[0] in log_by_partner
        ]

    def _execute_batch(self, rows):
        """Send (or schedule) the messages of one batch of due rows, already logged."""
        self.ensure_one()
        if self.trigger == "at_risk":
            return self._execute_at_risk(rows)
        template = (
            self.template_id.sudo()
            .with_company(self.company_id)
            .with_context(ds_lifecycle_today=self.env.context.get("ds_lifecycle_today"))
        )
        partner_ids = [row[0] for row in rows]
        mails = self._ds_queue_mails(template, partner_ids)
        mail_by_partner = {mail.res_id: mail.id for mail in mails}
        pairs = [
            (row[4], mail_by_partner[row[0]])
            for row in rows
            if row[0] in mail_by_partner
        ]
        if pairs:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE ds_lifecycle_log l SET mail_id = v.mail_id
                      FROM (SELECT UNNEST(%s::int[]) AS log_id, UNNEST(%s::int[]) AS mail_id) v
                     WHERE l.id = v.log_id
                    """,
                    [pair[0] for pair in pairs],
                    [pair[1] for pair in pairs],
                )
            )
        return len(rows)

    @api.model
    def _ds_render_bodies(self, template, res_ids):
        """QWeb bodies of ``template`` for many records with one compilation
        per language (``mail.template`` compiles the body once per record,
        which dominates the cost of large batches). Same evaluation context,
        same post-processing as ``mail.template``."""
        bodies = {}
        separator = f"<!--ds-lifecycle-{uuid.uuid4().hex}-->"
        for lang, (template_lang, lang_ids) in template._classify_per_lang(
            res_ids
        ).items():
            source = template_lang.body_html
            if not lang_ids:
                continue
            if not source:
                bodies.update(dict.fromkeys(lang_ids, ""))
                continue
            records = (
                self.env[template.model]
                .with_context(lang=lang or None)
                .browse(lang_ids)
            )
            variables = template_lang._render_eval_context()
            variables.update(ds_records=records, ds_separator=Markup(separator))
            wrapper = (
                '<t t-foreach="ds_records" t-as="object">'
                f'{source}<t t-out="ds_separator"/></t>'
            )
            rendered = (
                self.env["ir.qweb"]
                .with_context(lang=lang or None)
                ._render(
                    html.fragment_fromstring(wrapper, create_parent="div"), variables
                )
            )
            parts = str(rendered)[5:-6].split(separator)
            # n records give n + 1 parts (the last one empty)
            rendered_by_id = dict(zip(lang_ids, parts[: len(lang_ids)], strict=True))
            rendered_by_id = template_lang._render_template_postprocess(
                template.model, rendered_by_id
            )
            bodies.update(rendered_by_id)
        return bodies

    @api.model
    def _ds_queue_mails(self, template, res_ids):
        """Queue one mail.mail per record (``force_send=False``: the mail
        queue cron sends them), as ``mail.template.send_mail_batch`` does
        without a layout, but rendering the bodies per batch."""
        values_by_id = template._generate_template(
            res_ids,
            (
                "auto_delete",
                "email_cc",
                "email_from",
                "email_to",
                "mail_server_id",
                "model",
                "partner_to",
                "reply_to",
                "res_id",
                "scheduled_date",
                "subject",
            ),
        )
        bodies = self._ds_render_bodies(template, res_ids)
        values_list = []
        for res_id in res_ids:
            values = values_by_id[res_id]
            values["recipient_ids"] = [
                (4, pid) for pid in (values.pop("partner_ids", None) or [])
            ]
            values.pop("attachment_ids", None)
            values.pop("attachments", None)
            if "email_from" in values and not values.get("email_from"):
                values.pop("email_from")
            values["body_html"] = values["body"] = bodies.get(res_id, "")
            values_list.append(values)
        return self.env["mail.mail"].sudo().create(values_list)

    def _ds_at_risk_fallback_user(self):
        """The rule's responsible, else the company's (Settings); never OdooBot."""
        self.ensure_one()
        user = self.sudo().responsible_user_id
        if user and user.active and not user.share and not user._is_superuser():
            return user
        return self.company_id._ds_responsible_user()

    def _execute_at_risk(self, rows):
        """At-risk alerts grouped per responsible: one to-do per responsible user and
        occasion (closed period), listing the inactive distributors, instead of one
        to-do per distributor. The responsible is the sponsor's internal user, else
        the rule's responsible, else the company's (Settings); never OdooBot. Rows
        nobody can take are not logged, so they come back once a responsible is set.
        Batches of one occasion add to the same to-do."""
        self.ensure_one()
        fallback = self._ds_at_risk_fallback_user()
        recipient_rows = self.env.execute_query(
            SQL(
                """
                SELECT d.id,
                       (SELECT u.id FROM res_users u
                         WHERE u.partner_id = s.partner_id AND u.active AND NOT u.share
                           AND u.id != %(root)s
                      ORDER BY u.id LIMIT 1)
                  FROM ds_distributor d
                  JOIN ds_distributor s ON s.id = d.sponsor_id
                 WHERE d.id = ANY(%(ids)s)
                """,
                root=SUPERUSER_ID,
                ids=[row[3] for row in rows],
            )
        )
        user_by_distributor = {
            distributor_id: user_id or fallback.id
            for distributor_id, user_id in recipient_rows
        }
        groups = defaultdict(list)
        orphans = []
        for row in rows:
            user_id = user_by_distributor.get(row[3])
            if user_id:
                groups[(user_id, row[1])].append(row[4])
            else:
                orphans.append(row[4])
        if orphans:
            self.env.cr.execute(
                SQL("DELETE FROM ds_lifecycle_log WHERE id = ANY(%s)", orphans)
            )
            _logger.warning(
                "Lifecycle rule %s (id %s): %s at-risk distributors have no responsible "
                "(their sponsor has no internal user and no responsible is set on the rule "
                "or in Settings); they stay due.",
                self.name,
                self.id,
                len(orphans),
            )
        activity_type = self.activity_type_id or self.env.ref(
            "mail.mail_activity_data_todo"
        )
        model_id = self.env["ir.model"]._get_id(self._name)
        Activity = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
        )
        Users = self.env["res.users"].sudo()
        for (user_id, occasion_key), log_ids in groups.items():
            existing = self.env.execute_query(
                SQL(
                    """
                    SELECT a.id FROM ds_lifecycle_log l
                      JOIN mail_activity a ON a.id = l.activity_id
                     WHERE l.rule_id = %s AND l.occasion_key = %s AND a.user_id = %s
                     LIMIT 1
                    """,
                    self.id,
                    occasion_key,
                    user_id,
                )
            )
            activity = Activity.browse(existing[0][0]) if existing else Activity
            if not activity:
                activity = Activity.create(
                    {
                        "res_model_id": model_id,
                        "res_id": self.id,
                        "activity_type_id": activity_type.id,
                        "user_id": user_id,
                        "date_deadline": fields.Date.context_today(self),
                    }
                )
            self.env.cr.execute(
                SQL(
                    "UPDATE ds_lifecycle_log SET activity_id = %s WHERE id = ANY(%s)",
                    activity.id,
                    log_ids,
                )
            )
            activity.write(
                self._ds_at_risk_activity_text(activity, Users.browse(user_id))
            )
        return len(rows)

    def _ds_at_risk_activity_text(self, activity, user):
        """Summary and note of a grouped at-risk to-do, in the responsible's language:
        how many, and the first ones by name with their sponsor (links to the records)."""
        shown = 200
        found = self.env.execute_query(
            SQL(
                """
                SELECT d.id, p.name, sp.name, COUNT(*) OVER ()
                  FROM ds_lifecycle_log l
                  JOIN ds_distributor d ON d.partner_id = l.partner_id
                  JOIN res_partner p ON p.id = d.partner_id
             LEFT JOIN ds_distributor s ON s.id = d.sponsor_id
             LEFT JOIN res_partner sp ON sp.id = s.partner_id
                 WHERE l.activity_id = %s
              ORDER BY p.name, d.id
                 LIMIT %s
                """,
                activity.id,
                shown,
            )
        )
        total = found[0][3] if found else 0
        env = self.with_context(lang=user.lang or self.env.lang).env
        items = Markup("").join(
            Markup('<li><a href="/odoo/ds.distributor/%s">%s</a> (%s)</li>')
            % (distributor_id, name, env._("sponsor: %s", sponsor or "-"))
            for distributor_id, name, sponsor, _total in found
        )
        more = ""
        if total > shown:
            more = Markup("<p>%s</p>") % env._(
                "... and %(count)s more: see the rule's Sent list.",
                count=total - shown,
            )
        periods = self.inactive_periods
        return {
            "summary": env._(
                "At risk: %(count)s distributors inactive for %(periods)s periods",
                count=total,
                periods=periods,
            ),
            "note": Markup("<p>%s</p><ul>%s</ul>%s")
            % (
                env._(
                    "These distributors had no activity in the last %(periods)s closed "
                    "periods. A call from their sponsor may help.",
                    periods=periods,
                ),
                items,
                more,
            ),
        }

    @api.model
    def _cron_lifecycle(self, today=None, rules=None, batch_size=None):
        """Daily lifecycle cron. ``today`` (a date) may be given to replay a
        day. Returns the number of occasions processed."""
        today = fields.Date.to_date(today) if today else fields.Date.context_today(self)
        batch_size = batch_size or int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_direct_selling.lifecycle_batch_size", DEFAULT_BATCH_SIZE)
        )
        in_cron = bool(self.env.context.get("cron_id"))
        self.env.flush_all()  # the due queries below read many tables in raw SQL
        ref = self._roll_next_occurrences(today)
        rules = (
            (rules or self.sudo().search([]))
            .sudo()
            .filtered("active")
            .with_context(ds_lifecycle_today=today)
        )
        work = []
        for rule in rules:
            rule_ref = ref
            due = rule._get_due(today, rule_ref)
            if due:
                work.append((rule, due))
        remaining = sum(len(due) for _rule, due in work)
        done = failed = 0
        # progress is a no-op outside a cron job; commit only in the cron worker (never in tests)
        self.env["ir.cron"]._notify_progress(done=0, remaining=remaining)
        if in_cron:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        for rule, due in work:
            for batch in split_every(batch_size, due, list):
                # a failing rule (e.g. a broken template) must not block the others:
                # its batch is rolled back, logs included, and retried on the next run
                try:
                    with self.env.cr.savepoint():
                        logged = rule._insert_logs(batch)
                        if logged:
                            rule._execute_batch(logged)
                except Exception:  # noqa: BLE001
                    _logger.exception(
                        "Lifecycle rule %s (id %s) failed on %s",
                        rule.name,
                        rule.id,
                        today,
                    )
                    failed += len(batch)
                    self.env.invalidate_all()
                else:
                    done += len(batch)
                remaining -= len(batch)
                self.env["ir.cron"]._notify_progress(
                    done=done + failed, remaining=remaining
                )
                if in_cron:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        _logger.info(
            "Lifecycle cron %s: %s occasions processed, %s failed", today, done, failed
        )
        return done
