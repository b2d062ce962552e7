from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL


class DsDistributor(models.Model):
    """Training (website_slides) on the distributor: onboarding at enrolment,
    completion figures for the back office and the leader's portal pages."""

    _inherit = "ds.distributor"

    ds_course_completed_count = fields.Integer(
        string="Courses Completed", compute="_compute_ds_training"
    )
    ds_course_count = fields.Integer(string="Courses", compute="_compute_ds_training")
    ds_onboarding_completion = fields.Integer(
        string="Onboarding %",
        compute="_compute_ds_training",
        help="Average completion of the company's onboarding courses (a course not "
        "joined counts as 0%).",
    )
    ds_course_membership_ids = fields.One2many(
        "slide.channel.partner",
        compute="_compute_ds_course_membership_ids",
        string="Courses Followed",
    )

    # ------------------------------------------------------------------ enrolment
    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._ds_join_onboarding()
        return records

    @api.model
    def _ds_create_sql(self, vals_list, update_paths=True):
        records = super()._ds_create_sql(vals_list, update_paths=update_paths)
        records._ds_join_onboarding()
        return records

    def _ds_join_onboarding(self):
        """Make the partners of these distributors attendees of their company's
        onboarding courses: one INSERT of slide.channel.partner rows for the whole batch
        (an import of 100,000 rows included) plus their subscription to the courses'
        chatter, as website_slides' _action_add_members does for one partner.

        A partner already attending (or invited to) a course is left as they are. The
        membership is on the partner, so a portal user granted later finds it."""
        if not self:
            return
        self.env["res.company"].flush_model(["ds_onboarding_channel_ids"])
        self.flush_model(["partner_id", "company_id"])
        subtype = self.env.ref(
            "website_slides.mt_channel_slide_published", raise_if_not_found=False
        )
        self.env.cr.execute(
            SQL(
                """
                WITH new AS (
                    INSERT INTO slide_channel_partner
                           (channel_id, partner_id, member_status, completion,
                            completed_slides_count, active,
                            create_uid, write_uid, create_date, write_date)
                    SELECT rel.channel_id, d.partner_id, 'joined', 0, 0, TRUE,
                           %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
                      FROM ds_distributor d
                      JOIN res_company_ds_onboarding_channel_rel rel
                        ON rel.company_id = d.company_id
                      JOIN slide_channel c ON c.id = rel.channel_id AND c.active
                     WHERE d.id = ANY(%(ids)s)
                    ON CONFLICT (channel_id, partner_id) DO NOTHING
                    RETURNING channel_id, partner_id
                ), fol AS (
                    INSERT INTO mail_followers (res_model, res_id, partner_id)
                    SELECT 'slide.channel', new.channel_id, new.partner_id FROM new
                    ON CONFLICT (res_model, res_id, partner_id) DO NOTHING
                    RETURNING id
                ), sub AS (
                    INSERT INTO mail_followers_mail_message_subtype_rel
                           (mail_followers_id, mail_message_subtype_id)
                    SELECT fol.id, %(subtype)s FROM fol WHERE %(subtype)s IS NOT NULL
                )
                SELECT count(*) FROM new
                """,
                uid=self.env.uid,
                ids=self.ids,
                subtype=subtype.id if subtype else None,
            )
        )
        joined = self.env.cr.fetchone()[0]
        if joined:
            self.env["slide.channel.partner"].invalidate_model()
            self.env["slide.channel"].invalidate_model()
            self.env["mail.followers"].invalidate_model()
        return joined

    # ------------------------------------------------------------------ figures
    def _ds_training_stats(self):
        """{distributor id: (courses followed, courses completed, onboarding %)} for
        ``self`` in one query (sudo: the caller decides who may see whom)."""
        if not self:
            return {}
        for model in ("slide.channel.partner", "slide.channel", "res.company"):
            self.env[model].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT d.id,
                       count(scp.id) FILTER (WHERE scp.member_status != 'invited'),
                       count(scp.id) FILTER (WHERE scp.member_status = 'completed'),
                       CASE WHEN ob.n > 0 THEN
                           round(COALESCE(sum(scp.completion) FILTER (
                               WHERE scp.channel_id = ANY(ob.ids)
                                 AND scp.member_status != 'invited'), 0)::numeric / ob.n)
                       END
                  FROM ds_distributor d
             LEFT JOIN LATERAL (
                       SELECT count(*) AS n, array_agg(rel.channel_id) AS ids
                         FROM res_company_ds_onboarding_channel_rel rel
                         JOIN slide_channel c ON c.id = rel.channel_id AND c.active
                        WHERE rel.company_id = d.company_id) ob ON TRUE
             LEFT JOIN slide_channel_partner scp
                    ON scp.partner_id = d.partner_id AND scp.active
                 WHERE d.id = ANY(%s)
              GROUP BY d.id, ob.n
                """,
                self.ids,
            )
        )
        return {
            row[0]: (row[1], row[2], None if row[3] is None else int(row[3]))
            for row in rows
        }

    @api.depends_context("uid")
    def _compute_ds_training(self):
        stats = self.sudo()._ds_training_stats() if self.ids else {}
        for distributor in self:
            followed, completed, onboarding = stats.get(distributor.id, (0, 0, None))
            distributor.ds_course_count = followed
            distributor.ds_course_completed_count = completed
            distributor.ds_onboarding_completion = onboarding or 0

    def _compute_ds_course_membership_ids(self):
        memberships = (
            self.env["slide.channel.partner"]
            .sudo()
            .search([("partner_id", "in", self.partner_id.ids)])
        )
        by_partner = memberships.grouped("partner_id")
        for distributor in self:
            distributor.ds_course_membership_ids = by_partner.get(
                distributor.partner_id, memberships.browse()
            )

    def action_ds_view_courses(self):
        """The course memberships of this distributor: eLearning officers only (the
        smart button is theirs), and only for a distributor they can read."""
        self.ensure_one()
        if not self.env.user.has_group("website_slides.group_website_slides_officer"):
            raise AccessError(
                _("Only eLearning officers can open the courses of a distributor.")
            )
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": _("Courses of %s", self.name),
            "res_model": "slide.channel.partner",
            "view_mode": "list,form",
            "domain": [("partner_id", "=", self.partner_id.id)],
            "context": {"create": False},
        }
