from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import format_amount

from ..models.ds_bonus_line import BONUS_TYPES


class DsBonusRunCompare(models.TransientModel):
    _name = "ds.bonus.run.compare"
    _description = "Compare Bonus Runs"

    run_ids = fields.Many2many(
        "ds.bonus.run",
        string="Runs",
        help="Runs to compare side by side, e.g. the live run and simulations of other plans.",
    )
    top_count = fields.Integer("Top Earners", default=10)
    comparison_html = fields.Html(compute="_compute_comparison_html", sanitize=False)

    @api.depends("run_ids", "top_count")
    def _compute_comparison_html(self):
        for wiz in self:
            wiz.comparison_html = wiz._render_comparison()

    def _comparison_rows(self):
        """Rows (label, [value per run]) of the comparison, values already formatted."""
        runs = self.run_ids._origin  # the wizard's onchange holds new records
        fmt = lambda run, a: format_amount(self.env, a, run.currency_id)  # noqa: E731
        rows = [
            (self.env._("Plan"), [r.plan_id.name for r in runs]),
            (self.env._("Period"), [r.period_id.display_name for r in runs]),
            (
                self.env._("Type"),
                [
                    self.env._("Simulation") if r.simulation else self.env._("Live")
                    for r in runs
                ],
            ),
            (
                self.env._("Status"),
                [dict(r._fields["state"].selection)[r.state] for r in runs],
            ),
            (self.env._("Period BV"), [f"{r.period_bv:.2f}" for r in runs]),
            (self.env._("Payout ratio"), [f"{r.payout_ratio:.2f} %" for r in runs]),
            (self.env._("Cap factor"), [f"{r.cap_factor:.6f}" for r in runs]),
        ]
        for btype, label in BONUS_TYPES:
            rows.append((label, [fmt(r, r["amount_" + btype]) for r in runs]))
        rows += [
            (self.env._("Carried out"), [fmt(r, r.amount_carried_out) for r in runs]),
            (self.env._("Total paid"), [fmt(r, r.total_amount) for r in runs]),
            (self.env._("Paid distributors"), [str(r.paid_earner_count) for r in runs]),
        ]
        tops = [r._top_earners(self.top_count or 10) for r in runs]
        for i in range(self.top_count or 10):
            rows.append(
                (
                    self.env._("Top earner %s", i + 1),
                    [
                        f"{t[i][0].display_name}: {fmt(r, t[i][1])}"
                        if i < len(t)
                        else ""
                        for r, t in zip(runs, tops, strict=False)
                    ],
                )
            )
        return rows

    def _render_comparison(self):
        if not self.run_ids:
            return Markup("<p>%s</p>") % self.env._("Select the runs to compare.")
        head = Markup("").join(Markup("<th>%s</th>") % r.name for r in self.run_ids)
        body = Markup("")
        for label, values in self._comparison_rows():
            cells = Markup("").join(Markup("<td>%s</td>") % escape(v) for v in values)
            body += Markup("<tr><th>%s</th>%s</tr>") % (label, cells)
        return Markup(
            '<table class="table table-sm table-striped o_ds_run_compare">'
            "<thead><tr><th></th>%s</tr></thead><tbody>%s</tbody></table>"
        ) % (head, body)
