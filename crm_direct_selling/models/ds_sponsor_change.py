from odoo import fields, models


class DsSponsorChange(models.Model):
    _name = "ds.sponsor.change"
    _description = "Genealogy Change"
    _order = "date desc, id desc"

    distributor_id = fields.Many2one(
        "ds.distributor", required=True, index=True, ondelete="cascade"
    )
    old_sponsor_id = fields.Many2one("ds.distributor", ondelete="set null")
    new_sponsor_id = fields.Many2one("ds.distributor", ondelete="set null")
    change_type = fields.Selection(
        [
            ("move", "Move (without downline)"),
            ("move_with_downline", "Move with downline"),
            ("rollup", "Roll-up to sponsor"),
            ("termination", "Termination"),
            ("termination_rollup", "Termination roll-up"),
            ("manual", "Manual change"),
            ("suspension", "Suspension"),
            ("reactivation", "Reactivation"),
            ("placement", "Placement"),
            ("placement_auto", "Placement by the rule"),
            ("placement_move", "Placement move"),
        ],
        required=True,
    )
    tree = fields.Selection(
        [("sponsor", "Sponsor tree"), ("placement", "Placement tree")],
        default="sponsor",
        required=True,
        index=True,
        help="Sponsor tree: old and new sponsor. Placement tree: old and new placement parent.",
    )
    placement_slot = fields.Integer(
        aggregator=None,
        help="The slot under the new placement parent (placement tree).",
    )
    reason = fields.Text()
    user_id = fields.Many2one(
        "res.users", default=lambda self: self.env.user, required=True
    )
    date = fields.Datetime(default=fields.Datetime.now, required=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
