from odoo import fields, models


class DsDistributorPlace(models.TransientModel):
    _name = "ds.distributor.place"
    _description = "Place a Distributor in the Placement Tree"

    distributor_id = fields.Many2one("ds.distributor", required=True)
    current_parent_id = fields.Many2one(
        related="distributor_id.placement_parent_id", string="Current Placement"
    )
    parent_id = fields.Many2one(
        "ds.distributor",
        string="Place Under",
        domain="[('placement_path', '!=', False), ('id', '!=', distributor_id)]",
        help="Leave empty to make the distributor a root of the placement tree.",
    )
    slot = fields.Integer(
        aggregator=None,
        help="1 = left, 2 = right in a binary plan; 1..width in a matrix. 0: the first "
        "free slot.",
    )
    reason = fields.Text(required=True)

    def action_place(self):
        self.ensure_one()
        self.distributor_id.action_place(
            self.parent_id, slot=self.slot or False, reason=self.reason
        )
        return {"type": "ir.actions.act_window_close"}
