from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare


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
        points = [f for f in ("ds_pv", "ds_bv") if f in vals]
        if points and not self.env.su:
            self._ds_check_points_written(vals, points)
        return super().write(vals)

    def _ds_check_points_written(self, vals, points):
        """PV/BV are computed from the product and the quantity: a write may store what
        the computation gives (the computation itself writes so when it is called
        outside a recomputation), nothing else: no PV typed by hand or sent by RPC."""
        wrong = set()
        for line in self:
            # the computation on a copy in memory: nothing of the line itself changes
            probe = line.new(origin=line)
            probe._compute_ds_points()
            for fname in points:
                try:
                    value = float(vals[fname] or 0.0)
                except (TypeError, ValueError):
                    wrong.add(fname)
                    continue
                if float_compare(probe[fname], value, precision_digits=2):
                    wrong.add(fname)
        wrong = [f for f in points if f in wrong]
        if wrong:
            raise UserError(
                _(
                    "%(fields)s of order lines are computed from the product and the "
                    "quantity: set them on the product.",
                    fields=" / ".join(self._fields[f].string for f in wrong),
                )
            )
