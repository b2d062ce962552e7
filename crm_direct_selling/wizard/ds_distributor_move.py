from odoo import _, fields, models
from odoo.exceptions import UserError


class DsDistributorMove(models.TransientModel):
    _name = "ds.distributor.move"
    _description = "Move a Distributor in the Genealogy"

    distributor_id = fields.Many2one("ds.distributor", required=True)
    current_sponsor_id = fields.Many2one(
        related="distributor_id.sponsor_id", string="Current Sponsor"
    )
    new_sponsor_id = fields.Many2one(
        "ds.distributor",
        domain="[('state', '!=', 'terminated'), ('id', '!=', distributor_id)]",
        help="Leave empty to make the distributor a root of the genealogy.",
    )
    with_downline = fields.Boolean(
        default=True,
        help="Move the whole downline along. Otherwise the frontline rolls up "
        "to the current sponsor and the distributor moves alone.",
    )
    reason = fields.Text(required=True)

    def action_move(self):
        self.ensure_one()
        if self.new_sponsor_id == self.distributor_id.sponsor_id:
            raise UserError(_("The new sponsor is the current sponsor."))
        self.distributor_id.action_move(
            self.new_sponsor_id, with_downline=self.with_downline, reason=self.reason
        )
        return {"type": "ir.actions.act_window_close"}
