from odoo import api, models
from odoo.http import request

from .res_users import ds_attribute_referral


class SaleOrder(models.Model):
    _inherit = "sale.order"

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        # online orders of visitors who came through a referral link; internal
        # users entering orders in the backend are never attributed this way
        if not self.env.user._is_internal():
            ds_attribute_referral(self.env, orders.partner_id)
        return orders

    def write(self, vals):
        res = super().write(vals)
        # a shop cart that gets its buyer (an anonymous visitor giving their address at
        # checkout, or logging in / signing up): the buyer becomes the customer of the
        # distributor whose shop they are in (referral link), protected from then on
        if (
            "partner_id" in vals
            and request
            and not self.env.user._is_internal()
            and self.filtered("website_id")
        ):
            ds_attribute_referral(self.env, self.filtered("website_id").partner_id)
            self.filtered("website_id")._ds_sync_referrer()
        return res

    def _ds_sync_referrer(self):
        """The order's referrer follows its customer's (a protected customer's orders
        are credited to their distributor, whatever link they came through)."""
        for order in self.sudo():
            commercial = order.partner_id.commercial_partner_id
            if commercial.ds_distributor_id or order.partner_id.ds_distributor_id:
                referrer = self.env["ds.distributor"]
            else:
                referrer = order.partner_id.ds_referrer_id or commercial.ds_referrer_id
            if referrer and order.ds_referrer_id != referrer:
                order.ds_referrer_id = referrer

    def action_confirm(self):
        # a shop order credited to a distributor makes its buyer their protected customer
        # (the core saves the order's referrer on the customer at confirmation)
        for order in self.filtered(lambda o: o.website_id and o.ds_referrer_id):
            commercial = order.partner_id.commercial_partner_id
            if (
                not commercial.ds_distributor_id
                and not commercial.ds_referrer_id
                and not commercial.user_ids.filtered(lambda u: u._is_public())
            ):
                commercial.sudo().write(
                    {
                        "ds_referrer_id": order.ds_referrer_id.id,
                        "ds_referrer_locked": True,
                    }
                )
        return super().action_confirm()
