from odoo import models
from odoo.tools import SQL

# the analytics derived tables that point to partners, with the column that, with the
# partner, makes a row unique
PARTNER_TABLES = (
    ("ds_segment_member", "segment_id"),
    ("ds_campaign_member", "campaign_id"),
    ("ds_partner_rfm", "company_id"),
    ("ds_partner_clv", "company_id"),
)


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        """Odoo moves every foreign key of the merged partners to the destination; the
        analytics derived tables keep none (crm_direct_selling's derived_table.py), so their
        rows are moved here. Per segment / campaign / company, the destination keeps its own
        row; when it has none, the first source row (by id) becomes its row (a campaign member
        keeps its group). The source rows left are deleted with the source partners."""
        res = super()._update_foreign_keys(src_partners, dst_partner)
        cr = self.env.cr
        for table, key in PARTNER_TABLES:
            cr.execute(
                SQL(
                    """UPDATE %(table)s t SET partner_id = %(dst)s
                   FROM (SELECT DISTINCT ON (s.%(key)s) s.id
                           FROM %(table)s s
                          WHERE s.partner_id = ANY(%(src)s)
                            AND NOT EXISTS (SELECT 1 FROM %(table)s d
                                             WHERE d.partner_id = %(dst)s
                                               AND d.%(key)s = s.%(key)s)
                          ORDER BY s.%(key)s, s.id) pick
                  WHERE t.id = pick.id""",
                    table=SQL.identifier(table),
                    key=SQL.identifier(key),
                    src=src_partners.ids,
                    dst=dst_partner.id,
                )
            )
        for model in (
            "ds.segment.member",
            "ds.campaign.member",
            "ds.partner.rfm",
            "ds.partner.clv",
        ):
            self.env[model].invalidate_model(["partner_id"])
        return res
