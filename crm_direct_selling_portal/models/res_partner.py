from odoo import fields, models
from odoo.tools import SQL


class ResPartner(models.Model):
    _inherit = "res.partner"

    ds_portal_message_opt_out = fields.Boolean(
        string="Opt Out of Leader Messages",
        help="The contact does not receive messages their upline leaders send from the portal.",
    )

    def init(self):
        res = super().init()
        # portal downline search (name ILIKE '%term%') on a 100,000-member subtree:
        # a trigram index on the names of distributors only (partial, small)
        cr = self.env.cr
        cr.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cr.fetchone():
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS res_partner_ds_portal_name_trgm_idx"
                    " ON res_partner USING gin (name gin_trgm_ops)"
                    " WHERE ds_distributor_id IS NOT NULL"
                )
            )
        return res
