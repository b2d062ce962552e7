from odoo import api, fields, models


class AccountMoveLine(models.Model):
    _name = "account.move.line"
    _inherit = ["account.move.line", "ds.points.line.mixin"]

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
