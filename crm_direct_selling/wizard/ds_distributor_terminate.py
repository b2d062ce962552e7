from odoo import fields, models


class DsDistributorTerminate(models.TransientModel):
    _name = "ds.distributor.terminate"
    _description = "Terminate a Distributor"

    distributor_id = fields.Many2one("ds.distributor", required=True)
    rollup_target_id = fields.Many2one(
        "ds.distributor",
        string="Frontline Rolls Up To",
        compute="_compute_rollup_target_id",
    )
    frontline_count = fields.Integer(related="distributor_id.frontline_count")
    reason = fields.Text(required=True)

    def _compute_rollup_target_id(self):
        for wiz in self:
            wiz.rollup_target_id = (
                wiz.distributor_id._ds_next_active_upline()
                if wiz.distributor_id
                else False
            )

    def action_terminate(self):
        self.ensure_one()
        self.distributor_id.action_terminate(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
