from odoo import fields, models

from ..tools.sqlparts import drop_derived_table_extras


class DsSegmentMember(models.Model):
    _name = "ds.segment.member"
    _description = "Segment Member (snapshot)"
    _order = "segment_id, partner_id"
    _rec_name = "partner_id"
    # the unique (parent, partner) index also serves lookups by parent: no separate index
    # snapshot rows written set-based by ds.segment.action_refresh() (up to millions): no
    # create/write user columns (two foreign-key checks per row); ds.segment.last_refresh dates them
    _log_access = False

    segment_id = fields.Many2one("ds.segment", required=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True
    )
    email = fields.Char(related="partner_id.email")
    country_id = fields.Many2one(related="partner_id.country_id")
    distributor_id = fields.Many2one(
        related="partner_id.ds_distributor_id", string="Distributor"
    )

    _sql_constraints = [
        (
            "segment_partner_uniq",
            "unique(segment_id, partner_id)",
            "A partner is listed once per segment.",
        ),
    ]

    def init(self):
        drop_derived_table_extras(self.env.cr, self._table)
