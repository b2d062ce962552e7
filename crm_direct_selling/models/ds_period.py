from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .derived_table import unlink_and_apply
from .ds_access import ds_check_user


class DsPeriod(models.Model):
    _name = "ds.period"
    _description = "Volume Period"
    _inherit = ["mail.thread"]
    _order = "date_from desc, id desc"

    name = fields.Char(required=True)
    date_from = fields.Date(required=True, index=True)
    date_to = fields.Date(required=True, index=True)
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed")],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    volume_ids = fields.One2many("ds.volume", "period_id", string="Volumes")
    volume_count = fields.Integer(compute="_compute_volume_count")
    computed_date = fields.Datetime(
        string="Volumes Computed On", readonly=True, copy=False
    )
    closed_date = fields.Datetime(readonly=True, copy=False)
    ds_ranks_applied = fields.Boolean(
        "Ranks Applied",
        readonly=True,
        copy=False,
        help="The period has been closed once: the distributors' highest ranks include its "
        "ranks, so a recompute after reopening keeps the highest ranks its volumes were "
        "first computed against (rank advancement stays paid once).",
    )

    _sql_constraints = [
        (
            "date_check",
            "CHECK(date_from <= date_to)",
            "The start date must be before the end date.",
        ),
    ]

    @api.constrains("date_from", "date_to", "company_id")
    def _check_overlap(self):
        for period in self:
            overlap = self.search(
                [
                    ("id", "!=", period.id),
                    ("company_id", "=", period.company_id.id),
                    ("date_from", "<=", period.date_to),
                    ("date_to", ">=", period.date_from),
                ],
                limit=1,
            )
            if overlap:
                raise ValidationError(
                    _(
                        "Period %(new)s overlaps period %(old)s.",
                        new=period.name,
                        old=overlap.name,
                    )
                )

    def _compute_volume_count(self):
        data = dict(
            self.env["ds.volume"]._read_group(
                [("period_id", "in", self.ids)], ["period_id"], ["__count"]
            )
        )
        for period in self:
            period.volume_count = data.get(period, 0)

    @api.model
    def _ds_period_for_date(self, date, company):
        """The open period containing ``date``; if that one is closed, the next open period."""
        period = self.search(
            [
                ("company_id", "=", company.id),
                ("date_from", "<=", date),
                ("date_to", ">=", date),
            ],
            limit=1,
        )
        if period and period.state == "open":
            return period
        return self.search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "open"),
                ("date_from", ">", date),
            ],
            order="date_from",
            limit=1,
        )

    def write(self, vals):
        if ({"date_from", "date_to", "company_id"} & set(vals)) and self.filtered(
            lambda p: p.state == "closed"
        ):
            raise UserError(_("A closed period cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_closed(self):
        if self.filtered(lambda p: p.state == "closed"):
            raise UserError(_("A closed period cannot be deleted."))

    def unlink(self):
        # ds.volume keeps no foreign keys (derived_table.py): its ondelete rule, by hand
        return unlink_and_apply(
            self, super().unlink, [("ds_volume", "period_id", "cascade")]
        )

    def _ds_check_manager(self):
        if not self.env.su and not self.env.user.has_group(
            "crm_direct_selling.group_ds_manager"
        ):
            raise AccessError(
                _("Only Direct Selling managers can compute, close or reopen periods.")
            )

    def _ds_posted_bonus_runs(self):
        if "ds.bonus.run" not in self.env:
            return 0
        return (
            self.env["ds.bonus.run"]
            .sudo()
            .search_count([("period_id", "in", self.ids), ("state", "=", "posted")])
        )

    def action_compute_volumes(self):
        self._ds_check_manager()
        for period in self:
            if period.state == "closed":
                raise UserError(
                    _("Period %s is closed: its volumes cannot change.", period.name)
                )
            self.env["ds.volume"].sudo()._ds_compute(period)
        return True

    def action_close(self):
        self._ds_check_manager()
        for period in self.sorted("date_from"):
            if period.state == "closed":
                continue
            self.env["ds.volume"].sudo()._ds_compute(period)
            period.write({"state": "closed", "closed_date": fields.Datetime.now()})
            period._ds_update_distributor_ranks()
            period._ds_apply_rank_pricelists()
        return True

    def action_reopen(self):
        self._ds_check_manager()
        if self._ds_posted_bonus_runs():
            raise UserError(
                _(
                    "A posted bonus run depends on this period: cancel it before reopening the period."
                )
            )
        self.write({"state": "open", "closed_date": False})
        return True

    def _ds_update_distributor_ranks(self):
        """After closing: the distributors' rank is the paid-as rank of this period; the highest
        rank is raised only by a new rank (``ds.volume.new_rank``: never for a distributor who was
        suspended or terminated when the period closed, so their rank advancement stays due).
        A distributor suspended at the close keeps their rank and highest rank unchanged."""
        self.ensure_one()
        self.env["ds.volume"].flush_model()
        self.env.cr.execute(
            SQL(
                """
            UPDATE ds_distributor d
               SET rank_id = v.paid_rank_id,
                   highest_rank_id = CASE
                        WHEN v.new_rank AND v.paid_rank_id IS NOT NULL AND (d.highest_rank_id IS NULL
                             OR pr.sequence > (SELECT hr.sequence FROM ds_rank hr WHERE hr.id = d.highest_rank_id))
                        THEN v.paid_rank_id ELSE d.highest_rank_id END
              FROM ds_volume v
         LEFT JOIN ds_rank pr ON pr.id = v.paid_rank_id
             WHERE v.period_id = %s AND v.distributor_id = d.id
               AND v.distributor_state IS DISTINCT FROM 'suspended'
            """,
                self.id,
            )
        )
        self.env["ds.distributor"].invalidate_model(["rank_id", "highest_rank_id"])
        self.ds_ranks_applied = True

    def _ds_apply_rank_pricelists(self):
        """After the ranks of this closed period are applied: every active distributor of the
        period whose paid-as rank has a pricelist gets it as their pricelist in the period's
        company (the distributor's contact and its child contacts), in one UPDATE. Distributors
        whose rank has no pricelist, suspended or terminated ones, and retail customers keep
        theirs. The change is summed up in the period's chatter (how many per pricelist).

        ``property_product_pricelist`` is computed in 18.0 from the company-dependent
        ``specific_property_product_pricelist``, stored as a jsonb column
        ``{"<company id>": <pricelist id>}``: the company's key is set, other companies' kept."""
        self.ensure_one()
        Partner = self.env["res.partner"]
        self.env["ds.volume"].flush_model()
        self.env["ds.distributor"].flush_model(["rank_id", "state", "partner_id"])
        self.env["ds.rank"].flush_model(["pricelist_id"])
        Partner.flush_model(
            ["specific_property_product_pricelist", "commercial_partner_id"]
        )
        company_key = str(self.company_id.id)
        rows = self.env.execute_query(
            SQL(
                """
            WITH target AS (
                SELECT d.id AS distributor_id, d.partner_id, r.pricelist_id
                  FROM ds_volume v
                  JOIN ds_distributor d ON d.id = v.distributor_id
                  JOIN ds_rank r ON r.id = d.rank_id
                 WHERE v.period_id = %(period)s
                   AND d.state = 'active'
                   AND r.pricelist_id IS NOT NULL
            ), upd AS (
                UPDATE res_partner p
                   SET specific_property_product_pricelist =
                           COALESCE(p.specific_property_product_pricelist, '{}'::jsonb)
                           || jsonb_build_object(%(key)s::text, t.pricelist_id)
                  FROM target t
                 WHERE p.commercial_partner_id = t.partner_id
                   AND (p.specific_property_product_pricelist -> %(key)s::text)
                       IS DISTINCT FROM to_jsonb(t.pricelist_id)
             RETURNING p.id, t.pricelist_id, p.id = t.partner_id AS main
            )
            SELECT pricelist_id, count(*) FILTER (WHERE main) FROM upd GROUP BY pricelist_id
            """,
                period=self.id,
                key=company_key,
            )
        )
        Partner.invalidate_model(
            ["specific_property_product_pricelist", "property_product_pricelist"]
        )
        if not rows:
            return
        pricelists = self.env["product.pricelist"].sudo().browse([r[0] for r in rows])
        names = {pl.id: pl.display_name for pl in pricelists}
        lines = Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "%(count)s distributor(s) → %(pricelist)s",
                count=count,
                pricelist=names.get(pricelist_id, pricelist_id),
            )
            for pricelist_id, count in sorted(rows, key=lambda r: names.get(r[0], ""))
        )
        self._message_log(
            body=Markup("<p>%s</p><ul>%s</ul>")
            % (self.env._("Rank pricelists applied at the close:"), lines),
        )

    def action_view_volumes(self):
        ds_check_user(self.env, _("open the volumes of periods"), self)
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_volume"
        )
        action.update({"domain": [("period_id", "=", self.id)], "context": {}})
        return action

    @api.model
    def _ds_generate_months(self, date_start, months, company=None):
        """Create monthly periods from ``date_start`` (first day of its month); existing months are skipped."""
        company = company or self.env.company
        start = fields.Date.to_date(date_start).replace(day=1)
        vals_list = []
        for i in range(months):
            dfrom = start + relativedelta(months=i)
            dto = dfrom + relativedelta(months=1, days=-1)
            if self.search_count(
                [
                    ("company_id", "=", company.id),
                    ("date_from", "<=", dto),
                    ("date_to", ">=", dfrom),
                ]
            ):
                continue
            vals_list.append(
                {
                    "name": dfrom.strftime("%Y-%m"),
                    "date_from": dfrom,
                    "date_to": dto,
                    "company_id": company.id,
                }
            )
        return self.create(vals_list)

    @api.model
    def _cron_compute_current_periods(self):
        """Refresh the volumes of every open period containing today (the live view between runs)."""
        today = fields.Date.context_today(self)
        periods = self.sudo().search(
            [
                ("state", "=", "open"),
                ("date_from", "<=", today),
                ("date_to", ">=", today),
            ]
        )
        for period in periods:
            self.env["ds.volume"].sudo()._ds_compute(period)
