from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .ds_access import DS_MANAGER, ds_has_group

# PV/BV per unit: never negative (a refund is what makes volume negative) and below
# this bound, far above any real product yet far from what sums of volumes can hold
DS_POINTS_MAX = 1e9
DS_POINTS_MAX_TEXT = f"{DS_POINTS_MAX:,.0f}"


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
                            max=DS_POINTS_MAX_TEXT,
                            value=value,
                        )
                    )

    # ------------------------------------------------------------------ access
    @api.model_create_multi
    def create(self, vals_list):
        self._ds_check_volume_access(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._ds_check_volume_access([vals])
        return super().write(vals)

    def _ds_check_volume_access(self, vals_list):
        """PV and BV drive volumes, ranks and bonuses: only Direct Selling managers set
        them (a product created with zero PV/BV, or a write keeping them, is anyone's)."""
        if ds_has_group(self.env, DS_MANAGER):
            return
        for vals in vals_list:
            for fname in ("ds_pv", "ds_bv"):
                if fname not in vals:
                    continue
                value = float(vals[fname] or 0.0)
                current = set(self.mapped(fname)) if self else {0.0}
                if current != {value}:
                    raise AccessError(
                        self.env._(
                            "Only Direct Selling managers can set the %(field)s of products "
                            "(user %(user)s).",
                            field=self._fields[fname].string,
                            user=self.env.user.name,
                        )
                    )
