from odoo import models


class ResGroups(models.Model):
    _inherit = "res.groups"

    def write(self, vals):
        # users added to a course's auto-enrol group join it unless its rank is not reached
        return super(ResGroups, self.with_context(ds_rank_skip_refused=True)).write(
            vals
        )
