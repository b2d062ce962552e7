from odoo import api, models


class ReportDsBonusStatement(models.AbstractModel):
    _name = "report.crm_direct_selling.report_ds_bonus_statement"
    _description = "Bonus Statement Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        """One summary statement (one or two pages) per earner of each run, from grouped
        queries (``ds.bonus.run.get_statement_summaries``); the line detail is the XLSX.
        ``data`` may restrict the earners: ``{'distributor_ids': [...]}`` (e.g. a portal
        user's own statement)."""
        runs = self.env["ds.bonus.run"].browse(docids)
        distributor_ids = (data or {}).get("distributor_ids")
        return {
            "doc_ids": docids,
            "doc_model": "ds.bonus.run",
            "docs": runs,
            "statements": runs.get_statement_summaries(distributor_ids),
        }
