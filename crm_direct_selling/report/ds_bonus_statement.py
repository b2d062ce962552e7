from odoo import api, models


class ReportDsBonusStatement(models.AbstractModel):
    _name = "report.crm_direct_selling.report_ds_bonus_statement"
    _description = "Bonus Statement Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        """One statement per earner of each run. ``data`` may restrict the earners:
        ``{'distributor_ids': [...]}`` (e.g. a portal user's own statement)."""
        runs = self.env["ds.bonus.run"].browse(docids)
        distributor_ids = (data or {}).get("distributor_ids")
        statements = []
        for run in runs:
            for distributor, lines in run.get_statement_data(distributor_ids).items():
                statements.append(
                    {
                        "run": run,
                        "distributor": distributor,
                        "lines": lines,
                        "total": sum(lines.mapped("amount")),
                        "paid": sum(
                            lines.filtered(lambda ln: not ln.carried_forward).mapped(
                                "amount"
                            )
                        ),
                        "carried": sum(
                            lines.filtered("carried_forward").mapped("amount")
                        ),
                        "moves": lines.move_id,
                    }
                )
        return {
            "doc_ids": docids,
            "doc_model": "ds.bonus.run",
            "docs": runs,
            "statements": statements,
        }
