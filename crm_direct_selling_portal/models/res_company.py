from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    ds_onboarding_channel_ids = fields.Many2many(
        "slide.channel",
        "res_company_ds_onboarding_channel_rel",
        "company_id",
        "channel_id",
        string="Onboarding Courses",
        help="eLearning courses every new distributor of this company joins at enrolment "
        "(also when enrolled by import).",
    )

    @api.constrains("ds_onboarding_channel_ids")
    def _check_ds_onboarding_channels(self):
        for company in self:
            gated = company.ds_onboarding_channel_ids.filtered("ds_min_rank_id")
            if gated:
                raise ValidationError(
                    _(
                        "The onboarding course %(course)s requires the rank %(rank)s: "
                        "every new distributor joins an onboarding course, so it cannot "
                        "require a rank.",
                        course=gated[0].name,
                        rank=gated[0].ds_min_rank_id.name,
                    )
                )
