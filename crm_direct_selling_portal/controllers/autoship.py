"""Autoship in the portal: the subscriber's own autoships (list, detail, changes, skip, pause,
resume, one-click cancel, creation) and, for leaders, their team's forecast and lapsed autoships.

Reads go through the portal user's own environment (the record rule limits them to their own
autoships); every change calls the checked methods of ds.autoship, which refuse a foreign id."""

from werkzeug.exceptions import NotFound

from odoo import _
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request, route

from odoo.addons.portal.controllers.portal import CustomerPortal

PRODUCT_LIMIT = 200
ACTIONS = {
    "skip": ("action_skip_next", "skipped"),
    "pause": ("action_pause", "paused"),
    "resume": ("action_resume", "resumed"),
    "cancel": ("action_cancel", "cancelled"),
}


class DsAutoshipPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "ds_autoship_count" in counters:
            values["ds_autoship_count"] = request.env["ds.autoship"].search_count(
                [("state", "!=", "cancelled")]
            )
        return values

    # ------------------------------------------------------------------ helpers
    def _ds_autoship(self, autoship_id):
        """The current user's autoship ``autoship_id`` (own environment); 404 otherwise."""
        autoship = request.env["ds.autoship"].browse(int(autoship_id)).exists()
        if not autoship:
            raise NotFound()
        try:
            autoship.check_access("read")
            autoship._ds_check_owner()
        except AccessError:
            raise NotFound() from None
        return autoship

    def _ds_tokens(self):
        partner = request.env.user.partner_id.commercial_partner_id
        return (
            request.env["payment.token"]
            .sudo()
            .search([("partner_id", "child_of", partner.id), ("active", "=", True)])
        )

    def _ds_products(self):
        return (
            request.env["product.product"]
            .sudo()
            .search(
                [
                    ("sale_ok", "=", True),
                    ("company_id", "in", [False, request.env.company.id]),
                ],
                order="name",
                limit=PRODUCT_LIMIT,
            )
        )

    @staticmethod
    def _ds_int_items(post, prefix):
        """{id: value} of the form fields named ``<prefix><id>``."""
        items = {}
        for key, value in post.items():
            if key.startswith(prefix) and key[len(prefix) :].isdigit():
                items[int(key[len(prefix) :])] = value
        return items

    # ------------------------------------------------------------------ pages
    @route("/my/autoships", type="http", auth="user", website=True)
    def ds_portal_autoships(self, **kw):
        autoships = request.env["ds.autoship"].search([], order="state, next_date")
        values = self._prepare_portal_layout_values()
        leader = request.env["ds.distributor"]._ds_portal_current()
        values.update(
            {
                "page_name": "ds_autoships",
                "autoships": autoships,
                "team": leader._ds_autoship_team_data() if leader else None,
                "currency": request.env.company.currency_id,
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_autoships", values)

    @route("/my/autoships/new", type="http", auth="user", website=True, methods=["GET"])
    def ds_portal_autoship_new(self, error=None, **kw):
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_autoship_new",
                "products": self._ds_products(),
                "tokens": self._ds_tokens(),
                "error": error,
                "post": kw,
                "units": request.env["ds.autoship"]
                ._fields["interval_unit"]
                ._description_selection(request.env),
            }
        )
        return request.render(
            "crm_direct_selling_portal.portal_my_autoship_new", values
        )

    @route(
        "/my/autoships/new", type="http", auth="user", website=True, methods=["POST"]
    )
    def ds_portal_autoship_create(self, **post):
        lines = {
            pid: qty
            for pid, qty in self._ds_int_items(post, "qty_").items()
            if str(qty).strip() not in ("", "0")
        }
        try:
            autoship = request.env["ds.autoship"].ds_portal_create(
                lines,
                interval_number=post.get("interval_number") or 1,
                interval_unit=post.get("interval_unit") or "month",
                next_date=post.get("next_date"),
                token_id=post.get("token_id"),
            )
        except (UserError, ValidationError) as error:
            request.env.cr.rollback()
            return self.ds_portal_autoship_new(error=error.args[0], **post)
        return request.redirect(f"/my/autoships/{autoship.id}?message=created")

    @route("/my/autoships/<int:autoship_id>", type="http", auth="user", website=True)
    def ds_portal_autoship(self, autoship_id, message=None, error=None, **kw):
        autoship = self._ds_autoship(autoship_id)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_autoship",
                "autoship": autoship,
                "lines": autoship.line_ids,
                "products": self._ds_products(),
                "tokens": self._ds_tokens(),
                "message": _messages().get(message),
                "error": error,
                "currency": autoship.currency_id,
                "runs": autoship.sudo().run_ids[:12],
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_autoship", values)

    @route(
        "/my/autoships/<int:autoship_id>/update",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def ds_portal_autoship_update(self, autoship_id, **post):
        autoship = self._ds_autoship(autoship_id)
        try:
            add = {}
            if post.get("add_product_id"):
                try:
                    add[int(post["add_product_id"])] = post.get("add_quantity") or 1
                except ValueError:
                    raise UserError(_("Choose a product to add.")) from None
            autoship.ds_portal_update(
                quantities=self._ds_int_items(post, "qty_"),
                add=add,
                next_date=post.get("next_date") or None,
                token_id=post.get("token_id") or None,
            )
        except AccessError:  # a line of another autoship (AccessError is a UserError)
            raise NotFound() from None
        except (UserError, ValidationError) as error:
            request.env.cr.rollback()
            return self.ds_portal_autoship(autoship_id, error=str(error.args[0]))
        return request.redirect(f"/my/autoships/{autoship.id}?message=updated")

    @route(
        "/my/autoships/<int:autoship_id>/<string:action>",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def ds_portal_autoship_action(self, autoship_id, action, **post):
        if action not in ACTIONS:
            raise NotFound()
        autoship = self._ds_autoship(autoship_id)
        method, message = ACTIONS[action]
        try:
            getattr(autoship, method)()
        except UserError as error:
            return self.ds_portal_autoship(autoship_id, error=error.args[0])
        return request.redirect(f"/my/autoships/{autoship.id}?message={message}")


def _messages():
    """The confirmations shown after an action (translated at render time)."""
    return {
        "created": _("Your autoship is set up."),
        "created_cart": _(
            "Your autoship is set up with the products of your cart. Your cart is kept: "
            "check it out to receive them now as well."
        ),
        "created_order": _(
            "Your autoship is set up: the products of your order will be ordered again "
            "on the dates below."
        ),
        "updated": _("Your changes are saved."),
        "skipped": _("The next order is skipped."),
        "paused": _("Your autoship is paused: nothing is ordered until you resume it."),
        "resumed": _("Your autoship is active again."),
        "cancelled": _(
            "Your autoship is cancelled. A confirmation was sent to you by mail."
        ),
    }
