from odoo import _, api, models
from odoo.exceptions import UserError
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

    def _ds_autoship_lines(self):
        """{product id: quantity} of this order's products, for an autoship that repeats
        it (``ds.autoship.ds_portal_create``). Quantities are summed per product in the
        product's unit; delivery, reward, section, down payment and combo item lines are
        not products the buyer chose, so they are left out.

        UserError naming the products that cannot be repeated: archived or no longer
        sold, combos and products with options (the autoship keeps a product and a
        quantity only), or a quantity an autoship refuses. The caller decides whose
        order this is (the buyer's own cart or last order)."""
        self.ensure_one()
        lines = self.order_line.filtered(
            lambda line: (
                line.product_id
                and not line.display_type
                and not line.is_delivery
                and not line.is_downpayment
                and not line.combo_item_id
                and not line._is_not_sellable_line()
            )
        )
        if not lines:
            raise UserError(_("Your cart is empty: add products to repeat first."))
        bad = lines.filtered(
            lambda line: (
                not line.product_id.active
                or not line.product_id.sale_ok
                or line.product_id.type == "combo"
                or line.product_custom_attribute_value_ids
                or line.product_no_variant_attribute_value_ids
            )
        )
        if bad:
            names = ", ".join(
                bad.product_id.with_context(display_default_code=False).mapped(
                    "display_name"
                )
            )
            raise UserError(
                _(
                    "These products cannot be repeated on an autoship (no longer sold, "
                    "or with options an autoship does not keep): %(products)s. Remove "
                    "them from your cart first.",
                    products=names,
                )
            )
        quantities = {}
        for line in lines:
            product = line.product_id
            quantities[product] = quantities.get(
                product, 0.0
            ) + line.product_uom._compute_quantity(line.product_uom_qty, product.uom_id)
        Autoship = self.env["ds.autoship"]
        result = {}
        for product, quantity in quantities.items():
            try:
                result[product.id] = Autoship._ds_check_quantity(round(quantity, 6))
            except UserError as error:
                name = product.with_context(display_default_code=False).display_name
                raise UserError(
                    _("%(product)s: %(error)s", product=name, error=error.args[0])
                ) from None
        return result
