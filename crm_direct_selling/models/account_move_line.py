from odoo import _, api, fields, models
from odoo.exceptions import UserError


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ds_pv = fields.Float(
        string="PV",
        digits=(16, 2),
        compute="_compute_ds_points",
        store=True,
        help="Signed personal volume: negative on refunds.",
    )
    ds_bv = fields.Float(
        string="BV",
        digits=(16, 2),
        compute="_compute_ds_points",
        store=True,
        help="Signed bonus volume: negative on refunds.",
    )

    # product PV/BV changes do not rewrite history: only the line's own fields are dependencies
    @api.depends(
        "product_id", "quantity", "product_uom_id", "display_type", "move_id.move_type"
    )
    def _compute_ds_points(self):
        for line in self:
            move_type = line.move_id.move_type
            if (
                line.display_type != "product"
                or not line.product_id
                or move_type not in ("out_invoice", "out_refund")
            ):
                line.ds_pv = line.ds_bv = 0.0
                continue
            tmpl = line.product_id.product_tmpl_id
            qty = line.quantity
            if line.product_uom_id and line.product_uom_id != line.product_id.uom_id:
                qty = line.product_uom_id._compute_quantity(
                    qty, line.product_id.uom_id, round=False
                )
            sign = -1 if move_type == "out_refund" else 1
            line.ds_pv = sign * tmpl.ds_pv * qty
            line.ds_bv = sign * tmpl.ds_bv * qty

    def write(self, vals):
        # computed from the product and the quantity only: nobody sets them by hand
        # (the ORM's own recomputation does not go through write)
        points = [f for f in ("ds_pv", "ds_bv") if f in vals]
        if points and not self.env.su:
            raise UserError(
                _(
                    "%(fields)s of invoice lines are computed from the product and the "
                    "quantity: set them on the product.",
                    fields=" / ".join(self._fields[f].string for f in points),
                )
            )
        return super().write(vals)
