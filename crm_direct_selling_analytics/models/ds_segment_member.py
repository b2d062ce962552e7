from odoo import fields, models

from odoo.addons.crm_direct_selling.models.derived_table import (
    ensure_table,
)


class DsSegmentMember(models.Model):
    _name = "ds.segment.member"
    _description = "Segment Member (snapshot)"
    _order = "segment_id, partner_id"
    _rec_name = "partner_id"
    # snapshot rows written set-based by ds.segment.action_refresh() (up to millions): the table is
    # made by init() without foreign keys and without create/write user columns (crm_direct_selling's
    # derived_table.py: each foreign key costs a trigger call per inserted row);
    # ds.segment.last_refresh dates them. The ondelete='cascade' rules are applied by ds.segment
    # and res.partner unlink().
    _auto = False

    segment_id = fields.Many2one("ds.segment", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    email = fields.Char(related="partner_id.email")
    country_id = fields.Many2one(related="partner_id.country_id")
    distributor_id = fields.Many2one(
        related="partner_id.ds_distributor_id", string="Distributor"
    )

    def init(self):
        cr = self.env.cr
        # the unique (segment, partner) index serves lookups by segment (snapshot, mailings,
        # campaigns); the partner index serves res.partner unlink() and partner lookups.
        # Unique constraint under a new name: Odoo drops the former _sql_constraints one.
        ensure_table(
            cr,
            self._table,
            [("segment_id", "int4 NOT NULL"), ("partner_id", "int4 NOT NULL")],
            indexes=[("ds_segment_member__partner_id_index", ("partner_id",))],
            unique=[
                ("ds_segment_member_segment_partner_key", ("segment_id", "partner_id"))
            ],
        )
