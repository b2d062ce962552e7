from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ds_segment_member_ids = fields.One2many(
        "ds.segment.member", "partner_id", string="Segments"
    )
    ds_campaign_member_ids = fields.One2many(
        "ds.campaign.member", "partner_id", string="Campaigns"
    )
    ds_rfm_ids = fields.One2many("ds.partner.rfm", "partner_id", string="RFM")
