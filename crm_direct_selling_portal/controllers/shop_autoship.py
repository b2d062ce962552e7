"""Autoship from the shop: "Make this an autoship" on the cart page and "Repeat this order" on
the order confirmation page.

Both only ever use the caller's own order: the cart of their session
(``website.sale_get_order``) or the order they just paid (``sale_last_order_id`` of their
session), checked to be theirs; no order id is read from the request. The autoship itself is
created by ``ds.autoship.ds_portal_create``, the same checked method as the portal's
*New Autoship* form (products, quantities, frequency, date, the user's own payment method)."""

from dateutil.relativedelta import relativedelta

from odoo import _, fields
from odoo.exceptions import UserError, ValidationError
from odoo.http import request, route

from odoo.addons.website_sale.controllers.main import WebsiteSale

FORM_SESSION_KEY = "ds_autoship_form"
FORM_FIELDS = ("interval_number", "interval_unit", "next_date", "token_id")


class DsShopAutoship(WebsiteSale):
    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _ds_own_order(order_sudo):
        """``order_sudo`` if it is a sale order of the current (non-public) user's
        commercial partner, else an empty recordset."""
        user = request.env.user
        if (
            not order_sudo
            or user._is_public()
            or order_sudo.partner_id.commercial_partner_id
            != user.partner_id.commercial_partner_id
        ):
            return request.env["sale.order"].sudo()
        return order_sudo

    def _ds_autoship_form_values(self, order_sudo, source):
        """The values of the autoship form under an order (``source``: cart or order);
        None when the current user may not set up autoships (visitors, internal users)."""
        user = request.env.user
        if not user._is_portal() or not order_sudo:
            return None
        partner = user.partner_id.commercial_partner_id
        # the user's own saved payment methods only (sudo: portal users cannot read
        # payment.token; filtered on their commercial partner)
        tokens = (
            request.env["payment.token"]
            .sudo()
            .search([("partner_id", "child_of", partner.id), ("active", "=", True)])
        )
        form = request.session.pop(FORM_SESSION_KEY, None) or {}
        if form.get("source") != source:
            form = {}
        post = form.get("values") or {}
        paid_with = order_sudo.transaction_ids.token_id & tokens
        today = fields.Date.context_today(request.env["ds.autoship"])
        return {
            "source": source,
            "tokens": tokens,
            "token_id": int(post.get("token_id") or 0) or paid_with[:1].id,
            "units": request.env["ds.autoship"]
            ._fields["interval_unit"]
            ._description_selection(request.env),
            "interval_number": post.get("interval_number") or 1,
            "interval_unit": post.get("interval_unit") or "month",
            "next_date": post.get("next_date")
            or (today + relativedelta(months=1)).isoformat(),
            "min_date": (today + relativedelta(days=1)).isoformat(),
            "error": form.get("error"),
        }

    def _ds_autoship_from_order(self, order_sudo, post, source, back_url):
        """Create the current user's autoship repeating ``order_sudo`` (already checked
        to be theirs); back to ``back_url`` with the message when refused."""
        try:
            if not order_sudo:
                raise UserError(
                    _("Your cart is empty: add products to repeat first.")
                    if source == "cart"
                    else _("There is no order of yours to repeat.")
                )
            autoship = request.env["ds.autoship"].ds_portal_create(
                order_sudo._ds_autoship_lines(),
                interval_number=post.get("interval_number") or 1,
                interval_unit=post.get("interval_unit") or "month",
                next_date=post.get("next_date"),
                token_id=post.get("token_id"),
            )
        except (UserError, ValidationError) as error:
            request.env.cr.rollback()
            request.session[FORM_SESSION_KEY] = {
                "source": source,
                "error": str(error.args[0]),
                "values": {key: post.get(key) for key in FORM_FIELDS},
            }
            return request.redirect(back_url)
        return request.redirect(f"/my/autoships/{autoship.id}?message=created_{source}")

    # ------------------------------------------------------------------ cart
    @route()
    def cart(self, **post):
        response = super().cart(**post)
        qcontext = getattr(response, "qcontext", None)
        if qcontext is not None:
            order = qcontext.get("website_sale_order")
            form = None
            if order and order.website_order_line:
                form = self._ds_autoship_form_values(self._ds_own_order(order), "cart")
            qcontext["ds_autoship_form"] = form
            if form is None and not request.env.user._is_public():
                # refused on an empty cart (or for a user without the form): the
                # message is shown on its own
                refused = request.session.pop(FORM_SESSION_KEY, None) or {}
                qcontext["ds_autoship_error"] = refused.get("error")
        return response

    @route(
        "/shop/cart/autoship",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
        sitemap=False,
    )
    def ds_cart_autoship(self, **post):
        """Make the caller's cart an autoship. Any order id in the request is ignored:
        the cart is the one of the caller's session, and must be a draft of theirs."""
        order = request.website.sale_get_order()
        if order and order.state != "draft":
            order = order.browse()
        return self._ds_autoship_from_order(
            self._ds_own_order(order), post, "cart", "/shop/cart"
        )

    # ------------------------------------------------------------------ confirmation
    def _prepare_shop_payment_confirmation_values(self, order):
        values = super()._prepare_shop_payment_confirmation_values(order)
        own = self._ds_own_order(order)
        if own and own.state != "cancel":
            values["ds_autoship_form"] = self._ds_autoship_form_values(own, "order")
        elif not request.env.user._is_public():
            form = request.session.pop(FORM_SESSION_KEY, None) or {}
            values["ds_autoship_error"] = form.get("error")
        return values

    @route(
        "/shop/confirmation/autoship",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
        sitemap=False,
    )
    def ds_confirmation_autoship(self, **post):
        """Repeat the order the caller just placed (the last order of their session)."""
        order = (
            request.env["sale.order"]
            .sudo()
            .browse(request.session.get("sale_last_order_id") or 0)
            .exists()
        )
        return self._ds_autoship_from_order(
            self._ds_own_order(order), post, "order", "/shop/confirmation"
        )
