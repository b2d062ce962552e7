from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools import float_compare


class DsPointsLineMixin(models.AbstractModel):
    """PV/BV of order and invoice lines are computed from the product and the quantity
    (``_compute_ds_points`` of the line model): a write may store what the computation gives
    (the computation itself writes so when it is called outside a recomputation), nothing else:
    no PV typed by hand or sent over JSON-RPC."""

    _name = "ds.points.line.mixin"
    _description = "Computed PV/BV of a line"

    def write(self, vals):
        points = [f for f in ("ds_pv", "ds_bv") if f in vals]
        if points and not self.env.su:
            self._ds_check_points_written(vals, points)
        return super().write(vals)

    def _ds_check_points_written(self, vals, points):
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
                    "%(fields)s of %(lines)s are computed from the product and the "
                    "quantity: set them on the product.",
                    fields=" / ".join(self._fields[f].string for f in wrong),
                    lines=self._description,
                )
            )
