from odoo import api, models


class SlideChannelPartner(models.Model):
    _inherit = "slide.channel.partner"

    @api.constrains("channel_id", "partner_id", "active")
    def _check_ds_min_rank(self):
        """No membership (invited or joined, by any path: join button, enrol wizard,
        JSON-RPC, import) of a partner below the course's minimum rank."""
        for channel, memberships in (
            self.filtered("active").grouped("channel_id").items()
        ):
            channel._ds_check_rank_members(memberships.partner_id.ids)
