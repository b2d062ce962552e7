from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class DsSegment(models.Model):
    _inherit = "ds.segment"

    ds_course_completed_ids = fields.Many2many(
        "slide.channel",
        "ds_segment_completed_channel_rel",
        "segment_id",
        "channel_id",
        string="Completed Courses",
        help="Members have completed every one of these eLearning courses.",
    )
    ds_onboarding = fields.Selection(
        [
            ("completed", "Completed"),
            ("not_completed", "Not completed"),
        ],
        string="Onboarding",
        help="Distributors who have (or have not yet) completed every onboarding course "
        "of the company (Settings, Direct Selling).",
    )

    def _ds_completed_all_sql(self, channel_ids):
        """Partners with a completed, active membership of each course of ``channel_ids``."""
        return SQL(
            """SELECT scp.partner_id FROM slide_channel_partner scp
                WHERE scp.active AND scp.member_status = 'completed'
                  AND scp.channel_id = ANY(%s)
             GROUP BY scp.partner_id HAVING count(*) = %s""",
            list(channel_ids),
            len(channel_ids),
        )

    def _extra_conditions(self, today):
        conds = super()._extra_conditions(today)
        if self.ds_course_completed_ids:
            conds.append(
                SQL(
                    "p.id IN (%s)",
                    self._ds_completed_all_sql(self.ds_course_completed_ids.ids),
                )
            )
        if self.ds_onboarding:
            # no onboarding course (the setting cleared after the segment was saved):
            # nobody has completed it, every distributor has not
            onboarding = self.company_id.sudo().ds_onboarding_channel_ids
            completed = self._ds_completed_all_sql(onboarding.ids or [0])
            if self.ds_onboarding == "completed":
                conds.append(SQL("p.id IN (%s)", completed))
            else:
                conds.append(SQL("p.ds_distributor_id IS NOT NULL"))
                conds.append(SQL("p.id NOT IN (%s)", completed))
        return conds

    @api.constrains("ds_onboarding", "company_id")
    def _check_ds_onboarding(self):
        for segment in self:
            if (
                segment.ds_onboarding
                and not segment.company_id.sudo().ds_onboarding_channel_ids
            ):
                raise ValidationError(
                    _(
                        "Segment %s: the company has no onboarding course to complete "
                        "(Settings, Direct Selling, Training).",
                        segment.name,
                    )
                )

    @api.depends("ds_course_completed_ids", "ds_onboarding")
    @api.depends_context("uid")
    def _compute_preview_count(self):
        return super()._compute_preview_count()
