from odoo import api, models

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
