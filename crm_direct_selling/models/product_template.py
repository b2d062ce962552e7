from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    ds_pv = fields.Float(
        string="PV", digits=(16, 2), help="Personal volume points per unit sold."
    )
    ds_bv = fields.Float(
        string="BV",
        digits=(16, 2),
        help="Bonus volume per unit sold (commissionable value).",
    )
