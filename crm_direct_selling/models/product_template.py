from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# PV/BV per unit: never negative (a refund is what makes volume negative) and below
# this bound, far above any real product yet far from what sums of volumes can hold
DS_POINTS_MAX = 1e9


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

    @api.constrains("ds_pv", "ds_bv")
    def _check_ds_points(self):
        for product in self:
            for fname in ("ds_pv", "ds_bv"):
                value = product[fname]
                # written as a negation so that NaN fails too
                if not 0.0 <= value < DS_POINTS_MAX:
                    raise ValidationError(
                        _(
                            "%(field)s of product '%(product)s' must be at least 0 "
                            "and below %(max)s (got %(value)s).",
                            field=product._fields[fname].string,
                            product=product.display_name,
                            max=f"{DS_POINTS_MAX:,.0f}",
                            value=value,
                        )
                    )
