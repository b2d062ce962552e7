from odoo import models

from odoo.addons.crm_direct_selling.models.derived_table import unlink_and_apply


class DsRank(models.Model):
    _inherit = "ds.rank"

    def unlink(self):
        # ds.campaign.member keeps no foreign keys (crm_direct_selling's derived_table.py): its
        # rank snapshot's ondelete='set null', by hand
        return unlink_and_apply(
            self, super().unlink, [("ds_campaign_member", "rank_id", "set null")]
        )
