import base64

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.ds_access import ds_check_user

REPORT = "crm_direct_selling.action_report_ds_bonus_statement"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DsBonusStatement(models.TransientModel):
    """One earner's statement of one run: the summary PDF and the XLSX of every line."""

    _name = "ds.bonus.statement"
    _description = "Bonus Statement of an Earner"

    run_id = fields.Many2one("ds.bonus.run", required=True, ondelete="cascade")
    distributor_id = fields.Many2one("ds.distributor", string="Earner", required=True)
    line_count = fields.Integer(compute="_compute_line_count")

    @api.depends("run_id", "distributor_id")
    def _compute_line_count(self):
        counts = dict(
            self.env["ds.bonus.line"]._read_group(
                [
                    ("run_id", "in", self.run_id.ids),
                    ("distributor_id", "in", self.distributor_id.ids),
                ],
                ["distributor_id"],
                ["__count"],
            )
        )
        for wiz in self:
            wiz.line_count = counts.get(wiz.distributor_id, 0) if wiz.run_id else 0

    def _check_statement(self):
        self.ensure_one()
        ds_check_user(
            self.env, self.env._("read the statements of bonus runs"), self.run_id
        )
        if not self.line_count:
            raise UserError(
                self.env._(
                    "%(earner)s has no bonus line in run %(run)s: there is no statement.",
                    earner=self.distributor_id.display_name,
                    run=self.run_id.name,
                )
            )

    def action_print(self):
        """The summary PDF of this earner (one or two pages)."""
        self._check_statement()
        return self.env.ref(REPORT).report_action(
            self.run_id, data={"distributor_ids": [self.distributor_id.id]}
        )

    def action_export_xlsx(self):
        """Every line of this earner in the run, as XLSX (a download)."""
        self._check_statement()
        run, distributor = self.run_id, self.distributor_id
        attachment = self.env["ir.attachment"].create(
            {
                "name": "{}-{}.xlsx".format(
                    run.name.replace("/", "-"), distributor.code or distributor.id
                ),
                "datas": base64.b64encode(run._statement_xlsx_bytes(distributor)),
                "res_model": run._name,
                "res_id": run.id,
                "mimetype": XLSX_MIMETYPE,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
