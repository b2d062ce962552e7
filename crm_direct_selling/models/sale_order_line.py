from odoo import api, fields, models


class SaleOrderLine(models.Model):
    _name = "sale.order.line"
    _inherit = ["sale.order.line", "ds.points.line.mixin"]

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
