from odoo import _, api, fields, models
from odoo.exceptions import UserError


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    ds_pv = fields.Float(
        string="PV", digits=(16, 2), compute="_compute_ds_points", store=True
    )
    ds_bv = fields.Float(
        string="BV", digits=(16, 2), compute="_compute_ds_points", store=True
    )

    @api.depends("product_id", "product_uom_qty", "product_uom", "display_type")
    def _compute_ds_points(self):
        for line in self:
            if line.display_type or not line.product_id:
                line.ds_pv = line.ds_bv = 0.0
                continue
            tmpl = line.product_id.product_tmpl_id
            qty = line.product_uom_qty
            if line.product_uom and line.product_uom != line.product_id.uom_id:
                qty = line.product_uom._compute_quantity(
                    qty, line.product_id.uom_id, round=False
                )
            line.ds_pv = tmpl.ds_pv * qty
            line.ds_bv = tmpl.ds_bv * qty

    def write(self, vals):
        # computed from the product and the quantity only: nobody sets them by hand
        # (the ORM's own recomputation does not go through write)
        points = [f for f in ("ds_pv", "ds_bv") if f in vals]
        if points and not self.env.su:
            raise UserError(
                _(
                    "%(fields)s of order lines are computed from the product and the "
                    "quantity: set them on the product.",
                    fields=" / ".join(self._fields[f].string for f in points),
                )
            )
        return super().write(vals)
