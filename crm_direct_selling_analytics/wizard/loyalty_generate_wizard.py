from odoo import models


class LoyaltyGenerateWizard(models.TransientModel):
    _inherit = "loyalty.generate.wizard"

    def _get_partners(self):
        partners = super()._get_partners()
        campaign = self.program_id.ds_campaign_id
        if campaign and partners:
            targets = self.env["ds.campaign.member"].search(
                [
                    ("campaign_id", "=", campaign.id),
                    ("group", "=", "target"),
                    ("partner_id", "in", partners.ids),
                ]
            )
            partners = targets.partner_id
        return partners
