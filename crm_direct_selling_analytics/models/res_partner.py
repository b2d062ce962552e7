from odoo import fields, models

from odoo.addons.crm_direct_selling.models.derived_table import unlink_and_apply


class ResPartner(models.Model):
    _inherit = "res.partner"

    ds_segment_member_ids = fields.One2many(
        "ds.segment.member", "partner_id", string="Segments"
    )
    ds_campaign_member_ids = fields.One2many(
        "ds.campaign.member", "partner_id", string="Campaigns"
    )
    ds_rfm_ids = fields.One2many("ds.partner.rfm", "partner_id", string="RFM")

    def unlink(self):
        # the analytics derived tables keep no foreign keys (crm_direct_selling's
        # derived_table.py): their ondelete='cascade' on the partner, by hand
        return unlink_and_apply(
            self,
            super().unlink,
            [
                ("ds_partner_rfm", "partner_id", "cascade"),
                ("ds_partner_clv", "partner_id", "cascade"),
                ("ds_partner_recommendation", "partner_id", "cascade"),
                ("ds_uplift_score", "partner_id", "cascade"),
                ("ds_segment_member", "partner_id", "cascade"),
                ("ds_campaign_member", "partner_id", "cascade"),
            ],
        )
