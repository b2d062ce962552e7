from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class SlideChannel(models.Model):
    _inherit = "slide.channel"

    ds_min_rank_id = fields.Many2one(
        "ds.rank",
        string="Minimum Rank",
        ondelete="restrict",
        help="Only distributors whose highest rank reached (or paid-as rank, when higher) is "
        "at least this rank may join the course and read its content. Empty: open to all.",
    )
    ds_min_rank_name = fields.Char(related="ds_min_rank_id.name", string="Rank Needed")
    ds_rank_locked = fields.Boolean(
        string="Locked by Rank",
        compute="_compute_ds_rank_locked",
        search="_search_ds_rank_locked",
        help="The current user may not join this course or read its content: their rank "
        "is below the course's minimum rank.",
    )

    @api.model
    def _ds_rank_sequence_sql(self, partner_alias):
        """SQL of the rank sequence a partner qualifies with: the higher of their
        distributor's highest rank and paid-as rank; NULL for a partner who is not an
        enrolled (non-terminated) distributor."""
        return SQL(
            """(SELECT GREATEST(hr.sequence, pr.sequence)
                  FROM ds_distributor d
             LEFT JOIN ds_rank hr ON hr.id = d.highest_rank_id
             LEFT JOIN ds_rank pr ON pr.id = d.rank_id
                 WHERE d.partner_id = %s AND d.state != 'terminated')""",
            SQL.identifier(partner_alias, "id"),
        )

    @api.model
    def _ds_locked_channel_ids(self):
        """Ids of the rank-gated courses the current user may not open (one query).

        Internal users (trainers, back office) are never locked out; the public user and
        partners who are not distributors are locked out of every gated course."""
        # self.env.user, not self.env.su: record rules are checked in sudo mode on
        # behalf of the real user
        user = self.env.user
        if user._is_internal():
            return []
        self.env["slide.channel"].flush_model(["ds_min_rank_id"])
        self.env["ds.distributor"].flush_model(["highest_rank_id", "rank_id", "state"])
        rows = self.env.execute_query(
            SQL(
                """SELECT c.id
                     FROM slide_channel c
                     JOIN ds_rank r ON r.id = c.ds_min_rank_id
                     JOIN res_partner p ON p.id = %s
                    WHERE COALESCE(%s < r.sequence, TRUE)""",
                user.partner_id.id,
                self._ds_rank_sequence_sql("p"),
            )
        )
        return [row[0] for row in rows]

    @api.depends("ds_min_rank_id")
    @api.depends_context("uid")
    def _compute_ds_rank_locked(self):
        gated = self.filtered("ds_min_rank_id")
        locked = set(self._ds_locked_channel_ids()) if gated else set()
        for channel in self:
            channel.ds_rank_locked = channel.id in locked

    def _search_ds_rank_locked(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Operation not supported"))
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", self._ds_locked_channel_ids())]

    @api.constrains("ds_min_rank_id")
    def _check_ds_min_rank_onboarding(self):
        onboarding = self.filtered("ds_min_rank_id").with_context(active_test=False)
        companies = (
            self.env["res.company"]
            .sudo()
            .search([("ds_onboarding_channel_ids", "in", onboarding.ids)])
        )
        for company in companies:
            bad = company.ds_onboarding_channel_ids & onboarding
            if bad:
                raise ValidationError(
                    _(
                        "The course %(course)s is an onboarding course of %(company)s: "
                        "every new distributor joins it, so it cannot require a rank.",
                        course=bad[0].name,
                        company=company.name,
                    )
                )

    def _ds_refused_members(self, partner_ids, limit=None):
        """[(course id, partner id)] of the partners of ``partner_ids`` who may not
        join the rank-gated courses of ``self``: one query for all of them. Partners of
        internal users (trainers, back office) are never refused."""
        gated = self.filtered("ds_min_rank_id")
        if not gated or not partner_ids:
            return []
        self.flush_model(["ds_min_rank_id"])
        self.env["ds.distributor"].flush_model(["highest_rank_id", "rank_id", "state"])
        return self.env.execute_query(
            SQL(
                """SELECT c.id, p.id
                     FROM slide_channel c
                     JOIN ds_rank r ON r.id = c.ds_min_rank_id
                     JOIN res_partner p ON p.id = ANY(%(partners)s)
                    WHERE c.id = ANY(%(channels)s)
                      AND COALESCE(%(seq)s < r.sequence, TRUE)
                      AND NOT EXISTS (
                          SELECT 1 FROM res_users u
                           WHERE u.partner_id = p.id AND NOT u.share)
                    ORDER BY c.id, p.id
                    %(limit)s""",
                partners=list(partner_ids),
                channels=gated.ids,
                seq=self._ds_rank_sequence_sql("p"),
                limit=SQL("LIMIT %s", limit) if limit else SQL(),
            )
        )

    def _ds_check_rank_members(self, partner_ids):
        """Raise ValidationError when a partner of ``partner_ids`` may not join a
        rank-gated course of ``self``, naming the course, the rank and the partners."""
        rows = self._ds_refused_members(partner_ids, limit=6)
        if rows:
            channel = self.browse(rows[0][0]).sudo()
            partners = self.env["res.partner"].sudo().browse([r[1] for r in rows[:5]])
            raise ValidationError(
                _(
                    "The course %(course)s requires the rank %(rank)s: %(partners)s "
                    "has not reached it.",
                    course=channel.name,
                    rank=channel.ds_min_rank_id.name,
                    partners=", ".join(partners.mapped("name")),
                )
            )

    def _action_add_members(self, target_partners, member_status="joined", **kwargs):
        if not self.env.context.get("ds_rank_skip_refused"):
            # refused before anything is written, with the rank named (the constraint
            # on slide.channel.partner stays the guard of every other path)
            self._ds_check_rank_members(target_partners.ids)
            return super()._action_add_members(
                target_partners, member_status=member_status, **kwargs
            )
        # automatic enrolment (auto-enrol groups): partners below the rank are left out
        refused = {}
        for channel_id, partner_id in self._ds_refused_members(target_partners.ids):
            refused.setdefault(channel_id, set()).add(partner_id)
        open_channels = self.filtered(lambda c: c.id not in refused)
        result = super(SlideChannel, open_channels)._action_add_members(
            target_partners, member_status=member_status, **kwargs
        )
        for channel in self - open_channels:
            allowed = target_partners.filtered(
                lambda p, c=channel: p.id not in refused[c.id]
            )
            result |= super(SlideChannel, channel)._action_add_members(
                allowed, member_status=member_status, **kwargs
            )
        return result

    def _add_groups_members(self):
        return super(
            SlideChannel, self.with_context(ds_rank_skip_refused=True)
        )._add_groups_members()
