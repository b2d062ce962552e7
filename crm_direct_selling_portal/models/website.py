from odoo import models

from .res_users import ds_request_referrer


class Website(models.Model):
    _inherit = "website"

    def _ds_shop_referrer(self):
        """The distributor whose shop the visitor is in, sudo, for the shop banner: an
        attributed customer's own distributor (customer protection: whatever link they
        followed), else the distributor of the visitor's referral link; empty for
        distributors shopping for themselves, without a link, or when that distributor
        is no longer active."""
        partner = self.env.user.partner_id
        if not self.env.user._is_public():
            commercial = partner.commercial_partner_id
            if commercial.ds_distributor_id or partner.ds_distributor_id:
                return self.env["ds.distributor"].sudo()
            if commercial.ds_referrer_id:
                referrer = commercial.sudo().ds_referrer_id
                return referrer if referrer.state == "active" else referrer.browse()
        return ds_request_referrer(self.env)

    def _ds_show_points(self):
        """PV and BV are shown to distributors (they earn them), next to prices."""
        partner = self.env.user.partner_id
        return bool(
            not self.env.user._is_public()
            and (
                partner.ds_distributor_id
                or partner.commercial_partner_id.ds_distributor_id
            )
        )

    def _prepare_sale_order_values(self, partner_sudo):
        values = super()._prepare_sale_order_values(partner_sudo)
        # a cart opened through a distributor's link is credited to them, unless the buyer
        # is a distributor (their own order) or already someone's customer (protected)
        commercial = partner_sudo.commercial_partner_id
        if not (
            commercial.ds_distributor_id
            or partner_sudo.ds_distributor_id
            or commercial.ds_referrer_id
            or partner_sudo.ds_referrer_id
        ):
            referrer = ds_request_referrer(self.env)
            if referrer and referrer.partner_id != commercial:
                values["ds_referrer_id"] = referrer.id
        return values
