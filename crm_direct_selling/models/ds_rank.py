from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .derived_table import unlink_and_apply


class DsRank(models.Model):
    _name = "ds.rank"
    _description = "Distributor Rank"
    _order = "sequence, id"

    sequence = fields.Integer(default=10, required=True)
    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True)
    min_pv = fields.Float(
        string="Minimum PV", help="Personal volume required (0 = none)."
    )
    min_gv = fields.Float(string="Minimum GV", help="Group volume required (0 = none).")
    min_qualified_legs = fields.Integer(
        help="Number of frontline legs that must contain a distributor of at least the leg rank (0 = none)."
    )
    leg_rank_id = fields.Many2one(
        "ds.rank",
        help="A frontline leg qualifies when it contains at least one distributor whose paid-as rank "
        "is this rank or higher. Empty: a leg qualifies when it has any group volume.",
    )
    max_leg_pct = fields.Float(
        aggregator=None,
        string="Max Leg %",
        help="Cap of one leg's contribution to the GV requirement, in percent of the minimum GV (0 = no cap).",
    )
    paid_levels = fields.Integer(
        aggregator=None, help="Number of unilevel levels paid at this rank."
    )
    color = fields.Integer()
    pricelist_id = fields.Many2one(
        "product.pricelist",
        ondelete="set null",
        help="Pricelist of the distributors at this rank: when a period closes, every active "
        "distributor whose paid-as rank has a pricelist gets it (in the shop and on sale "
        "orders). A distributor whose rank has none keeps their pricelist.",
    )

    _sql_constraints = [
        ("min_pv_positive", "CHECK(min_pv >= 0)", "The minimum PV cannot be negative."),
        ("min_gv_positive", "CHECK(min_gv >= 0)", "The minimum GV cannot be negative."),
        (
            "legs_positive",
            "CHECK(min_qualified_legs >= 0)",
            "The number of legs cannot be negative.",
        ),
        (
            "max_leg_pct_range",
            "CHECK(max_leg_pct >= 0 AND max_leg_pct <= 100)",
            "The maximum leg percentage must be between 0 and 100.",
        ),
        (
            "paid_levels_positive",
            "CHECK(paid_levels >= 0)",
            "Paid levels cannot be negative.",
        ),
    ]

    @api.constrains("leg_rank_id", "sequence")
    def _check_leg_rank(self):
        for rank in self:
            if rank.leg_rank_id and rank.leg_rank_id.sequence >= rank.sequence:
                raise ValidationError(
                    _(
                        "Rank %(rank)s: the leg rank %(leg)s must be a lower rank (smaller sequence).",
                        rank=rank.name,
                        leg=rank.leg_rank_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        ranks = super().create(vals_list)
        if any(vals.get("pricelist_id") for vals in vals_list):
            self.env.registry.clear_cache()  # product.pricelist._ds_rank_pricelist_ids
        return ranks

    def write(self, vals):
        res = super().write(vals)
        if "pricelist_id" in vals:
            self.env.registry.clear_cache()  # product.pricelist._ds_rank_pricelist_ids
        return res

    def unlink(self):
        had_pricelist = bool(self.filtered("pricelist_id"))
        # ds.volume keeps no foreign keys (derived_table.py): its ondelete rules, by hand
        res = unlink_and_apply(
            self,
            super().unlink,
            [
                ("ds_volume", "paid_rank_id", "set null"),
                ("ds_volume", "next_rank_id", "set null"),
                ("ds_volume", "prior_highest_rank_id", "set null"),
            ],
        )
        if had_pricelist:
            self.env.registry.clear_cache()  # product.pricelist._ds_rank_pricelist_ids
        return res
